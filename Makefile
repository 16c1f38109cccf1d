# Two commands: `make run` sets everything up and serves the app; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# Development values for `make run` only; production reads the real environment.
DEV_ENV := DEBUG=1
# Tests run production-like (DEBUG off) with a throwaway key.
TEST_ENV := DEBUG=0 SECRET_KEY=test-only-secret-key-$(shell date +%s)-not-for-production
# What an operator sets in production; `check --deploy` must print no warning with it.
DEPLOY_ENV := DEBUG=0 SECRET_KEY=deploy-check-$(shell printf '%064d' 0 | tr 0 x)-k7Q2mZ9 \
	ALLOWED_HOSTS=trial.example.edu

.PHONY: install run test lint clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(INSTALLED)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput -v 0
	$(DEV_ENV) $(BIN)/python manage.py load_study --create-only recruitment/studies/ldn-mecfs.toml
	$(DEV_ENV) $(BIN)/python manage.py create_demo_coordinator
	@echo "Serving on http://127.0.0.1:8000/ (staff: http://127.0.0.1:8000/admin/). Ctrl-C stops."
	@echo "Staff two-factor sign-in is OFF in development (DEBUG=1); production requires it (STAFF_2FA_REQUIRED)."
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	env -u DATABASE_URL $(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	env -u DATABASE_URL $(DEPLOY_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING
	@echo "== pytest on SQLite =="
	env -u DATABASE_URL $(TEST_ENV) $(BIN)/pytest
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== pytest on PostgreSQL ($${DATABASE_URL%%@*}@...) =="; \
		$(TEST_ENV) $(BIN)/pytest; \
	else \
		echo "PostgreSQL was not tested: DATABASE_URL is unset (see README, 'PostgreSQL')."; \
	fi

clean:
	rm -rf $(VENV) staticfiles test-db.sqlite3* *.egg-info
