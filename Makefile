# One task runner for people and CI: `make site` builds the sample site, `make test` runs the tests.
# Both install what they need first, so they work on a fresh machine.
PYTHON ?= python3

.PHONY: install site install-test test lint format

install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e .

site: install
	$(PYTHON) build.py

install-test:
	./scripts/install-system-deps.sh
	./scripts/install-quality-tools.sh
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'

test: install-test
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy sitegen
