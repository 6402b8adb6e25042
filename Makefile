# The colorization study, end to end.
#   make reproduce [PROFILE=smoke|cpu|paper] [DATA=bundled|paper|folder:PATH|pexels]
#   make test
SHELL := /bin/bash
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help

PROFILE ?= cpu
DATA ?= bundled
PYTHON ?= python3.11
REPORTS ?= reports

# An active virtualenv or (non-base) conda environment is used as it is; otherwise .venv is made.
ifneq ($(VIRTUAL_ENV),)
  ENV_DIR := $(VIRTUAL_ENV)
else ifneq ($(filter-out base,$(CONDA_DEFAULT_ENV)),)
  ENV_DIR := $(CONDA_PREFIX)
else
  ENV_DIR := .venv
endif
PY := $(ENV_DIR)/bin/python
ENV_STAMP := $(ENV_DIR)/.colorize_lib-installed

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NAMES := $(notdir $(basename $(NOTEBOOKS)))
EXECUTED := $(NAMES:%=$(REPORTS)/notebooks/%.ipynb)
HTML := $(NAMES:%=$(REPORTS)/%.html)
LIB := $(wildcard colorize_lib/*.py colorize_lib/*/*.py)
SETTINGS := $(REPORTS)/.settings
# The notebooks write through colorize_lib.paths, which follows this variable.
export COLORIZE_REPORTS_DIR := $(abspath $(REPORTS))

.PHONY: help env reproduce test bench clean clean-all lab FORCE

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  variables: PROFILE=$(PROFILE) (smoke|cpu|paper)  DATA=$(DATA) (bundled|paper|folder:PATH|pexels)"

env: $(ENV_STAMP)  ## create .venv (unless an environment is active) and install the project

$(ENV_STAMP): pyproject.toml
	@if [ "$(ENV_DIR)" = ".venv" ] && [ ! -x .venv/bin/python ]; then \
	  command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or set PYTHON=..." >&2; exit 1; }; \
	  $(PYTHON) -m venv .venv; fi
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

reproduce: $(HTML) $(REPORTS)/index.html  ## run every notebook (PROFILE, DATA) and render reports/
	@echo "reports written: $(REPORTS)/index.html (profile $(PROFILE), data $(DATA))"

# Rewritten only when PROFILE or DATA change, so switching either reruns every notebook.
$(SETTINGS): FORCE
	@mkdir -p $(dir $@)
	@echo "PROFILE=$(PROFILE) DATA=$(DATA)" | cmp -s - $@ 2>/dev/null || echo "PROFILE=$(PROFILE) DATA=$(DATA)" > $@

# papermill writes its output even when a cell fails: run into a .partial file, keep a failed run as
# NAME.failed.ipynb for reading, and only a complete run gets the real name make checks.
$(REPORTS)/notebooks/%.ipynb: notebooks/%.ipynb $(LIB) $(SETTINGS) | $(ENV_STAMP)
	@mkdir -p $(dir $@)
	@rm -f $(REPORTS)/notebooks/$*.failed.ipynb
	@echo "== running notebook $< (profile $(PROFILE), data $(DATA))"
	@$(PY) -m papermill $< $@.partial -k python3 --cwd notebooks --log-output --no-progress-bar \
	    -p profile $(PROFILE) -p data '$(DATA)' >$@.log 2>&1 \
	  || { tail -n 40 $@.log; mv -f $@.partial $(REPORTS)/notebooks/$*.failed.ipynb 2>/dev/null; \
	       echo "error: notebook $< failed; executed copy: $(REPORTS)/notebooks/$*.failed.ipynb, log: $@.log" >&2; exit 1; }
	@grep -E "epoch [0-9]+/|resuming" $@.log | sed 's/^.*INFO - //' || true
	@mv -f $@.partial $@

# Offline HTML: code hidden, figures inlined, nothing fetched from the web (colorize_lib.htmlreport).
$(REPORTS)/%.html: $(REPORTS)/notebooks/%.ipynb | $(ENV_STAMP)
	@$(PY) -m colorize_lib.htmlreport $< $@

# Notebook 01 prepares the data the others use; 08 summarises them all.
$(filter-out $(REPORTS)/notebooks/01_data.ipynb,$(EXECUTED)): $(REPORTS)/notebooks/01_data.ipynb
$(REPORTS)/notebooks/08_summary.ipynb: $(filter-out $(REPORTS)/notebooks/08_summary.ipynb,$(EXECUTED))

$(REPORTS)/index.html: $(HTML) | $(ENV_STAMP)
	@$(PY) -m colorize_lib.reports index

test: $(ENV_STAMP)  ## run the test suite (unit tests and every notebook on the smoke profile)
	$(PY) -m pytest -q

bench: $(ENV_STAMP)  ## print the benchmarks' figures (CPU)
	$(PY) bench/engine_overhead.py
	$(PY) bench/data_throughput.py

lab: $(ENV_STAMP)  ## open the notebooks in JupyterLab
	$(PY) -m jupyter lab notebooks/

clean:  ## remove generated reports (keeps cached data and checkpoints)
	rm -rf $(addprefix $(REPORTS)/,notebooks figures tables runs *.html .settings .html-partial check .previous)

clean-all: clean  ## also remove cached data and checkpoints
	rm -rf data/cache data/checkpoints

# Reports that read offline, checked in a browser, and what changed since the last run.
.PHONY: check-reports diff
check-reports: | $(ENV_STAMP)  ## open every report in headless Chromium: fail on errors, web requests, broken images
	$(PY) -m colorize_lib.reportcheck $(REPORTS)

diff: | $(ENV_STAMP)  ## what changed since the previous run: nbdiff of outputs, numbers that moved in the tables
	$(PY) -m colorize_lib.rundiff diff $(REPORTS)

# Before any notebook reruns, keep the current results in $(REPORTS)/previous/ (once per change of inputs).
$(REPORTS)/.previous: $(NOTEBOOKS) $(LIB) $(SETTINGS) | $(ENV_STAMP)
	@$(PY) -m colorize_lib.rundiff keep $(REPORTS)
	@touch $@
$(EXECUTED): | $(REPORTS)/.previous
