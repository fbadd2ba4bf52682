# The two commands: `make run` and `make test`. Everything else is a helper of theirs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Two install stamps: what running needs (run, bench), and that plus the test tools (test).
# A first `make run` installs no pytest, playwright, hypothesis or schemathesis.
# --no-compile: pip would byte-compile every file of every package (~40 s of a first run);
# Python compiles, and caches, only the modules a process imports, when it imports them.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
HOST ?= 127.0.0.1
PORT ?= 8050

# The page's translations (layouts/i18n.py): .po files are committed, .mo files are compiled
# here (pybabel compile) and never committed; see CONTRIBUTING.md, «Wording on the page».
LOCALES := layouts/locale
PYBABEL := $(VENV)/bin/pybabel
PO_FILES := $(wildcard $(LOCALES)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
EXTRACT_FLAGS := -F babel.cfg -k N_ -k T --no-wrap --sort-by-file --project ai-usage-dashboard

.PHONY: install run test lint bench bench-anomalies loadtest clean messages catalogues

# The price catalogue (genai_prices/data.py, 1.6 MB of Python) is byte-compiled here, once: a
# process that may not write bytecode (PYTHONDONTWRITEBYTECODE=1, as on some machines and
# images) compiled it again at its first price lookup, ~68 MB of peak memory in every worker
# (docs/measurements.md, «a thirty-first machine»). The rest compiles on import, module by module.
# The stamp follows this file too, so an existing venv gets the step when the recipe changes.
$(RUN_STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-compile -e .
	$(PY) -m compileall -q "$$($(PY) -c 'import genai_prices, os; print(os.path.dirname(genai_prices.__file__))')"
	touch $@

$(TEST_STAMP): $(RUN_STAMP)
	$(PY) -m pip install --quiet --no-compile -e '.[test]'
	touch $@

## make install: everything, test tools included (what `make test` uses).
install: $(TEST_STAMP) catalogues

## make catalogues: compile every .po into the .mo the page reads.
catalogues: $(MO_FILES)

$(LOCALES)/%/LC_MESSAGES/messages.mo: $(LOCALES)/%/LC_MESSAGES/messages.po $(RUN_STAMP)
	$(PYBABEL) -q compile -i $< -o $@ -l $*

## make messages: extract every marked string into messages.pot and merge it into each .po
## (new strings arrive with an empty msgstr: translate them, then `make catalogues`).
messages: $(RUN_STAMP)
	$(PYBABEL) extract $(EXTRACT_FLAGS) -o $(LOCALES)/messages.pot .
	$(PYBABEL) update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages --no-wrap --ignore-obsolete

## make run: venv, install, migrations, demo data (when the database is empty), serve.
run: $(RUN_STAMP) catalogues
	$(VENV)/bin/ai-usage init-db
	$(VENV)/bin/ai-usage demo-data --if-empty
	$(VENV)/bin/ai-usage serve --demo --host $(HOST) --port $(PORT)

## make test: venv, install, the whole suite (PostgreSQL and browser tests required under CI=true).
## Parallel with pytest-xdist: TEST_WORKERS processes (auto: one per core, at most 4), each test
## file whole on one worker (--dist loadfile: module fixtures such as a served app, a browser or a
## loaded data set are made once). `make test TEST_WORKERS=0` runs it in one process.
## PYTHONDONTWRITEBYTECODE is cleared for the run: with it set (as on some machines) and a venv
## installed with --no-compile, every process (each worker, each served subprocess, each
## spawned refresh) compiled pandas, scipy, plotly and dash from source again, ~2.5 s apiece.
TEST_WORKERS ?= auto
test: $(TEST_STAMP) catalogues
	if [ "$$CI" = true ]; then $(MAKE) lint; fi
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n $(TEST_WORKERS) --maxprocesses 4 --dist loadfile

## make lint: ruff (lint, then the format check) and mypy, configured in pyproject.toml.
lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## make bench: the scale benchmark (see README).
bench: $(RUN_STAMP)
	$(VENV)/bin/ai-usage bench $(BENCH_ARGS)

## make bench-anomalies: the anomaly detector's precision and recall on generated series (docs/anomalies.md).
## ANOMALY_BENCH_ARGS="--model mad|stl|both --seeds 40 --no-db"
bench-anomalies: $(RUN_STAMP)
	$(PY) -m ai_usage.bench_anomalies $(ANOMALY_BENCH_ARGS)

clean:
	rm -rf $(VENV) data test-artifacts

## make loadtest: Locust, headless, against a server already running on 127.0.0.1 (see docs/operations.md).
## LOADTEST_ARGS="--scenario refresh|same|mix --users 20 --orgs bench --run-time 60s"
LOADTEST_STAMP := $(VENV)/.installed-loadtest
$(LOADTEST_STAMP): $(RUN_STAMP)
	$(PY) -m pip install --quiet --no-compile -e '.[loadtest]'
	touch $@

loadtest: $(LOADTEST_STAMP)
	$(PY) scripts/loadtest.py --host http://$(HOST):$(PORT) $(LOADTEST_ARGS)
