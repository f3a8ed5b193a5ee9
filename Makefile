# The two commands: `make run` (try it) and `make test` (the whole suite, real services).
# `make serve`: the production start (scripts/serve.sh; docs/operations.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1:8000

.PHONY: run serve system-packages test lint lint-migrations check-deploy messages benchmarks bench-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	@scripts/run-app.sh $(HOST)

# check --deploy, migrate, collectstatic, then gunicorn, under config.settings.production unless
# DJANGO_SETTINGS_MODULE says otherwise. Workers and beat: scripts/serve.sh worker | beat.
serve: $(VENV)/.runtime
	@scripts/serve.sh web

# The Debian packages the suite needs (installed when run as root; otherwise the one command to run).
system-packages:
	@scripts/setup-debian.sh

test: system-packages $(VENV)/.dev
	@scripts/ensure-services.sh
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=config.settings.test
	$(MAKE) --no-print-directory lint-migrations
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	scripts/check-messages.sh
	$(BIN)/pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory bench-smoke

# Every script in benchmarks/ once, at tiny sizes, on scratch databases (bench_smoke_*, dropped
# afterwards) and Redis db 13 (BENCH_SMOKE_REDIS_URL): fails if one errors or outgrows its timeout.
bench-smoke: $(VENV)/.dev
	@scripts/ensure-services.sh >/dev/null
	$(BIN)/python benchmarks/smoke.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Every migration after 0008 must be safe while the previous release serves (rules and the
# grandfathered list in config/settings/lint.py). Needs PostgreSQL, writes nothing.
lint-migrations: $(VENV)/.dev
	$(BIN)/python manage.py lintmigrations --settings=config.settings.lint --quiet ok ignore

check-deploy: $(VENV)/.runtime
	SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=appeals.example.com \
	  FIELD_ENCRYPTION_KEYS=$$(head -c 32 /dev/urandom | base64 | tr "+/" "-_") \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING --settings=config.settings.production

# From the root so that templates/ is scanned too; the catalogue lands in LOCALE_PATHS (appeals/locale).
messages: $(VENV)/.dev
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete -i .venv -i tests -i benchmarks -i staticfiles -i media -i scripts
	$(BIN)/python manage.py compilemessages -i .venv

clean:
	rm -rf $(VENV) db.sqlite3 .test-media staticfiles
