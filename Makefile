# The two commands a new user needs: `make run` and `make test`. Everything else here is
# what those two depend on. Safe to run again: each step does only what is out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
FLASK := $(BIN)/flask --app app
SECRETS := instance/secrets.env
HOST ?= 127.0.0.1
PORT ?= 5000

# Exact versions and hashes of every Python package pip installs (`make lock` writes them):
# runtime.txt is what a deployment installs; dev.txt adds the development tools (`make
# install`); loadtest.txt adds locust (`make loadtest`). Each is pinned to the one before.
LOCK_RUNTIME := requirements/runtime.txt
LOCK_DEV := requirements/dev.txt
LOCK_LOADTEST := requirements/loadtest.txt

# Front-end sources that the built assets depend on.
ASSET_SOURCES := $(wildcard assets/scss/*.scss assets/js/*.mjs) scripts/build-assets.mjs

.PHONY: run test setup install assets secrets migrate demo lint format lock audit-deps clean help bench loadtest screens

help:
	@echo "make run    install, migrate, load the demo trust and serve on http://$(HOST):$(PORT)"
	@echo "make test   the same set-up, then ruff, bandit, mypy, flask db check and the whole test suite"
	@echo "make screens  pictures of the main pages as each demo role sees them, in docs/screens/"

run: setup
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl+C to stop): sign in there with the demo sign-ins above"
	@set -a && . ./$(SECRETS) && set +a && SESSION_COOKIE_SECURE=false \
		$(FLASK) run --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -c pyproject.toml -r app.py config.py tracker migrations
	$(BIN)/mypy
	@set -a && . ./$(SECRETS) && set +a && tmp=$$(mktemp -d) && \
		DATABASE_URL="sqlite:///$$tmp/check.db" $(FLASK) db upgrade && \
		DATABASE_URL="sqlite:///$$tmp/check.db" $(FLASK) db check; \
		status=$$?; rm -rf "$$tmp"; exit $$status
	$(BIN)/pytest

setup: install assets migrate demo

install: $(STAMPS)/python $(STAMPS)/node

# The lock holds pip and setuptools too, so nothing is installed unchecked: the project
# itself is built with the locked setuptools (--no-build-isolation), its dependencies
# already in place (--no-deps). The project's metadata that an older setuptools left in
# the checkout goes: it would shadow the installed metadata, which tells the app whether
# the dev extra is installed.
$(STAMPS)/python: pyproject.toml $(LOCK_DEV)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK_DEV)
	rm -rf safeguarding_tracker.egg-info
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/loadtest: $(STAMPS)/python $(LOCK_LOADTEST)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK_LOADTEST)
	@touch $@

$(STAMPS)/node: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

assets: static/dist/manifest.json

static/dist/manifest.json: $(STAMPS)/node $(ASSET_SOURCES) static/images/favicon.svg
	npm run --silent build

# Random keys made once per checkout (and any added since), readable only by you; a real
# deployment sets SECRET_KEY, AUDIT_KEY, TOTP_KEY and EVIDENCE_KEY in its own environment (see README).
secrets:
	@$(PYTHON) scripts/dev-secrets.py $(SECRETS)

migrate: install secrets
	@set -a && . ./$(SECRETS) && set +a && $(FLASK) db upgrade

demo: migrate
	@set -a && . ./$(SECRETS) && set +a && $(FLASK) demo --if-empty

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -c pyproject.toml -r app.py config.py tracker migrations
	$(BIN)/mypy

# Performance at trust scale (docs/performance.md). SQLite always; PostgreSQL too when
# BENCH_DATABASE_URL names a server (a database of its own is created there and dropped).
BENCH_CASES ?= 100000
bench: setup
	@set -a && . ./$(SECRETS) && set +a && $(FLASK) bench run --cases $(BENCH_CASES)

# gunicorn (4 workers) on PostgreSQL under a mixed workload from locust (installed here,
# not by `make install`); needs BENCH_DATABASE_URL. LOADTEST_CASES, LOADTEST_USERS,
# LOADTEST_SECONDS adjust it.
loadtest: setup $(STAMPS)/loadtest
	@set -a && . ./$(SECRETS) && set +a && ./scripts/loadtest.sh

# Pictures of the main pages at 1280 x 900 as each demo role sees them (docs/screens/),
# from a fresh demo trust in a temporary folder; needs Chromium, as the browser tests do.
screens: setup
	@set -a && . ./$(SECRETS) && set +a && $(BIN)/python scripts/screens.py

# Known vulnerabilities in the locked dependencies, read from the lock files as they are
# (nothing installed). Needs the internet (the PyPI advisory service), so it is not part
# of `make test`; run it where deployments are built. Fails (exit 2) when any package
# could not be checked, rather than passing having checked nothing.
audit-deps: install
	$(BIN)/python scripts/audit_deps.py -r $(LOCK_RUNTIME) -r $(LOCK_DEV) -r $(LOCK_LOADTEST)

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Write the lock files after a change to the ranges in pyproject.toml, keeping each pin
# that still fits; `make lock LOCK_FLAGS=--upgrade` moves every pin to the newest the
# ranges allow (`LOCK_FLAGS='--upgrade-package NAME'` one package). Besides the
# dependencies, each lock pins pip and the build backend named in [build-system], with
# the hashes of every platform's files.
LOCK_FLAGS ?=
LOCK_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command 'make lock' $(LOCK_FLAGS) pyproject.toml -
INSTALL_TOOLS = $(BIN)/python -c 'import tomllib; print("pip"); \
	print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")'
lock: $(STAMPS)/python
	@mkdir -p requirements
	$(INSTALL_TOOLS) | $(LOCK_COMPILE) -o $(LOCK_RUNTIME)
	$(INSTALL_TOOLS) | $(LOCK_COMPILE) --extra dev -c $(LOCK_RUNTIME) -o $(LOCK_DEV)
	$(INSTALL_TOOLS) | $(LOCK_COMPILE) --extra dev --extra loadtest -c $(LOCK_DEV) \
		-o $(LOCK_LOADTEST)

clean:
	rm -rf $(VENV) node_modules static/dist $(STAMPS) .pytest_cache .ruff_cache
