# The two commands: `make run` sets up and starts the system; `make test` sets up and runs every test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run setup test stop status bench clean

run: setup
	bash deployment/startup.sh

stop:
	bash deployment/stop.sh

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[orchestrator,rapidocr,tesseract,test]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) bench/orchestrator_overhead.py
	$(PY) bench/rapidocr_throughput.py
	$(PY) bench/deepseek_batching.py
	$(PY) bench/pdf_text_layer.py
	$(PY) bench/pdf_dispatch.py
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) logs run
