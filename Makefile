# The two commands a newcomer needs: `make run` (start the app on the bundled Qujiang data)
# and `make test` (lint, type-check and run the whole test suite). Both install what they need
# into the project's virtual environment (.venv) -- or into the one already active
# ($VIRTUAL_ENV) -- so a stock Debian's /usr/bin/python3 (PEP 668) works too.
# PYTHON: the interpreter that creates .venv (e.g. `make run PYTHON=/usr/bin/python3`).
PYTHON ?= python3
VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
VPY := $(VENV)/bin/python
PIP := $(VPY) -m pip --disable-pip-version-check
PORT ?= 8501
DEBIAN_PACKAGES = chromium fonts-noto-cjk poppler-utils libreoffice-writer-nogui
# the venv's scripts (the `qjgeo` command) come first on PATH for the tests
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: run test install install-dev system-deps lint typecheck pytest bench data

# Debian ships venv/ensurepip separately (python3-venv); installed only when missing.
$(VPY):
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(VPY)
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
	$(VPY) -m streamlit run app.py --server.headless true --server.port $(PORT) --browser.gatherUsageStats false

lint:
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .

typecheck:
	$(VPY) -m mypy qjgeo

pytest:
	$(VPY) -m pytest -q -p no:cacheprovider

test: system-deps install-dev lint typecheck pytest

bench: install-dev
	$(VPY) bench/run_all.py

data:
	$(VPY) tools/build_qujiang.py
