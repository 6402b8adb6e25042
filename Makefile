# The colorization study, end to end.
#   make reproduce [PROFILE=smoke|cpu|paper|rehearsal|authors] [DATA=bundled|paper|stl10|stl10:PATH|folder:PATH|pexels]
#                  [ENV=venv|system]
#                  [SEED=N] [SEEDS=N] [TEST_FRACTION=0.45]
#   make test
SHELL := /bin/bash
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help

PROFILE ?= cpu
DATA ?= bundled
SEED ?= 0
# Training seeds of every experiment a verdict compares; empty: the profile's (three on cpu and paper).
# SEEDS=1 costs a third of the GPU time and leaves every verdict inconclusive ("one training seed").
SEEDS ?=
# Share of photo groups held out for test; empty: the profile's (0.25). E.g. 0.45 for 10 test photos of 23.
TEST_FRACTION ?=
REPORTS ?= reports
# venv: .venv (or the active virtualenv/conda env) with the packages installed by make env.
# system: the Python on PATH (or PYTHON=...) as it is, e.g. a GPU machine's own PyTorch; nothing installed.
ENV ?= venv
ifneq ($(origin ENV),command line)
  # sh and ksh read a startup file named by $ENV: an ENV from the environment counts only if it is ours.
  ifeq ($(filter venv system,$(ENV)),)
    ENV := venv
  endif
endif
# auto: the exact lock requirements/lock-pyX.Y-PLATFORM.txt when one fits the Python, else the newest
# versions pyproject.toml allows; none: always the latter; or the path of a lock file.
LOCK ?= auto
PYTHON_CANDIDATES := python3.11 python3.12 python3.13
# ENV=system and install-wheelhouse use the Python on PATH unless PYTHON=... names one.
SYSTEM_PYTHON := $(or $(PYTHON),python3)
# Where make wheelhouse puts pyX.Y/ (wheels) and install-wheelhouse site-pyX.Y/ (installed packages).
WHEELHOUSE ?= .wheelhouse
PLATFORM := $(shell uname -s | tr A-Z a-z)-$(shell uname -m)

empty :=
space := $(empty) $(empty)
# "3.12" for interpreter $(1), empty if it does not run (a pyenv shim of a version not selected exits 127).
py_version = $(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
lock_for = $(if $(filter none,$(LOCK)),,$(if $(filter auto,$(LOCK)),$(wildcard requirements/lock-py$(1)-$(PLATFORM).txt),$(LOCK)))

ifeq ($(ENV),system)
  PYTHON := $(SYSTEM_PYTHON)
  PY := $(PYTHON)
  PY_VERSION := $(call py_version,$(PY))
  # The checkout is imported as it is; `make install-wheelhouse` puts the notebook tools beside it.
  WHEEL_SITE := $(WHEELHOUSE)/site-py$(PY_VERSION)
  export PYTHONPATH := $(CURDIR)$(if $(wildcard $(WHEEL_SITE)),:$(abspath $(WHEEL_SITE)))$(if $(PYTHONPATH),:$(PYTHONPATH))
  # `pip install --target DIR` leaves the packages' data (nbconvert's HTML templates) in DIR/share/jupyter,
  # where Jupyter looks only if told.
  JUPYTER_DATA := $(wildcard $(addsuffix /share/jupyter,$(subst :, ,$(PYTHONPATH))))
  ifneq ($(JUPYTER_DATA),)
    export JUPYTER_PATH := $(subst $(space),:,$(strip $(JUPYTER_DATA) $(subst :, ,$(JUPYTER_PATH))))
  endif
  # Every rule that needs the environment checks it instead of installing it.
  ENV_STAMP := system-check
else ifeq ($(ENV),venv)
  # The first of PYTHON_CANDIDATES that runs, looked for only when a rule needs it (it costs a few
  # interpreter starts); PYTHON=... on the command line or in the environment wins.
  PYTHON ?= $(eval PYTHON := $(firstword $(foreach p,$(PYTHON_CANDIDATES),$(if $(call py_version,$(p)),$(p)))))$(PYTHON)
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
else
  $(error ENV=$(ENV) is not known: expected ENV=venv (default) or ENV=system)
endif

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NAMES := $(notdir $(basename $(NOTEBOOKS)))
EXECUTED := $(NAMES:%=$(REPORTS)/notebooks/%.ipynb)
HTML := $(NAMES:%=$(REPORTS)/%.html)
LIB := $(wildcard colorize_lib/*.py colorize_lib/*/*.py colorize_lib/*/*/*.py)
# Each notebook depends on the library files it imports, followed through the package's imports
# (colorize_tools.notebook_deps, standard library only, so any python3 runs it before .venv exists):
# editing the tooling reruns nothing, editing the losses reruns what trains. If that cannot run, every
# notebook depends on the whole library, as a safe fallback.
comma := ,
NOTEBOOK_DEPS := $(shell python3 -m colorize_tools.notebook_deps $(NOTEBOOKS) 2>/dev/null)
deps_of = $(or $(subst $(comma),$(space),$(patsubst $(1):%,%,$(filter $(1):%,$(NOTEBOOK_DEPS)))),$(LIB))
SETTINGS := $(REPORTS)/.settings
# The notebooks write through colorize_lib.paths, which follows this variable.
export COLORIZE_REPORTS_DIR := $(abspath $(REPORTS))

.PHONY: help env lint lock wheelhouse install-wheelhouse system-check reproduce train test bench clean clean-all lab FORCE

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'
	@echo "  variables: PROFILE=$(PROFILE) (smoke|cpu|paper|rehearsal|authors)  SEED=$(SEED)"
	@echo "             SEEDS=$(or $(SEEDS),(the profile's)) (training seeds of each run a verdict compares; 3 on cpu and paper)"
	@echo "             DATA=$(DATA) (bundled|paper|stl10|stl10:PATH|folder:PATH|pexels)"
	@echo "             (authors: the published notebook's recipe, for DATA=stl10; docs/profiles.md)"
	@echo "             TEST_FRACTION=$(or $(TEST_FRACTION),(the profile's)) (share of photo groups held out for test)"
	@echo "             ENV=$(ENV) (venv|system)  LOCK=$(LOCK) (auto|none|FILE)  REPORTS=$(REPORTS)"
	@echo "             EXECUTOR=$(EXECUTOR) (make train: local|slurm)  WORKERS=$(WORKERS) (local: runs at a time, one per GPU)"
	@echo "             SLURM_PARTITION SLURM_ACCOUNT SLURM_MINUTES=$(SLURM_MINUTES) SLURM_GPUS=$(SLURM_GPUS) SLURM_CPUS=$(SLURM_CPUS)"
	@echo "             SLURM_PARALLEL=$(SLURM_PARALLEL) SLURM_POLL_S=$(SLURM_POLL_S) (EXECUTOR=slurm; CANCEL=1 cancels its array)"
	@echo "             PYTHON=... (default: first of $(PYTHON_CANDIDATES) that runs; python3 with ENV=system)"
	@echo "             PYTHON_VERSION=X.Y (make wheelhouse: the Python the wheels are for)"
	@echo "  make reproduce wall time (bundled data; from bench/RESULTS.md):"
	@awk -F'|' '/^## Expected make reproduce wall time/ {on = 1; next} on && /^#/ {on = 0} \
	  on && /^\|/ && !/---|profile/ {for (i = 2; i <= 4; i++) gsub(/^ +| +$$/, "", $$i); \
	  printf "    PROFILE=%-9s 2-core CPU: %s; one GPU: %s\n", $$2, $$3, $$4}' bench/RESULTS.md

env: $(ENV_STAMP)  ## create .venv (unless an environment is active) and install the lock, or check ENV=system

ifeq ($(ENV),system)
system-check:
	@command -v $(PY) >/dev/null || { echo "error: ENV=system: $(PY) not found; set PYTHON=/path/to/python3.X" >&2; exit 1; }
	@$(PY) -m colorize_tools.environment check $(if $(filter test,$(MAKECMDGOALS)),--with pytest)
else
.venv/bin/python:
	@test -n "$(PYTHON)" || { echo "error: none of $(PYTHON_CANDIDATES) runs here; install one of them, or point make at" \
	  "a Python 3.11-3.13: make env PYTHON=/path/to/python3.X" >&2; exit 1; }
	@echo "creating .venv with $(PYTHON) (Python $(call py_version,$(PYTHON)), $(shell command -v $(PYTHON)))"
	$(PYTHON) -m venv .venv

# Expanded once .venv exists, so the lock is the one that fits the Python inside it.
$(ENV_STAMP): pyproject.toml $(wildcard requirements/lock-*.txt) | $(PY)
	$(eval ENV_LOCK := $(call lock_for,$(call py_version,$(PY))))
	@$(if $(ENV_LOCK),test -f $(ENV_LOCK) || { echo "error: LOCK=$(ENV_LOCK) does not exist; expected LOCK=auto|none|FILE (a file from make lock)" >&2; exit 1; })
	@$(if $(ENV_LOCK),echo "installing the exact versions of $(ENV_LOCK) into $(ENV_DIR)",\
	  echo "installing the newest versions pyproject.toml allows into $(ENV_DIR): $(if $(filter auto,$(LOCK)),no lock for Python $(call py_version,$(PY)) on $(PLATFORM) in requirements/,LOCK=none)")
	$(if $(ENV_LOCK),$(PY) -m pip install --quiet -r $(ENV_LOCK) && $(PY) -m pip install --quiet --no-deps -e .,$(PY) -m pip install --quiet -e '.[test]')
	@touch $@
endif

# pip's resolution of pyproject.toml in a fresh venv of PYTHON, written as requirements/lock-pyX.Y-PLATFORM.txt.
# A dry run: nothing is installed, only metadata is read (torch's comes from this machine's disk).
lock:  ## pin every package a fresh install resolves to, for this Python and platform (needs the index)
	@test -n "$(PYTHON)" || { echo "error: none of $(PYTHON_CANDIDATES) runs here; set PYTHON=/path/to/python3.X" >&2; exit 1; }
	@echo "resolving pyproject.toml for $(PYTHON) (Python $(call py_version,$(PYTHON))) on $(PLATFORM)"
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && $(PYTHON) -m venv "$$tmp/venv" \
	  && "$$tmp/venv/bin/python" -m pip install --quiet --dry-run --ignore-installed --report "$$tmp/report.json" '.[test]' \
	  && PYTHONPATH=$(CURDIR) "$$tmp/venv/bin/python" -m colorize_tools.environment lock "$$tmp/report.json" \
	       requirements/lock-py$(call py_version,$(PYTHON))-$(PLATFORM).txt

# Binary wheels of the notebook tools (and pytest) with every dependency, for a machine with no network
# whose Python already has torch, torchvision and the scientific stack (none of which these need).
# manylinux tags are listed one by one: pip does not widen a --platform it is given. pip evaluates
# dependency markers for the Python running it, not PYTHON_VERSION: `wheelhouse-gaps` finds what that
# leaves out (papermill's aiohttp on 3.12) and the loop fetches it.
PYTHON_VERSION ?= $(call py_version,$(PYTHON))
WHEEL_PLATFORMS := $(foreach n,$(shell seq 28 -1 17),manylinux_2_$(n)_x86_64) manylinux2014_x86_64
WHEELHOUSE_PACKAGES := papermill nbconvert nbclient ipykernel pytest
# Packages such a machine brings itself: fail rather than ship a second copy.
WHEELHOUSE_EXCLUDED := torch torchvision numpy pandas matplotlib scikit_image pillow
wheelhouse:  ## download the notebook tools' wheels for PYTHON_VERSION into .wheelhouse/ (needs the index)
	@test -n "$(PYTHON_VERSION)" || { echo "error: set PYTHON_VERSION=X.Y (the Python of the machine the wheels are for)" >&2; exit 1; }
	@echo "downloading $(WHEELHOUSE_PACKAGES) and their dependencies for Python $(PYTHON_VERSION), manylinux x86_64"
	@dir=$(WHEELHOUSE)/py$(PYTHON_VERSION); mkdir -p $$dir; want="$(WHEELHOUSE_PACKAGES)"; \
	for round in 1 2 3 4 5; do \
	  $(PYTHON) -m pip download --quiet --only-binary=:all: --implementation cp --python-version $(PYTHON_VERSION) \
	    $(addprefix --platform ,$(WHEEL_PLATFORMS)) --dest $$dir $$want || exit 1; \
	  want=$$(PYTHONPATH=$(CURDIR) $(PYTHON) -m colorize_tools.environment wheelhouse-gaps $$dir $(PYTHON_VERSION) $(WHEELHOUSE_PACKAGES)) || exit 1; \
	  test -z "$$want" && break; echo "  and, for Python $(PYTHON_VERSION) only:" $$want; \
	done; test -z "$$want" || { echo "error: $$dir still lacks $$want" >&2; exit 1; }
	@extra=$$(ls $(WHEELHOUSE)/py$(PYTHON_VERSION) | grep -iE '^($(subst $(space),|,$(strip $(WHEELHOUSE_EXCLUDED))))-' || true); \
	  test -z "$$extra" || { echo "error: the wheelhouse pulled in $$extra, which the target machine has" >&2; exit 1; }
	@echo "wheelhouse $(WHEELHOUSE)/py$(PYTHON_VERSION): $$(ls $(WHEELHOUSE)/py$(PYTHON_VERSION) | wc -l) wheels," \
	  "$$(du -sm $(WHEELHOUSE)/py$(PYTHON_VERSION) | cut -f1) MiB; carry it with the tree, then: make install-wheelhouse"

# Offline: only .wheelhouse/pyX.Y is read. Into the active virtualenv/conda env when there is one,
# else into .wheelhouse/site-pyX.Y, which ENV=system puts on PYTHONPATH.
install-wheelhouse:  ## install the notebook tools from .wheelhouse/ for python3 or PYTHON (no network)
	$(eval WH_PY := $(SYSTEM_PYTHON))
	$(eval WH_VERSION := $(call py_version,$(WH_PY)))
	@test -d $(WHEELHOUSE)/py$(WH_VERSION) || { echo "error: no $(WHEELHOUSE)/py$(WH_VERSION) for $(WH_PY) (Python $(WH_VERSION));" \
	  "make it where there is network: make wheelhouse PYTHON_VERSION=$(WH_VERSION)" >&2; exit 1; }
	$(WH_PY) -m pip install --quiet --no-index --find-links $(WHEELHOUSE)/py$(WH_VERSION) \
	  $(if $(VIRTUAL_ENV)$(filter-out base,$(CONDA_DEFAULT_ENV)),,--upgrade --target $(WHEELHOUSE)/site-py$(WH_VERSION)) $(WHEELHOUSE_PACKAGES)
	@echo "installed $(WHEELHOUSE_PACKAGES) for $(WH_PY); now: make reproduce ENV=system"

reproduce: $(HTML) $(REPORTS)/index.html  ## run every notebook (PROFILE, DATA) and render reports/
	@$(PY) -m colorize_tools.notebook_runner finish $(REPORTS)

# When this make started, for the runner's "elapsed" and "left" (evaluated once: simply expanded).
export COLORIZE_RUN_STARTED := $(shell date +%s)

# Rewritten only when PROFILE, DATA, SEED or TEST_FRACTION change, so switching any reruns every notebook.
SETTINGS_LINE := PROFILE=$(PROFILE) DATA=$(DATA) SEED=$(SEED)$(if $(SEEDS), SEEDS=$(SEEDS))$(if $(TEST_FRACTION), TEST_FRACTION=$(TEST_FRACTION))
$(SETTINGS): FORCE
	@mkdir -p $(dir $@)
	@echo "$(SETTINGS_LINE)" | cmp -s - $@ 2>/dev/null || echo "$(SETTINGS_LINE)" > $@

# colorize_tools.notebook_runner runs the notebook with papermill into NAME.ipynb.partial, streams its epoch lines
# here and its whole output to NAME.ipynb.log, renames the result to NAME.ipynb only when every cell has
# run, and renders it as the offline report NAME.html in the same process. A failed run is kept as
# NAME.failed.ipynb for reading. On Ctrl-C it stops the kernel and leaves no partial file: the next make
# skips finished notebooks and training resumes from its last epoch.
$(REPORTS)/notebooks/%.ipynb: notebooks/%.ipynb $(SETTINGS) | $(ENV_STAMP)
	@$(PY) -m colorize_tools.notebook_runner run $< $@ --profile '$(PROFILE)' --data '$(DATA)' --seed $(SEED) \
	  $(if $(SEEDS),--seeds $(SEEDS)) $(if $(TEST_FRACTION),--test-fraction $(TEST_FRACTION))

# Offline HTML: code hidden, figures inlined, nothing fetched from the web (colorize_tools.html_export). The
# runner has rendered it already; rendered here only when it is missing or older than its notebook.
$(REPORTS)/%.html: $(REPORTS)/notebooks/%.ipynb | $(ENV_STAMP)
	@test $@ -nt $< || $(PY) -m colorize_tools.html_export $< $@

$(foreach n,$(NAMES),$(eval $(REPORTS)/notebooks/$(n).ipynb: $(call deps_of,$(n))))

# Notebook 01 runs first (it reports the data and warms the cache of its own image size), an order only:
# a change that reruns 01 alone does not rerun the others. 08 summarises them all.
$(filter-out $(REPORTS)/notebooks/01_data.ipynb,$(EXECUTED)): | $(REPORTS)/notebooks/01_data.ipynb
$(REPORTS)/notebooks/08_summary.ipynb: $(filter-out $(REPORTS)/notebooks/08_summary.ipynb,$(EXECUTED))

$(REPORTS)/index.html: $(HTML) | $(ENV_STAMP)
	@$(PY) -m colorize_tools.index

# Every distinct run of the study, before (or instead of) the notebooks' training: make reproduce then reloads
# them. EXECUTOR=local: WORKERS at a time on this machine, one per GPU. EXECUTOR=slurm: one Slurm job array
# through submitit, with the site's settings below; CANCEL=1 cancels the array a make train submitted.
# colorize_tools/train_all.py and executors.py say how runs are ordered and placed.
EXECUTOR ?= local
WORKERS ?= 1
# The Slurm site's settings (docs/many-machines.md); empty: the cluster's default.
SLURM_PARTITION ?=
SLURM_ACCOUNT ?=
SLURM_MINUTES ?= 240
SLURM_GPUS ?= 1
SLURM_CPUS ?= 8
SLURM_PARALLEL ?= 64
SLURM_POLL_S ?= 15
train: | $(ENV_STAMP)  ## train every distinct run of PROFILE/DATA/SEED: WORKERS=N here, or EXECUTOR=slurm
	@$(PY) -m colorize_tools.train_all --profile '$(PROFILE)' --data '$(DATA)' --seed $(SEED) \
	  --executor $(EXECUTOR) --workers $(WORKERS) $(if $(SEEDS),--seeds $(SEEDS)) \
	  $(if $(TEST_FRACTION),--test-fraction $(TEST_FRACTION)) $(if $(filter 1 yes true,$(CANCEL)),--cancel) \
	  $(if $(filter slurm,$(EXECUTOR)),$(if $(SLURM_PARTITION),--slurm-partition '$(SLURM_PARTITION)') \
	    $(if $(SLURM_ACCOUNT),--slurm-account '$(SLURM_ACCOUNT)') --slurm-minutes $(SLURM_MINUTES) \
	    --slurm-gpus $(SLURM_GPUS) --slurm-cpus $(SLURM_CPUS) --slurm-parallel $(SLURM_PARALLEL) \
	    --slurm-poll-s $(SLURM_POLL_S))

colorize: $(ENV_STAMP)  ## colorize photos: make colorize IN=photo-or-folder OUT=folder [EXPERIMENT=unet_lab] [COMPARE=1]
	@test -n "$(IN)" -a -n "$(OUT)" || { echo "error: make colorize needs IN=photo-or-folder and OUT=folder" >&2; exit 2; }
	@$(PY) -m colorize_lib colorize $(IN) -o $(OUT) --experiment $(or $(EXPERIMENT),unet_lab) --profile '$(PROFILE)' --data '$(DATA)' $(if $(COMPARE),--compare)

lint: $(ENV_STAMP)  ## ruff: lint and format check of the library, tests, benchmarks and notebooks
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: $(ENV_STAMP)  ## run the test suite (unit tests and every notebook on the smoke profile)
	$(PY) -m pytest -q --durations=15

bench: $(ENV_STAMP)  ## print the benchmarks' figures (CPU)
	$(PY) bench/engine_overhead.py
	$(PY) bench/data_throughput.py
	$(PY) bench/memory_budget.py --profile paper
	$(PY) bench/classifier_speed.py

lab: $(ENV_STAMP)  ## open the notebooks in JupyterLab
	$(PY) -m jupyter lab notebooks/

clean:  ## remove generated reports (keeps cached data and checkpoints)
	rm -rf $(addprefix $(REPORTS)/,notebooks figures tables runs *.html .settings .html-partial check .previous)

clean-all: clean  ## also remove cached data and checkpoints
	rm -rf data/cache data/checkpoints

# Reports that read offline, checked in a browser, and what changed since the last run.
.PHONY: check-reports diff
check-reports: | $(ENV_STAMP)  ## open every report in headless Chromium: fail on errors, web requests, broken images
	$(PY) -m colorize_tools.browser_check $(REPORTS)

diff: | $(ENV_STAMP)  ## what changed since the previous run: nbdiff of outputs, numbers that moved in the tables
	$(PY) -m colorize_tools.changes diff $(REPORTS)

# Before any notebook reruns, keep the current results in $(REPORTS)/previous/ (once per change of inputs).
$(REPORTS)/.previous: $(NOTEBOOKS) $(sort $(foreach n,$(NAMES),$(call deps_of,$(n)))) $(SETTINGS) | $(ENV_STAMP)
	@$(PY) -m colorize_tools.changes keep $(REPORTS)
	@touch $@
$(EXECUTED): | $(REPORTS)/.previous
