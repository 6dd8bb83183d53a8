# Rampart: every day-to-day command. `make run` and `make test` are the README's first two lines.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# The tests run against real services; these are the local development defaults.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: install run demo test test-postgres test-embedded lint format bench audit lock check-deploy clean fuzz screenshots sarif-validator axe-core

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# One target installs everything, from the hashed lock (again only when the lock changes).
install: $(VENV)/.installed

$(VENV)/.installed: $(BIN)/activate requirements-dev.lock pyproject.toml
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . >/dev/null 2>&1 || $(BIN)/pip install --quiet --no-deps -e .
	touch $@

# The embedded default: SQLite in .data/, tasks in-process, demo data with 30 days of history.
# The local demo opts out of HTTPS-only cookies and of mandatory MFA for its admin.
DEMO_ENV := DEBUG=1 RAMPART_HTTPS=0 RAMPART_MFA_REQUIRED=none

run: install
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput -v0
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo "Rampart is starting on http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(DEMO_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Both passes at once, one per core: each has its own databases, cache keys and queue prefix, and
# prints its report whole when it ends (the PostgreSQL one is the longer, about 9 minutes).
test: install
	@echo "Running the PostgreSQL suite and the SQLite pass side by side; each report follows when it ends."
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-postgres test-embedded

test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(BIN)/pytest $(PYTEST_ARGS)

# `make run` keeps its data in SQLite: the suites of the application itself (pages, API, triage,
# commands) run on it too, since what works on PostgreSQL can fail there. The worker, browser and
# end-to-end suites need a database that several processes share, and run on PostgreSQL only.
EMBEDDED_SUITES := tests/accounts tests/agent tests/api tests/commands tests/findings tests/oidc tests/posture tests/security tests/ui
test-embedded: install
	env -u DATABASE_URL REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} $(BIN)/pytest -q $(EMBEDDED_SUITES)

# Microsoft's SARIF validator (the SARIF schema and GitHub's ingestion rules), for the test that checks
# `scan_manifests --format sarif`; a self-contained .NET build from npm, for x86_64 Linux. CI installs it.
SARIF_MULTITOOL_VERSION := 5.7.0
SARIF_MULTITOOL := .tools/sarif-multitool/Sarif.Multitool
sarif-validator: $(SARIF_MULTITOOL)
$(SARIF_MULTITOOL):
	rm -rf .tools/sarif-multitool && mkdir -p .tools/sarif-multitool
	cd .tools && npm pack --silent @microsoft/sarif-multitool-linux@$(SARIF_MULTITOOL_VERSION) >/dev/null
	tar xzf .tools/microsoft-sarif-multitool-linux-$(SARIF_MULTITOOL_VERSION).tgz -C .tools/sarif-multitool --strip-components=1
	rm .tools/microsoft-sarif-multitool-linux-$(SARIF_MULTITOOL_VERSION).tgz
	chmod +x $@

# Deque's axe-core (the accessibility rules browsers' audit tools run), for the browser test that
# checks every page against WCAG 2.1 A and AA; from npm, pinned. CI installs it.
AXE_CORE_VERSION := 4.14.1
AXE_CORE := .tools/axe-core/axe.min.js
axe-core: $(AXE_CORE)
$(AXE_CORE):
	rm -rf .tools/axe-core && mkdir -p .tools/axe-core
	cd .tools && npm pack --silent axe-core@$(AXE_CORE_VERSION) >/dev/null
	tar xzf .tools/axe-core-$(AXE_CORE_VERSION).tgz -C .tools/axe-core --strip-components=1
	rm .tools/axe-core-$(AXE_CORE_VERSION).tgz

# Rewrite docs/screenshots/ (the README's pictures) from the browser tests.
screenshots: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		RAMPART_UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/browser -q

# Longer fuzz runs than the ones `make test` includes: the API from its schema (8 examples per
# operation there) and the checks on damaged objects (300 there).
FUZZ_EXAMPLES ?= 100
HOSTILE_EXAMPLES ?= 20000
fuzz: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		RAMPART_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HOSTILE_EXAMPLES=$(HOSTILE_EXAMPLES) \
		$(BIN)/pytest tests/api/test_schema_fuzz.py tests/scanning/test_hostile_objects.py -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

audit: install
	.ci/audit

check-deploy: install
	DEBUG=0 SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9') \
		ALLOWED_HOSTS=rampart.example.com DATABASE_URL=$(TEST_DATABASE_URL) \
		RAMPART_ENCRYPTION_KEYS=$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

bench: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m bench

# Regenerate the hashed locks after changing pyproject.toml.
lock: install
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock -q
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements-dev.lock -q

clean:
	rm -rf .data .pytest_cache .ruff_cache
