# Bihuan: `make demo` and `make test` work on a fresh clone with nothing but python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install demo test test-faults lint bench clean

install: $(VENV)/.installed

# The runtime alone (what the demo needs): no test tools, a quicker first start.
$(VENV)/.installed-runtime: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	@$(BIN)/uv sync --locked --inexact --quiet --no-dev
	@touch $@

# Everything, test and lint tools included.
$(VENV)/.installed: $(VENV)/.installed-runtime
	@$(BIN)/uv sync --locked --inexact --quiet
	@touch $@

demo: $(VENV)/.installed-runtime
	$(BIN)/bihuan demo

test: install
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

# Kill and restart real processes (web and task workers, PostgreSQL, a full disk).
test-faults: install
	BIHUAN_FAULT_TESTS=1 $(BIN)/pytest -p no:xdist tests/faults $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/bihuan makemigrations --check --dry-run
	BIHUAN_ENV=production SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(60))')" \
	  BIHUAN_PII_KEYS="$$($(BIN)/python -c 'from bihuan.core.crypto import new_keyring_text as t; print(t().strip().replace(chr(10), ","))')" \
	  DATABASE_URL=postgres://bihuan@127.0.0.1:5432/bihuan ALLOWED_HOSTS=bihuan.example.gov.cn \
	  $(BIN)/bihuan check --deploy --fail-level WARNING

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
