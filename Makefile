# The README's two commands: `make demo` runs the main job, `make test` the whole suite.
# Each creates the virtualenv it needs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-minimum lint typecheck pytest bench generate check-generated clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: lint typecheck check-generated pytest

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests examples bench
	$(BIN)/ruff format --check toolkit tests examples bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict toolkit

pytest: $(STAMP)
	$(BIN)/pytest -q

# The fast suite against the oldest library releases pyproject.toml allows
# (.ci/minimum-versions.txt), in a virtualenv of its own.
MIN_VENV ?= .venv-minimum
MIN_STAMP := $(MIN_VENV)/.installed

$(MIN_STAMP): pyproject.toml .ci/minimum-versions.txt
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/pip install --quiet --upgrade pip
	$(MIN_VENV)/bin/pip install --quiet -e '.[dev]' -c .ci/minimum-versions.txt
	touch $(MIN_STAMP)

test-minimum: $(MIN_STAMP)
	$(MIN_VENV)/bin/pytest -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m bench

# Regenerate the committed dashboards/ and alert-rules/ for the example catalog.
generate: $(STAMP)
	$(BIN)/toolkit generate examples/services.yaml --out .

check-generated: $(STAMP)
	$(BIN)/toolkit generate examples/services.yaml --out . --check

clean:
	rm -rf $(VENV) $(MIN_VENV) build dist .pytest_cache .mypy_cache .ruff_cache
