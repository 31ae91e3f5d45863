# The two set-up commands (README): `make run` serves a relay, `make test` checks everything.
# Each creates the virtual environment from requirements.lock on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

HOST ?= 127.0.0.1
PORT ?= 8765
DB ?= trellis-relay.db

.PHONY: run test lint imports typecheck pytest bench schemas clean system-packages

$(STAMP): pyproject.toml requirements.lock
	@echo "Installing Trellis and its pinned dependencies into $(VENV) (first use, or after an"
	@echo "update; one to three minutes, longer on a slow network). Only this once."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/trellis-relay --host $(HOST) --port $(PORT) --db $(DB) $(if $(OPERATOR_PORT),--operator-port $(OPERATOR_PORT))

test: system-packages lint imports typecheck pytest

# Programs the tests run for real (nginx, PostgreSQL...): installed with apt-get when root, else a
# clear message. Add more in tests/tools/ensure_system_packages.sh.
system-packages:
	sh tests/tools/ensure_system_packages.sh
	sh tests/tools/ensure_postgres.sh

SOURCES := $(wildcard schemas server client tests bench)

lint: $(STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

# Dependency rules between packages ([tool.importlinter] in pyproject.toml).
imports: $(STAMP)
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Test files run on PYTEST_WORKERS processes (pytest-xdist), each file whole on one worker so
# a module's shared relay starts once; PYTEST_WORKERS=0 runs everything in this process.
# The slowest tests are listed at the end, so a slow new one shows up at once.
PYTEST_WORKERS ?= 3
PYTEST_ARGS ?=

pytest: $(STAMP) system-packages
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

schemas: $(STAMP)
	$(BIN)/python -m tests.tools.regenerate

# Benchmarks (not part of `make test`): ~5 minutes, writes bench/results.json.
# BENCH_ARGS="--runs 1 --only ingest" for a quick look (writes nothing).
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
