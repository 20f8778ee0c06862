# votestore — the two quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck unit proto clean test-tools

$(STAMP): pyproject.toml scripts/install_system_deps.sh
	./scripts/install_system_deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/votestore demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# System tools for tests/deploy (promtool, prometheus); never fails, the tests skip without them.
test-tools:
	./scripts/install_test_tools.sh

unit: $(STAMP) test-tools
	$(BIN)/pytest

test: lint typecheck unit

proto: $(STAMP)
	./scripts/gen_proto.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
