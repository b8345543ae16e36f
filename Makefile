# The two commands: `make run` sets up and starts the system; `make test` sets up and runs every test.
# `make test-fast` is the inner loop: lint, type checks and the unit tests, no process started.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The main venv's extras come from the catalogue of services (deployment/services.toml).
EXTRAS := $(shell $(PYTHON) -m shared.catalogue main-extras)
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml deployment/services.toml | cksum | cut -d' ' -f1)
# The web client (React + Vite): `npm ci` when the lock file changes, a build when a source changes.
WEB := web-client
WEB_SOURCES := $(shell find $(WEB)/src -type f 2>/dev/null) $(WEB)/index.html $(WEB)/docs.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json
# Debian packages: what setup needs (npm builds the web client), what the tests need (the browser
# tests' Chromium, the scripts' shellcheck). Installed when run as root, else the command is printed.
SYSTEM_PACKAGES := bash deployment/system-packages.sh

.PHONY: run setup system-setup lint test test-fast stop status bench clean

run: setup
	bash deployment/setup.sh
	$(PY) -m orchestrator.sample_set data/sample-set
	bash deployment/startup.sh

stop:
	bash deployment/stop.sh

status:
	bash deployment/status.sh

setup: system-setup $(STAMP) $(WEB)/dist/index.html

system-setup:
	@$(SYSTEM_PACKAGES) npm nginx

$(STAMP): pyproject.toml deployment/services.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS),client,test]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	cd $(WEB) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

$(WEB)/dist/index.html: $(WEB)/node_modules/.package-lock.json $(WEB_SOURCES)
	cd $(WEB) && npm run build

# ruff (lint, import order, format) and mypy, configured in pyproject.toml.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: setup lint
	@$(SYSTEM_PACKAGES) chromium shellcheck nginx
	cd $(WEB) && npm test
	$(PY) -m pytest

test-fast: setup lint
	@$(SYSTEM_PACKAGES) shellcheck
	$(PY) -m pytest tests/unit -q

bench: setup
	$(PY) bench/orchestrator_overhead.py
	$(PY) bench/rapidocr_throughput.py
	$(PY) bench/deepseek_batching.py
	$(PY) bench/pdf_text_layer.py
	$(PY) bench/pdf_dispatch.py
	$(PY) bench/replica_routing.py
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) logs run $(WEB)/node_modules $(WEB)/dist
