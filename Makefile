# votestore — the two quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck imports unit proto clean test-tools lock

# The environment is exactly requirements/dev.lock (scripts/setup_venv.sh); only `make lock`
# changes the lock.
$(STAMP): requirements/dev.lock pyproject.toml scripts/setup_venv.sh scripts/install_system_deps.sh
	./scripts/install_system_deps.sh
	PYTHON=$(PYTHON) VENV=$(VENV) ./scripts/setup_venv.sh
	touch $(STAMP)

# web/'s npm packages, exactly as web/package-lock.json pins them (docs/web.md).
WEB_STAMP := web/node_modules/.installed
$(WEB_STAMP): web/package-lock.json web/package.json scripts/setup_web.sh
	./scripts/setup_web.sh
	touch $(WEB_STAMP)

setup: $(STAMP) $(WEB_STAMP)

# The voter page, bundled by esbuild into web/dist (docs/web.md); the demo serves it.
web/dist/index.html: $(WEB_STAMP) web/build/page.mjs web/index.html $(wildcard web/src/app/*) $(wildcard web/src/crypto/*.js)
	cd web && npm run --silent build:page

demo: $(STAMP) web/dist/index.html
	$(BIN)/votestore demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The import rules of docs/design.md "Layout", as import-linter contracts (pyproject.toml [tool.importlinter]).
imports: $(STAMP)
	$(BIN)/lint-imports

# System tools for tests/deploy (promtool, prometheus, kubectl): installed when missing; fails,
# naming the package, when it cannot (the deploy tests fail rather than skip).
test-tools:
	./scripts/install_test_tools.sh

unit: $(STAMP) $(WEB_STAMP) test-tools
	$(BIN)/pytest

test: lint typecheck imports unit

proto: $(STAMP)
	./scripts/gen_proto.sh

# Refresh the locks to the newest releases pyproject.toml allows, on purpose; then review the
# diff, `make setup proto test`, and commit requirements/ and proto/ together.
lock: $(STAMP)
	./scripts/lock.sh

clean:
	rm -rf $(VENV) web/node_modules .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
