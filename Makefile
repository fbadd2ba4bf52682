# The two commands: `make run` and `make test`. Everything else is a helper of theirs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make run: venv, install, migrations, demo data (when the database is empty), serve.
run: install
	$(VENV)/bin/ai-usage init-db
	$(VENV)/bin/ai-usage demo-data --if-empty
	$(VENV)/bin/ai-usage serve --demo --host $(HOST) --port $(PORT)

## make test: venv, install, the whole suite (PostgreSQL and browser tests required under CI=true).
test: install
	if [ "$$CI" = true ]; then $(MAKE) lint; fi
	$(PY) -m pytest

## make lint: ruff (lint, then the format check) and mypy, configured in pyproject.toml.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## make bench: the scale benchmark (see README).
bench: install
	$(VENV)/bin/ai-usage bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data test-artifacts
