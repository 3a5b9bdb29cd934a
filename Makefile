# render-sim: `make simulate` and `make test` set up everything they need (venv, Docker engine).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REPO ?= examples/fastapi-pydantic
ARGS ?=

.PHONY: setup engine browser simulate scenarios test test-unit test-docker test-scenarios bench lint clean help

help:
	@echo "make simulate [REPO=path] [ARGS='--service web']  simulate a repo (default: the shipped example)"
	@echo "make test                                          every test (unit and real Docker)"
	@echo "make test-scenarios                                the hermetic regression scenarios"
	@echo "make scenarios                                     the online scenarios (real PyPI)"
	@echo "make bench                                         benchmarks, figures in bench/results.json"
	@echo "make lint                                          ruff and mypy"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

engine:
	@bash scripts/ensure-docker.sh

browser:
	@bash scripts/ensure-chromium.sh

simulate: setup engine
	$(BIN)/render-sim simulate $(REPO) $(ARGS)

scenarios: setup engine
	$(BIN)/render-sim scenarios run --kind online --jobs 2 $(ARGS)

# The unit tests run on two workers (pytest-xdist); the Docker and browser tests one at a time
# (they time real builds and check what the engine holds).
test: setup engine browser
	$(BIN)/python -m pytest -n 2 tests/unit
	$(BIN)/python -m pytest --ignore=tests/unit

test-unit: setup
	$(BIN)/python -m pytest -n 2 tests/unit

test-docker: setup engine
	$(BIN)/python -m pytest tests/docker

test-scenarios: setup engine
	$(BIN)/python -m pytest tests/docker/test_scenarios_hermetic.py

bench: setup engine
	$(BIN)/python bench/run.py

lint: setup
	$(BIN)/ruff check simulator tests bench scripts
	$(BIN)/mypy simulator
	$(BIN)/lint-imports

clean:
	-$(BIN)/render-sim clean
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
