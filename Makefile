# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi
# the full benchmark (issue 7): both sizes, a throwaway PostgreSQL cluster, PostGraphile from npm;
# about half an hour from nothing, less with BENCH_ARGS="... --reuse" once generated
BENCH_ARGS ?= --sizes 100000,1000000 --runs 3 --http-duration 8

.PHONY: run test install lint typecheck translations extract bench clean lock upgrade audit

# Dependencies are installed from the lock files (exact versions with hashes), never resolved
# afresh: requirements/dev.txt (dev + prod extras: what make, CI and the docs install) and
# requirements/prod.txt (the application + prod + s3 extras: what a server installs).
# To add a dependency: add it to pyproject.toml (with a comment saying why), run `make lock`,
# commit pyproject.toml and requirements/ together. A conflict in requirements/*.txt is
# never merged by hand: take main's files (git checkout --theirs requirements/ during a rebase),
# keep both sides' lines in pyproject.toml, and run `make lock` again.
LOCK := requirements/dev.txt
LOCK_PROD := requirements/prod.txt
UV := $(BIN)/uv
UV_COMPILE = $(UV) pip compile pyproject.toml --quiet --generate-hashes --universal \
	--python-version 3.11

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

$(UV):
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet uv

# Re-resolve the lock files after editing pyproject.toml: versions already locked are kept
# (uv prefers the pins of the existing output file), only what changed is resolved.
lock: $(UV)
	$(UV_COMPILE) --extra prod --extra s3 -o $(LOCK_PROD)
	$(UV_COMPILE) --extra dev --extra prod -c $(LOCK_PROD) -o $(LOCK)

# Move every dependency to its newest release allowed by pyproject.toml, install, and run the
# whole suite: commit requirements/ only if it passes (review `git diff requirements/`).
upgrade: $(UV)
	$(UV_COMPILE) --upgrade --extra prod --extra s3 -o $(LOCK_PROD)
	$(UV_COMPILE) --upgrade --extra dev --extra prod -c $(LOCK_PROD) -o $(LOCK)
	$(MAKE) test

# Known vulnerabilities of the locked versions (both lock files; needs a vulnerability service:
# packages it cannot be asked about are reported as not audited, see docs/security-campaign.md)
audit: $(STAMP)
	$(BIN)/pip-audit --progress-spinner off --disable-pip -r $(LOCK) -r $(LOCK_PROD)

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
	$(BIN)/python .ci/mypy_baseline.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# mypy over portal/, models/, graphql_api/, admin_views/ against mypy-baseline.txt, which only
# shrinks: a new error fails; after fixing some, shrink it with `.ci/mypy_baseline.py --update`.
typecheck: $(STAMP)
	$(BIN)/python .ci/mypy_baseline.py

lint: $(STAMP)
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
