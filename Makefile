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
	@echo "  make reproduce wall time (bundled data; from bench/RESULTS.md):"
	@awk -F'|' '/^## Expected make reproduce wall time/ {on = 1; next} on && /^#/ {on = 0} \
	  on && /^\|/ && !/---|profile/ {for (i = 2; i <= 4; i++) gsub(/^ +| +$$/, "", $$i); \
	  printf "    PROFILE=%-6s %s on a 2-core CPU, %s on one GPU\n", $$2, $$3, $$4}' bench/RESULTS.md

env: $(ENV_STAMP)  ## create .venv (unless an environment is active) and install the project

$(ENV_STAMP): pyproject.toml
	@if [ "$(ENV_DIR)" = ".venv" ] && [ ! -x .venv/bin/python ]; then \
	  command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or set PYTHON=..." >&2; exit 1; }; \
	  $(PYTHON) -m venv .venv; fi
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

reproduce: $(HTML) $(REPORTS)/index.html  ## run every notebook (PROFILE, DATA) and render reports/
	@$(PY) -m colorize_lib.runner finish $(REPORTS)

# When this make started, for the runner's "elapsed" and "left" (evaluated once: simply expanded).
export COLORIZE_RUN_STARTED := $(shell date +%s)

# Rewritten only when PROFILE or DATA change, so switching either reruns every notebook.
$(SETTINGS): FORCE
	@mkdir -p $(dir $@)
	@echo "PROFILE=$(PROFILE) DATA=$(DATA)" | cmp -s - $@ 2>/dev/null || echo "PROFILE=$(PROFILE) DATA=$(DATA)" > $@

# colorize_lib.runner runs the notebook with papermill into NAME.ipynb.partial, streams its epoch lines
# here and its whole output to NAME.ipynb.log, and renames the result to NAME.ipynb only when every cell
# has run; a failed run is kept as NAME.failed.ipynb for reading. On Ctrl-C it stops the kernel and
# leaves no partial file: the next make skips finished notebooks and training resumes from its last epoch.
$(REPORTS)/notebooks/%.ipynb: notebooks/%.ipynb $(LIB) $(SETTINGS) | $(ENV_STAMP)
	@$(PY) -m colorize_lib.runner run $< $@ --profile '$(PROFILE)' --data '$(DATA)'

$(REPORTS)/%.html: $(REPORTS)/notebooks/%.ipynb | $(ENV_STAMP)
	@$(PY) -m jupyter nbconvert --to html --log-level ERROR --output-dir $(REPORTS)/.html-partial --output $* $<
	@mv -f $(REPORTS)/.html-partial/$*.html $@

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
	rm -rf $(addprefix $(REPORTS)/,notebooks figures tables runs *.html .settings .html-partial)

clean-all: clean  ## also remove cached data and checkpoints
	rm -rf data/cache data/checkpoints
