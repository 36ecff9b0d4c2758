# The two commands a newcomer needs: `make run` (start the app on the bundled Qujiang data)
# and `make test` (lint, type-check and run the whole test suite). Both install what they need.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
PORT ?= 8501
DEBIAN_PACKAGES = chromium fonts-noto-cjk poppler-utils

.PHONY: run test install install-dev system-deps lint typecheck pytest bench data

install:
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	$(PIP) install --quiet --disable-pip-version-check --no-deps -e .

install-dev: install
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt

# Debian packages the tests use: headless Chromium (browser test), Noto CJK fonts (Chinese map
# labels), poppler-utils (PDF checks). Installed only when missing.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then \
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
