# Crux: `make run` to start everything, `make test` to check everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Where the web server listens (`make run WEB_PORT=8123`). Every process gets both, and the
# settings build SITE_URL, the start of the links in e-mails, from them unless it is set.
HOST   ?= 127.0.0.1
WEB_PORT ?= 8000

.PHONY: run test install migrate questions demo admin lint check clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Crux needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)
	@mkdir -p var

migrate: install
	$(BIN)/python manage.py migrate --noinput

questions: migrate
	$(BIN)/python manage.py import_questions forecasts/questionsets/essay.toml

# An admin account for the local site (same settings as `make run`).
admin: export DEBUG ?= 1
admin: migrate
	$(BIN)/python manage.py createsuperuser

# Practice questions with simulated forecasters, so charts have something to show.
# Kept apart from the essay's questions (own source, "[Practice]" titles); `--delete` removes them.
demo: export DEBUG ?= 1
demo: migrate
	$(BIN)/python manage.py seed_demo

# The web server, a Celery worker and Celery beat together; Ctrl-C stops all three.
run: export DEBUG ?= 1
run: questions
	@echo ""
	@echo "  Crux is starting at  http://$(HOST):$(WEB_PORT)/"
	@echo "  Create an admin user (in another terminal):  make admin"
	@echo "  then sign in at  http://$(HOST):$(WEB_PORT)/$${ADMIN_URL:-admin/}"
	@echo "  Want charts with data at once? In another terminal: make demo"
	@echo "  (practice questions and simulated forecasters, kept apart from the essay's)."
	@echo "  Ctrl-C stops the web server, the worker and beat."
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" HOST=$(HOST) WEB_PORT=$(WEB_PORT) $(BIN)/honcho start -f Procfile

lint: install
	$(BIN)/ruff check .

check: install
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

test: lint check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var/broker var/celerybeat-schedule* var/test*.sqlite3*
