# Two commands do all the set-up on a fresh machine:
#   make check   the main job: every layer against torch, report in reports/parity/
#   make test    the test suite (parity, finite differences, errors, benchmarks once)
#   make bench   the benchmark report in benchmarks/results/ (a few minutes)
# Both create .venv on first use and install the project into it (CPU torch wheel).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: check test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $(STAMP)

check: $(STAMP)
	$(BIN)/parity check --out reports/parity

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -n auto --dist loadgroup

bench: $(STAMP)
	$(BIN)/parity bench

clean:
	rm -rf $(VENV) reports .pytest_cache .hypothesis
