# The README's commands. Each target creates/uses the local venv, so a fresh
# machine with only Python 3.11 needs nothing else.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint bench bench-replay bench-live format clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need Python 3.11+ on PATH (or: make PYTHON=/path/to/python ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $@

# The live demo ends by itself after DEMO_ARGS' duration; `make demo DEMO_ARGS=` runs until Ctrl-C.
DEMO_ARGS ?= --duration 120

demo: $(STAMP)
	$(BIN)/slamon demo $(DEMO_ARGS)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check monitor tests bench
	$(BIN)/ruff format --check monitor tests bench
	$(BIN)/mypy

format: $(TEST_STAMP)
	$(BIN)/ruff format monitor tests bench
	$(BIN)/ruff check --fix monitor tests bench

bench: bench-replay bench-live

bench-replay: $(STAMP)
	$(BIN)/python -m bench.replay $(BENCH_ARGS)

# py-spy (for the worker's profile) is installed on demand: a benchmark-only tool.
bench-live: $(STAMP)
	@test -x $(BIN)/py-spy || $(BIN)/python -m pip install --quiet py-spy || echo "py-spy unavailable: no profile"
	$(BIN)/python -m bench.live $(BENCH_LIVE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
