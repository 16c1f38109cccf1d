# Two commands: `make run` sets everything up and serves the app; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# Compiled translations (never committed): each locale/<lang>/LC_MESSAGES/django.po gives a .mo.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

# Development values for `make run` only; production reads the real environment.
DEV_ENV := DEBUG=1
# Tests run production-like (DEBUG off) with a throwaway key.
TEST_ENV := DEBUG=0 SECRET_KEY=test-only-secret-key-$(shell date +%s)-not-for-production
# pytest-xdist workers: one per core (each has its own test database).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# What an operator sets in production; `check --deploy` must print no warning with it.
DEPLOY_ENV := DEBUG=0 SECRET_KEY=deploy-check-$(shell printf '%064d' 0 | tr 0 x)-k7Q2mZ9 \
	ALLOWED_HOSTS=trial.example.edu

.PHONY: install run test lint clean messages

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(INSTALLED) messages
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput -v 0
	$(DEV_ENV) $(BIN)/python manage.py load_study --create-only recruitment/studies/ldn-mecfs.toml
	$(DEV_ENV) $(BIN)/python manage.py create_demo_coordinator
	@echo "Serving on http://127.0.0.1:8000/ (staff: http://127.0.0.1:8000/admin/). Ctrl-C stops."
	@echo "Staff two-factor sign-in is OFF in development (DEBUG=1); production requires it (STAFF_2FA_REQUIRED)."
	@echo "The worker beside the server takes in each sent form and sends the emails: the participant shows in the queue, and the emails here, a second or so after a submission."
	@echo "Texts print here too (console backend); send_reminders queues the reminders due every minute."
	$(call beside_the_worker,$(DEV_ENV),--reload,$(DEV_ENV) $(BIN)/python manage.py send_reminders --every 60 >/dev/null & $(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000)

# `make serve`: the production configuration on this machine (docs/deploy.md): DEBUG off, static
# files collected and compressed, gunicorn with gunicorn.conf.py on 127.0.0.1:8000 and the task
# worker that takes in the sent forms and sends the emails (the database queue unless
# TASKS_BACKEND says). There is no TLS here, so the HTTPS redirect and HTTPS-only cookies are
# turned off by their variables (never in code), and email goes to the console unless EMAIL_URL
# or EMAIL_BACKEND is set, with the tokens of patients' links blanked
# (recruitment/email_backends.py): the console is the server's log here. `make run` (development) shows them whole, to be clicked. `migrate`
# also creates the database cache's table, where the rate limits count across workers.
# The database is DATABASE_URL, else the SQLite file. Unless SECRET_KEY is set, a random key
# is made once and kept in $(SERVE_KEY_FILE) (git-ignored, like all of .venv).
SERVE_KEY_FILE := $(VENV)/serve-secret-key
SERVE_ENV = DEBUG=0 ALLOWED_HOSTS=127.0.0.1,localhost \
	SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 \
	SECRET_KEY="$${SECRET_KEY:-$$(cat $(SERVE_KEY_FILE))}" \
	EMAIL_BACKEND="$${EMAIL_BACKEND:-recruitment.email_backends.RedactingConsoleEmailBackend}"

.PHONY: serve
serve: $(INSTALLED) messages
	@test -n "$$SECRET_KEY" -o -s $(SERVE_KEY_FILE) || (umask 077 && $(BIN)/python -c \
		'import secrets; print(secrets.token_urlsafe(50))' > $(SERVE_KEY_FILE))
	$(SERVE_ENV) $(BIN)/python manage.py collectstatic --noinput -v 0
	$(SERVE_ENV) $(BIN)/python manage.py migrate --noinput -v 0
	$(SERVE_ENV) $(BIN)/python manage.py load_study --create-only recruitment/studies/ldn-mecfs.toml
	$(SERVE_ENV) $(BIN)/python manage.py check_enrolment
	@echo "Serving the production configuration (DEBUG off, gunicorn) on http://127.0.0.1:8000/ over plain HTTP. Ctrl-C stops."
	@echo "Staff sign in at /admin/ with two-factor (STAFF_2FA_REQUIRED); the demo coordinator from 'make run' works here too."
	@echo "The task worker (db_worker) runs beside gunicorn: it takes in the sent forms and sends the emails; the check_tasks command reports its queue."
	$(call beside_the_worker,$(SERVE_ENV),--no-reload,$(SERVE_ENV) $(BIN)/gunicorn -c gunicorn.conf.py --bind 127.0.0.1:8000 ldn_trial.wsgi)

# $(call beside_the_worker,ENV,WORKER-OPTIONS,COMMAND): run COMMAND with the task worker
# (`manage.py db_worker`, which takes in every sent form and sends every email) beside it, and stop the worker when COMMAND
# ends. The worker has a session of its own (setsid), so stopping it stops the autoreloader's
# child too; Ctrl-C stops the server, whose shell then stops the worker, which finishes the
# task it is running first (docs/operations.md, "The task worker").
define beside_the_worker
	@trap 'kill -TERM -- -$$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(1) setsid $(BIN)/python manage.py db_worker $(2) --interval 1 & worker=$$!; \
	$(3)
endef

# Compile a translation whenever its .po is newer than its .mo
# (see docs/development.md, "Translations").
messages: $(MO_FILES)

locale/%.mo: locale/%.po | $(INSTALLED)
	$(DEV_ENV) $(BIN)/python manage.py compile_translations -v 0

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The edit-test loop: lint, then the engine, the models, the layers and the core services'
# tests (under a minute); `make test` stays the full gate that CI runs.
CHECK_TESTS := tests/eligibility tests/test_architecture.py tests/models \
	tests/intake/test_forms.py tests/screening/test_services.py tests/screening/test_eligibility_gate.py

.PHONY: check
check: lint messages
	env -u DATABASE_URL $(TEST_ENV) $(BIN)/pytest -q -n $(TEST_WORKERS) $(CHECK_TESTS)

test: lint messages
	env -u DATABASE_URL $(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	env -u DATABASE_URL $(DEPLOY_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING
	@echo "== pytest on SQLite =="
	env -u DATABASE_URL $(TEST_ENV) $(BIN)/pytest -n $(TEST_WORKERS)
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== pytest on PostgreSQL ($${DATABASE_URL%%@*}@...) =="; \
		$(TEST_ENV) $(BIN)/pytest -n $(TEST_WORKERS); \
	else \
		echo "PostgreSQL was not tested: DATABASE_URL is unset (see docs/development.md, 'Running against PostgreSQL')."; \
	fi

clean:
	rm -rf $(VENV) staticfiles test-db.sqlite3* *.egg-info

# The benchmark (bench/README.md): a throwaway PostgreSQL database ldn_trial_bench,
# gunicorn on loopback, wrk; prints the table and writes bench/results/latest.md. 8 to 12
# minutes with the registry's re-matching. BENCH_ARGS="--participants 10000 --duration 5" for
# a quick run.
.PHONY: bench bench-prerequisites
bench: $(INSTALLED) messages bench-prerequisites
	env -u DATABASE_URL $(BIN)/python bench/run.py $(BENCH_ARGS)

bench-prerequisites:
	@command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	@pg_isready -q -h 127.0.0.1 -p 5432 || (echo "PostgreSQL is not answering on \
		127.0.0.1:5432 (see docs/development.md, 'Running against PostgreSQL')." && exit 1)
