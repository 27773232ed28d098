# The one entry point on a fresh machine: `make demo` runs the ledger, `make test` checks it.
# Everything runs from the checkout's own virtual environment in .venv.

VENV := .venv
PYTHON := $(VENV)/bin/python
LEDGER := $(VENV)/bin/ledger
DEMO_DB := demo/ledger.db

# The persons whose projections `make demo` prints: status, sanctions and history come from the
# cases in fixtures/cases.ndjson, so these must name persons in that file.
DEMO_PERSON ?= P-KBH-0001
DEMO_SANCTIONS_PERSON ?= P-KBH-0002

.PHONY: venv install install-dev lint typecheck pytest pytest-fast test test-fast demo clean

venv: $(PYTHON)

$(PYTHON):
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

lint: install-dev
	$(VENV)/bin/ruff check .

typecheck: install-dev
	$(VENV)/bin/mypy

pytest: install-dev
	$(VENV)/bin/pytest -q

test: lint typecheck pytest

# The same without the tests marked slow (each over about five seconds: crashes, faults, the
# bench, the eight writers); `make test` runs them all.
pytest-fast: install-dev
	$(VENV)/bin/pytest -q -m "not slow"

test-fast: lint typecheck pytest-fast

demo: install
	rm -rf demo && mkdir demo
	$(LEDGER) --db $(DEMO_DB) append fixtures/cases.ndjson
	$(LEDGER) --db $(DEMO_DB) verify
	$(LEDGER) --db $(DEMO_DB) status $(DEMO_PERSON)
	$(LEDGER) --db $(DEMO_DB) sanctions $(DEMO_SANCTIONS_PERSON)
	$(LEDGER) --db $(DEMO_DB) history $(DEMO_PERSON)

clean:
	rm -rf demo build .pytest_cache .mypy_cache .ruff_cache *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
