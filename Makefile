# One task runner for people and CI: `make site` builds the sample site, `make test` runs the tests.
# Both install what they need first, so they work on a fresh machine.
PYTHON ?= python3

.PHONY: install site install-test test lint format bench

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

# The scale benchmark (docs/performance.md): 10,000 disclosures x 3 versions, beside MkDocs and
# Hugo + Pagefind. BENCH_ARGS="--n 1000 --runs 1" makes a quick one.
bench:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(PYTHON) -m sitegen.bench $(BENCH_ARGS)

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy sitegen
