# Nurture: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Test processes (pytest-xdist); each test module stays in one, so its fixtures load once.
PYTEST_WORKERS ?= 2

.PHONY: install system-deps bench-deps run serve demo migrate lint format test clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || scripts/system-deps.sh test
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

system-deps:
	scripts/system-deps.sh test

bench-deps: install
	scripts/system-deps.sh bench

migrate: install
	$(BIN)/nurture db upgrade

demo: migrate
	$(BIN)/nurture demo

run: demo
	$(BIN)/nurture serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/deptry .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install system-deps lint
	scripts/test.sh -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=20 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
