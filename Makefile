# Each target bootstraps .venv from nothing (python3 -m venv + pip install -e '.[dev]').
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2
# whole modules to a worker: a module-scoped fixture (a sweep, a server) is then made once
PYTEST_DIST ?= loadscope
UI_HOST ?= 127.0.0.1
UI_PORT ?= 5000
STORE_DIR ?= $(CURDIR)/mlruns
LINT_PATHS := $(wildcard src tests experiments benchmarks scripts)

SERVER_PORT ?= 5000

.PHONY: help venv demo test check lint format fuzz bench ui dashboard server server-stop server-status clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)  ## create .venv and install scratchnet with its dev tools

STUDY ?= lr_batch_hidden

demo: $(STAMP)  ## run the lr x batch x hidden study on digits in parallel, then its report
	$(BIN)/scratchnet-train -m experiment=$(STUDY) hydra/launcher=joblib trainer.progress=false
	$(BIN)/scratchnet-report --experiment $(STUDY)
	@echo "Review the runs: make ui, then open http://$(UI_HOST):$(UI_PORT) (experiment $(STUDY))"

test: lint  ## lint, then the whole test suite (what CI runs)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST)

check: lint  ## the inner loop: lint, then the tests not marked slow (a few minutes)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) -m "not slow"

lint: $(STAMP)  ## ruff check and format, the layer contracts (import-linter), mypy
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)  ## speed/memory vs the book's loop, PyTorch, the BLAS limit; rewrites benchmarks/README.md
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks.run $(BENCH_ARGS)

fuzz: $(STAMP)  ## fuzz the IDX reader for a minute (only our own IdxFormatError may escape)
	$(BIN)/python -m benchmarks.fuzz_idx

ui: $(STAMP)  ## the MLflow UI on the repo's store, bound to 127.0.0.1 (a moved store relocated first, a copy refused)
	$(BIN)/scratchnet-store relocate --if-moved --store $(STORE_DIR)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(STORE_DIR)/mlflow.db \
		--default-artifact-root $(STORE_DIR)/artifacts --host $(UI_HOST) --port $(UI_PORT)

DASHBOARD_PORT ?= 8080
OPTUNA_DIR ?= $(CURDIR)/mlruns/optuna
SWEEP ?=
# The journal of sweep SWEEP (its id), else the most recently written one in OPTUNA_DIR.
JOURNAL ?= $(if $(SWEEP),$(OPTUNA_DIR)/$(SWEEP).log,$(firstword $(shell ls -t $(OPTUNA_DIR)/*.log 2>/dev/null)))

dashboard: $(STAMP)  ## optuna-dashboard on an Optuna sweep's study (SWEEP=<id>, default latest), 127.0.0.1
	@test -n "$(JOURNAL)" && test -f "$(JOURNAL)" || { echo "no Optuna journal $(if $(SWEEP),$(JOURNAL),in $(OPTUNA_DIR)): run scratchnet-train -m hparams_search=optuna first" >&2; exit 2; }
	@echo "Optuna study from $(JOURNAL): http://$(UI_HOST):$(DASHBOARD_PORT)"
	$(BIN)/optuna-dashboard $(JOURNAL) --host $(UI_HOST) --port $(DASHBOARD_PORT)

server: $(STAMP)  ## MLflow tracking server on PostgreSQL in .server/ (port SERVER_PORT, 5000)
	$(BIN)/python scripts/server.py start --port $(SERVER_PORT)

server-stop:  ## stop the tracking server and its PostgreSQL; nothing is left running
	$(BIN)/python scripts/server.py stop

server-status:  ## is the tracking server up, on which ports
	$(BIN)/python scripts/server.py status

clean:  ## remove outputs/ and multirun/ (keeps mlruns/ and .venv)
	rm -rf outputs multirun
