# The two commands: `make run` sets up and starts the system; `make test` sets up and runs every test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The web client (React + Vite): `npm ci` when the lock file changes, a build when a source changes.
WEB := web-client
WEB_SOURCES := $(shell find $(WEB)/src -type f 2>/dev/null) $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json

.PHONY: run setup test stop status bench clean

run: setup
	bash deployment/setup.sh
	bash deployment/startup.sh

stop:
	bash deployment/stop.sh

status:
	bash deployment/status.sh

setup: $(STAMP) $(WEB)/dist/index.html

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[orchestrator,rapidocr,tesseract,test]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	cd $(WEB) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

$(WEB)/dist/index.html: $(WEB)/node_modules/.package-lock.json $(WEB_SOURCES)
	cd $(WEB) && npm run build

test: setup
	cd $(WEB) && npm test
	$(PY) -m pytest

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
