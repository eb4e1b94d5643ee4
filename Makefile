# Crux: `make run` to start everything, `make test` to check everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Installs come from lock files that `make lock` compiles from pyproject.toml: the dev lock here
# and in CI, the runtime lock (no dev tools) in the image. uv installs them; it is pinned here.
LOCK     := requirements.lock
DEV_LOCK := requirements-dev.lock
UV_VERSION := 0.13.9
UV     := $(BIN)/uv
# Where the web server listens (`make run WEB_PORT=8123`). Every process gets both, and the
# settings build SITE_URL, the start of the links in e-mails, from them unless it is set.
HOST   ?= 127.0.0.1
WEB_PORT ?= 8000

.PHONY: run test install migrate questions demo admin lint check clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Crux needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# uv, from the package index, installs the dev lock faster than pip (BENCHMARKS.md, first run);
# if uv cannot be had, pip installs the same lock, hashes checked. Nothing is resolved here.
# `uv pip sync` also removes what the lock no longer holds. It compiles the bytecode up front,
# as pip does: left to the first imports, the three processes of `make run` would each compile
# the same modules at once, which costs more. Crux itself is installed editable: manage.py and
# the tests import the tree.
$(STAMP): $(DEV_LOCK) pyproject.toml | $(BIN)/python
	@if $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); then \
		echo "Installing $(DEV_LOCK) with uv $(UV_VERSION)"; \
		$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python $(DEV_LOCK) \
		&& $(UV) pip install --quiet --python $(BIN)/python --no-deps -e .; \
	else \
		echo "uv $(UV_VERSION) could not be installed: installing $(DEV_LOCK) with pip"; \
		$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK) \
		&& $(BIN)/python -m pip install --quiet --no-deps -e .; \
	fi
	@touch $(STAMP)

# After changing pyproject.toml's dependencies. Pins already in the lock files are kept where
# pyproject.toml still allows them; `make lock UPGRADE=1` moves every pin to the newest allowed.
# Universal: one lock for every platform and every Python from 3.11 (requires-python) on.
# The runtime lock is constrained by the dev lock, so the image runs the versions CI tests.
.PHONY: lock
LOCK_FLAGS = --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip compile $(LOCK_FLAGS) --extra dev -o $(DEV_LOCK) pyproject.toml
	$(UV) pip compile $(LOCK_FLAGS) -c $(DEV_LOCK) -o $(LOCK) pyproject.toml

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

# Style and formatting, the import boundaries ([tool.importlinter] in pyproject.toml) and the
# types ([tool.mypy]; its settings module needs no environment).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy

check: install
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

test: lint check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var/broker var/celerybeat-schedule* var/test*.sqlite3*
