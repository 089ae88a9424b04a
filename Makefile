# Set-up and main jobs. Every target installs the pinned stack first; re-runs are no-ops.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= $(shell command -v python3.11 || command -v python3)
DATA   := data/01_raw/leads.csv

# Nothing phones home: Kedro telemetry and MLflow's are both off.
export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: install train test bench bench-quick lint data clean-runs

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The embedded default export, generated once: kedro run --pipeline=generate.
$(DATA): | $(STAMP)
	$(BIN)/kedro run --pipeline=generate

data: $(DATA)

train: $(STAMP) $(DATA)
	$(BIN)/kedro run --pipeline=train

test: $(STAMP)
	$(BIN)/pytest

# Results go to benchmarks/_work/ (untracked); RECORD=1 writes the tracked benchmarks/RESULTS.md.
# Exits non-zero when a figure misses its target.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(if $(RECORD),--record)

# The main cases once, on a tenth of the leads: a few minutes, never recorded.
bench-quick: $(STAMP)
	$(BIN)/python benchmarks/bench.py --quick

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks notebooks
