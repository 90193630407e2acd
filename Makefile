# Two commands do everything on a fresh machine: `make run` and `make test`.
# `make serve` is production (see the README's "Running in production").
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app.py
export PORT
# Gunicorn workers for `make serve`: 2 x cores + 1 unless WEB_CONCURRENCY says otherwise.
WEB_CONCURRENCY ?= $(shell echo $$((2 * $$(nproc 2>/dev/null || echo 1) + 1)))

.PHONY: run serve test bench install install-dev translations translations-update migrate seed browser-deps clean

# Without APP_ENV the app assumes production and checks its settings; these targets are development.
run seed migrate: export APP_ENV := development

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## Compile the message catalogues (.po -> .mo); the app reads .mo at run time.
translations: install
	$(BIN)/pybabel compile --use-fuzzy -d translations >/dev/null

## After changing user-visible text: extract, merge into ja and en, then translate the new entries.
translations-update: install
	$(BIN)/pybabel extract -F translations/babel.cfg -k _l -k lazy_gettext --no-location \
		--sort-by-file -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

migrate: install
	mkdir -p instance
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed --demo

run: translations seed
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

## Production: refuses unsafe settings (one line each), migrates, loads the programme's default data
## where none exists (never demo content), then gunicorn with WEB_CONCURRENCY workers on PORT.
serve: export APP_ENV := production
serve: export WEB_CONCURRENCY := $(WEB_CONCURRENCY)
serve: translations
	$(BIN)/flask db upgrade
	$(BIN)/flask seed
	exec $(BIN)/gunicorn --config gunicorn.conf.py app:app

## Debian's Chromium and Japanese fonts for the browser tests (installed only when missing).
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi ipagothic; then \
		echo "installing chromium and fonts-ipafont-gothic with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-ipafont-gothic >/dev/null; \
	fi

test: install-dev translations browser-deps
	$(BIN)/python -m pytest

## Benchmarks with real processes (gunicorn, the sandbox, PostgreSQL, Redis), each at full size;
## `make bench QUICK=1` runs them small and judges nothing (CI). They make their own databases beside
## DATABASE_URL's (default below; the speed bench also on a SQLite file of its own) and the speed
## bench writes bench/results.md; `BENCH_ARGS="speed --contributions 100000"` runs one with options.
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/resident_bench
bench: install-dev translations
	DATABASE_URL="$${DATABASE_URL:-$(BENCH_DATABASE_URL)}" $(BIN)/python -m bench $(if $(QUICK),--quick) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
