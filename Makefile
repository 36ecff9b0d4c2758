# The two commands a newcomer needs: `make run` (start the app on the bundled Qujiang data)
# and `make test` (lint, type-check and run the whole test suite). Both install what they need
# into a virtual environment (.venv), so a stock Debian's system python3 (PEP 668) works too.
SYSTEM_PYTHON ?= python3
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip --disable-pip-version-check
PORT ?= 8501
DEBIAN_PACKAGES = chromium fonts-noto-cjk poppler-utils libreoffice-writer-nogui
# the venv's scripts (the `qjgeo` command) come first on PATH for the tests
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: run test install install-dev system-deps lint typecheck pytest bench data

# Debian ships venv/ensurepip separately (python3-venv); installed only when missing.
$(PYTHON):
	@$(SYSTEM_PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
	$(SYSTEM_PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(PYTHON)
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -e .

install-dev: install
	$(PIP) install --quiet -r requirements-dev.txt

# Debian packages the tests use: headless Chromium (browser test), Noto CJK fonts (Chinese map
# labels), poppler-utils (PDF checks), libreoffice-writer-nogui (the evaluation report .docx is
# converted to PDF in a test: `soffice --headless`). Installed only when missing.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null || ! command -v soffice >/dev/null || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; \
	fi

run: install
	$(PYTHON) -m streamlit run app.py --server.headless true --server.port $(PORT) --browser.gatherUsageStats false

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

typecheck:
	$(PYTHON) -m mypy qjgeo

pytest:
	$(PYTHON) -m pytest -q -p no:cacheprovider

test: system-deps install-dev lint typecheck pytest

bench: install-dev
	$(PYTHON) bench/run_all.py

data:
	$(PYTHON) tools/build_qujiang.py
