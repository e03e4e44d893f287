# Two commands: `make run` starts the product on embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/launchready
TEST_REDIS_URL ?= redis://127.0.0.1:6379/9

.PHONY: run test check lint layers typecheck security services browser clean

$(VENV)/.runtime: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The demo's clients live in the sandbox: web, worker and scheduler reach it through these settings.
SANDBOX_ENV := LAUNCHREADY_RESOLVER=127.0.0.1:15353 LAUNCHREADY_PORT_MAP=53:15353,80:18080,443:18443 \
	LAUNCHREADY_CA_BUNDLE=var/sandbox/sandbox-root.pem LAUNCHREADY_ALLOW_PRIVATE_TARGETS=1

run: $(VENV)/.runtime
	@$(BIN)/python manage.py migrate --noinput -v0
	@$(BIN)/python manage.py sandbox --prepare
	@$(BIN)/python manage.py seed_demo
	@$(SANDBOX_ENV) $(BIN)/honcho -f Procfile.dev start

services:
	@scripts/services.sh

browser:
	@scripts/browser.sh

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The layer contracts in pyproject.toml: web, then handover and reports, then audits and monitoring, then accounts,
# then the core; no import circle inside a package.
layers: $(VENV)/.dev
	@PYTHONPATH=. $(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.dev
	$(BIN)/mypy

# bandit on the product's code (each accepted finding has an inline "# nosec <id>" with its reason; bandit's
# notes about those markers are dropped), then pip-audit on the pinned requirements.
security: $(VENV)/.dev
	@set -o pipefail; $(BIN)/bandit -q -c pyproject.toml -r launchready accounts audits monitoring handover reports web 2>&1 \
		| { grep -v "nosec encountered" || true; }
	@$(BIN)/python scripts/audit_dependencies.py

check: lint layers typecheck security

test: $(VENV)/.dev services browser check
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DJANGO_ENV=test $(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache
