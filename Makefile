# The README's two commands: `make demo` runs the main job, `make test` the whole suite.
# Each creates the virtualenv it needs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-minimum test-latest lint typecheck pytest bench generate check-generated clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench,realapps]'
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

# The fast suite against the newest releases, pre-releases included, of the libraries
# toolkit builds on: every opentelemetry-* distribution installed, prometheus-client and
# structlog. The stamp covers the virtualenv and the project's install; the upgrade runs
# on every `make test-latest`, so each run tries what was released since the last one.
# With it, the slow tests marked `prometheus` (the generated rules and alerts with a real
# Prometheus, promtool or Alertmanager), all of them against the newest releases Debian
# has (.ci/newest-prometheus: its unstable suite, fetched into $(PROM_LATEST)/root on
# every run, nothing installed) first on PATH.
LATEST_VENV ?= .venv-latest
LATEST_STAMP := $(LATEST_VENV)/.installed
LATEST_PACKAGES := prometheus-client structlog
PROM_LATEST ?= .prometheus-latest

$(LATEST_STAMP): pyproject.toml
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/pip install --quiet --upgrade pip
	$(LATEST_VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(LATEST_STAMP)

test-latest: $(LATEST_STAMP)
	otel=$$($(LATEST_VENV)/bin/pip list --format=freeze \
		| sed -n 's/^\(opentelemetry[-_][^=]*\)==.*/\1/p') && \
	$(LATEST_VENV)/bin/pip install --quiet --pre --upgrade $$otel $(LATEST_PACKAGES)
	$(LATEST_VENV)/bin/pip list | grep -i -E '^(opentelemetry[-_]|prometheus[-_]client |structlog )'
	.ci/newest-prometheus $(PROM_LATEST)
	PATH="$(abspath $(PROM_LATEST))/root/usr/bin:$$PATH" $(LATEST_VENV)/bin/pytest -q -m "not slow or prometheus"

# The fast suite under other Pythons, each in .venv-py<version>/ made with that
# interpreter (.ci/find-python: pyenv's newest build of it, else python3.X on PATH):
# `make test-py310`, `make test-py313`, or any other `make test-py3XX`. PY_VERSIONS are
# the oldest Python pyproject.toml's requires-python allows and the newest CI has.
PY_VERSIONS ?= 310 313
PY_TARGETS := $(sort $(PY_VERSIONS:%=test-py%) $(filter test-py%,$(MAKECMDGOALS)))
.PHONY: test-pythons $(PY_TARGETS)

test-pythons: $(PY_VERSIONS:%=test-py%)

$(PY_TARGETS:test-py%=.venv-py%/.installed): .venv-py%/.installed: pyproject.toml
	python=$$(.ci/find-python $*) && \
	echo "$@: $$python ($$($$python -V))" && \
	$$python -m venv .venv-py$*
	.venv-py$*/bin/pip install --quiet --upgrade pip
	.venv-py$*/bin/pip install --quiet -e '.[dev]'
	touch $@

$(PY_TARGETS): test-py%: .venv-py%/.installed
	.venv-py$*/bin/python -V
	.venv-py$*/bin/pytest -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m bench

# Regenerate the committed dashboards/ and alert-rules/ for the example catalog.
generate: $(STAMP)
	$(BIN)/toolkit generate examples/services.yaml --out .

check-generated: $(STAMP)
	$(BIN)/toolkit generate examples/services.yaml --out . --check

clean:
	rm -rf $(VENV) $(MIN_VENV) $(LATEST_VENV) $(PROM_LATEST) .venv-py3* build dist .pytest_cache .mypy_cache \
		.ruff_cache
