# Two commands for a newcomer: `make run` and `make test`. Each sets itself up from a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24,<27"
	$(PY) -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The portal, a Celery worker, beat and the iLiveIt sandbox; SQLite and an embedded Redis
# unless DATABASE_URL / REDIS_URL say otherwise.
run: $(STAMP)
	$(PY) -m iliveit_portal.devstack run

# The whole test suite. Uses DATABASE_URL / REDIS_URL when set, else SQLite and embedded Redis.
# Two processes share the tests (pytest-xdist, one per core); the few that stop Redis or
# PostgreSQL (marked serial) run alone afterwards, since every other test leans on those.
# Exit 5 is pytest's "no test selected", which a PYTEST_ARGS selection can leave one half with.
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -m "not serial" $(PYTEST_ARGS) || test $$? -eq 5
	$(PY) -m pytest -m serial $(PYTEST_ARGS) || test $$? -eq 5

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

lock: $(STAMP)
	{ echo '# Pinned versions for repeatable installs: pip install -c requirements.lock -e ".[dev]"'; \
	  echo '# Regenerate with: make lock'; \
	  $(PY) -m pip freeze --exclude-editable; } > requirements.lock

clean:
	rm -rf $(VENV) var
