# Operator entry points (README.md). Everything runs from the repository root in .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Hash of what decides the installed set: installing again only when one of these changed.
STAMP := $(VENV)/.khanyisa-installed
LOCK_INPUTS := requirements.txt requirements-dev.txt pyproject.toml
BROWSER_LOCK := tests/browser/package-lock.json
BROWSER_STAMP := tests/browser/node_modules/.khanyisa-installed

.PHONY: install run lint test bench lock migrate messages

install:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@want="$$(cat $(LOCK_INPUTS) | sha256sum | cut -d' ' -f1)"; \
	if [ "$$(cat $(STAMP) 2>/dev/null)" = "$$want" ]; then \
		echo "dependencies are up to date"; \
	else \
		$(BIN)/python -m pip install -q -r requirements.txt -r requirements-dev.txt && \
		{ out="$$($(BIN)/python -m pip install -q --no-deps -e . 2>&1)" || { echo "$$out"; exit 1; }; } && \
		rm -rf khanyisa.egg-info && \
		echo "$$want" > $(STAMP) && echo "dependencies installed"; \
	fi
	@# axe-core for the browser tests' accessibility check, from npm through its lock file (needs node).
	@if command -v npm >/dev/null 2>&1; then \
		want="$$(sha256sum $(BROWSER_LOCK) | cut -d' ' -f1)"; \
		if [ "$$(cat $(BROWSER_STAMP) 2>/dev/null)" != "$$want" ]; then \
			(cd tests/browser && npm ci --no-audit --no-fund --silent) && echo "$$want" > $(BROWSER_STAMP) && \
			echo "browser test tools installed"; \
		fi; \
	else echo "npm not found: the browser tests' accessibility check needs node and npm"; fi

run: install
	$(BIN)/python -m src.cli run

# Lint, format check and type check (configured in pyproject.toml); `make test` runs them first.
lint: install
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/mypy src
	$(BIN)/ruff format --check src tests bench migrations

test: install lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Every benchmark runs even when an earlier one exceeded a limit; make still fails then.
bench: install
	$(BIN)/python bench/run.py; status=$$?; \
	$(BIN)/python bench/capacity.py --reuse || status=1; \
	$(BIN)/python bench/export_bench.py || status=1; \
	$(BIN)/python bench/public_bench.py || status=1; \
	exit $$status

migrate: install
	$(BIN)/python -m src.cli migrate

lock: install
	@test -x $(BIN)/uv || $(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile -q requirements.in -o requirements.txt --python-version 3.11
	$(BIN)/uv pip compile -q requirements-dev.in -o requirements-dev.txt --python-version 3.11

# Re-extract the texts marked for translation (babel.cfg) into src/locale/messages.pot and bring
# each language's catalogue up to date with it: new texts arrive untranslated (or fuzzy, when one
# resembles an old text), removed ones become obsolete. Translate them in the .po files.
LANGUAGES := zu af
messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -o src/locale/messages.pot --project=Khanyisa --version=1.0 --no-location --sort-output \
		--msgid-bugs-address="" --copyright-holder="Khanyisa" .
	@for lang in $(LANGUAGES); do \
		test -f src/locale/$$lang/LC_MESSAGES/messages.po || \
			$(BIN)/pybabel -q init -i src/locale/messages.pot -d src/locale -D messages -l $$lang; \
	done
	$(BIN)/pybabel -q update -i src/locale/messages.pot -d src/locale -D messages --ignore-obsolete
