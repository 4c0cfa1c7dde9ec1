# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi
# the full benchmark (issue 7): both sizes, a throwaway PostgreSQL cluster, PostGraphile from npm;
# about half an hour from nothing, less with BENCH_ARGS="... --reuse" once generated
BENCH_ARGS ?= --sizes 100000,1000000 --runs 3 --http-duration 8

.PHONY: run test install lint translations extract bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

# Compile both catalogs (English msgids -> Chinese, Chinese msgids -> English); the .mo files
# are not in git. The app also compiles missing or stale .mo files at start-up.
translations: $(STAMP)
	$(BIN)/pybabel compile -d portal/translations -D messages >/dev/null
	$(BIN)/pybabel compile -d admin_views/translations -D messages >/dev/null

# Re-extract the messages after changing UI text (babel.cfg; keywords _, gettext, lazy_gettext,
# _l, N_), split them by language and update both catalogs; then translate the new entries:
# English msgids in portal/translations/zh_Hans_CN/LC_MESSAGES/messages.po, Chinese msgids in
# admin_views/translations/en/LC_MESSAGES/messages.po (tests/test_i18n.py checks both).
extract: $(STAMP)
	$(BIN)/python -m portal.translations.catalogs extract

run: install
	$(BIN)/flask portal migrate
	$(BIN)/flask portal demo-data
	$(BIN)/flask portal calendar-import --skip-missing
	$(BIN)/flask portal banner
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
