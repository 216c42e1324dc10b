# Two commands do all the set-up on a fresh machine:
#   make check   the main job: every check of every layer against torch, reports in reports/parity/
#   make test    the test suite: ruff and pytest (both run; either failing fails the target)
#   make bench   the benchmark report (a few minutes)
# Both create .venv on first use and install the project into it (CPU torch wheel).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
REPORTS := reports/parity

.PHONY: check test bench lint coverage clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $(STAMP)

check: $(STAMP)
	$(BIN)/parity check --out $(REPORTS) --junit $(REPORTS)/junit.xml

# The suite lets Python cache bytecode even where PYTHONDONTWRITEBYTECODE is set (as on this
# machine): without the cache every pytest worker and every child process the tests start
# compiles and assertion-rewrites the ~200 project modules again (about 2 s of CPU each).
# --dist worksteal: an idle worker takes half of the other's queue (the slow tests run first).
test: $(STAMP)
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n auto --dist worksteal || status=1; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check .

# Branch coverage of the layers by `parity check` alone (no unit test helps): every line and
# branch a registry sample reaches; the report lists what none does.
coverage: $(STAMP)
	$(BIN)/coverage run --branch --source=numpy_impl -m parity_tests.cli check --no-progress \
		--out reports/coverage-check
	$(BIN)/coverage report --show-missing --skip-covered

bench: $(STAMP)
	$(BIN)/parity bench

clean:
	rm -rf $(VENV) reports .pytest_cache .hypothesis
