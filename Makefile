# Hotline: `make run` installs and serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOTLINE_HOST ?= 127.0.0.1
HOTLINE_PORT ?= 8000
export HOTLINE_HOST HOTLINE_PORT

.PHONY: run test test-postgres bench lint format system-deps system-deps-test install install-test clean

run: system-deps install
	$(BIN)/hotline db upgrade
	HOTLINE_DEMO_MODE=$${HOTLINE_DEMO_MODE:-true} $(BIN)/hotline demo load
	@echo ""
	@echo "Hotline runs on http://$(HOTLINE_HOST):$(HOTLINE_PORT)"
	@echo "Demo logins (password: $${HOTLINE_DEMO_PASSWORD:-hotline-demo}):"
	@echo "  agent          hotline agent (the console)"
	@echo "  supervisor     supervisor (queue and cost reports)"
	@echo "  admin-aarhus   municipality admin of Aarhus (0751)"
	@echo "  admin-aalborg  municipality admin of Aalborg (0851)"
	@echo "  sysadmin       system admin (users, phone systems, audit log)"
	@echo ""
	HOTLINE_DEMO_MODE=$${HOTLINE_DEMO_MODE:-true} $(BIN)/hotline serve

test: system-deps-test install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: system-deps-test install-test
	HOTLINE_TEST_DATABASE_URL=$$(scripts/test-postgres start) $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-test
	@scripts/install-system-deps --bench
	$(BIN)/python -m bench

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/import_cycles.py hotline

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

system-deps:
	@scripts/install-system-deps

system-deps-test:
	@scripts/install-system-deps --test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

install-test: $(VENV)/.installed-test
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	@touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) var .pytest_cache
