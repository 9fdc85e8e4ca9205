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

# Front-end sources that the built assets depend on.
ASSET_SOURCES := $(wildcard assets/scss/*.scss assets/js/*.mjs) scripts/build-assets.mjs

.PHONY: run test setup install assets secrets migrate demo lint format lock audit-deps clean help bench loadtest

help:
	@echo "make run    install, migrate, load the demo trust and serve on http://$(HOST):$(PORT)"
	@echo "make test   the same set-up, then ruff, flask db check and the whole test suite"

run: setup
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl+C to stop)"
	@set -a && . ./$(SECRETS) && set +a && SESSION_COOKIE_SECURE=false \
		$(FLASK) run --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -c pyproject.toml -r app.py config.py tracker migrations
	@set -a && . ./$(SECRETS) && set +a && tmp=$$(mktemp -d) && \
		DATABASE_URL="sqlite:///$$tmp/check.db" $(FLASK) db upgrade && \
		DATABASE_URL="sqlite:///$$tmp/check.db" $(FLASK) db check; \
		status=$$?; rm -rf "$$tmp"; exit $$status
	$(BIN)/pytest

setup: install assets migrate demo

install: $(STAMPS)/python $(STAMPS)/node

$(STAMPS)/python: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/node: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

assets: static/dist/app.css

static/dist/app.css: $(STAMPS)/node $(ASSET_SOURCES)
	npm run --silent build

# Random keys made once per checkout (and any added since), readable only by you; a real
# deployment sets SECRET_KEY, AUDIT_KEY and TOTP_KEY in its own environment (see README).
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

# Performance at trust scale (docs/performance.md). SQLite always; PostgreSQL too when
# BENCH_DATABASE_URL names a server (a database of its own is created there and dropped).
BENCH_CASES ?= 100000
bench: setup
	@set -a && . ./$(SECRETS) && set +a && $(FLASK) bench run --cases $(BENCH_CASES)

# gunicorn (4 workers) on PostgreSQL under a mixed workload from locust; needs
# BENCH_DATABASE_URL. LOADTEST_CASES, LOADTEST_USERS, LOADTEST_SECONDS adjust it.
loadtest: setup
	@set -a && . ./$(SECRETS) && set +a && ./scripts/loadtest.sh

# Known vulnerabilities in the pinned dependencies. Needs the internet (the PyPI advisory
# service), so it is not part of `make test`; run it where deployments are built.
audit-deps: install
	$(BIN)/pip-audit --strict -r constraints.txt

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin every Python dependency to what the ranges in pyproject.toml resolve to today.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	{ echo "# Exact versions every machine installs (pip install -c constraints.txt). Regenerate with"; \
	  echo "# \`make lock\` after changing the ranges in pyproject.toml."; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e'; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) node_modules static/dist $(STAMPS) .pytest_cache .ruff_cache
