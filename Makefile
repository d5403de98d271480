# The two commands of the README, plus a few conveniences. Everything installs from the
# project's own files: uv (from PyPI) and uv.lock for Python, Debian's chromium for the
# browser tests.
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .venv-tools/bin/uv)

.PHONY: run test install lint bench chromium postgres

$(UV):
	python3 -m venv .venv-tools && .venv-tools/bin/pip install --quiet "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen --extra dev

## make run: install and start on the embedded default (SQLite, sandbox, demo data)
run: $(UV)
	$(UV) sync --frozen
	$(UV) run --frozen s7 serve

## make test: the whole suite (ruff + pytest, real Postgres and headless Chromium)
test: install chromium postgres
	.venv/bin/ruff check .
	.venv/bin/pytest

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check s7 tests bench main.py

bench: install postgres
	.venv/bin/python -m bench

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; }

postgres:
	@pg_isready -h 127.0.0.1 -p 5432 -q || { \
	  echo "starting the local PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	  for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done; }
	@pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable at 127.0.0.1:5432"; exit 1; }
