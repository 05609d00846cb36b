# trialgraph: `make demo` and `make test` work on a fresh machine (they create .venv and install).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_STORE ?= .demo-store

.PHONY: demo test lint java virtuoso bench bench-full docs reliability clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Java runs the HermiT reasoner that owlready2 bundles.
java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing a Java runtime for the OWL reasoner"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; }

# Virtuoso Open Source 7 for the triple-store integration tests (tests/integration), which start
# it on a temporary database; the preseeded password is for Debian's own (unused) system database.
virtuoso:
	@command -v virtuoso-t >/dev/null 2>&1 || { \
	  echo "installing Virtuoso Open Source 7 for the triple-store tests"; \
	  printf '%s\n' 'virtuoso-opensource-7 virtuoso-opensource-7/dba-password password dba' \
	    'virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password dba' | debconf-set-selections; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource >/dev/null; } \
	  || echo "warning: could not install virtuoso-opensource; the Virtuoso tests will skip, saying so"; }

demo: $(STAMP)
	rm -rf $(DEMO_STORE)
	$(BIN)/trialgraph --store $(DEMO_STORE) ingest examples/trials
	$(BIN)/trialgraph --store $(DEMO_STORE) stats
	$(BIN)/trialgraph --store $(DEMO_STORE) ask oligo-pd1

test: $(STAMP) java virtuoso
	$(BIN)/pytest -q -p no:cacheprovider
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/python docs/build_ontology_docs.py
	$(BIN)/python docs/build_query_docs.py

# The scale suite (benchmarks/scale.py) at 1,000 and 10,000 trials; bench-full adds 100,000, and
# 500,000 with HUGE=1. Corpora and stores are cached in /tmp/tg-bench; figures go to benchmarks/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/scale.py $(BENCH_ARGS)

bench-full: $(STAMP)
	$(BIN)/python benchmarks/scale.py --full $(if $(HUGE),--huge) $(BENCH_ARGS)

# The long fuzz and kill loops of tests/reliability (make test runs short versions of the same tests);
# each test's figures are printed and appended to $(RELIABILITY_FIGURES) for docs/reliability.md.
RELIABILITY_FIGURES ?= build/reliability-figures.jsonl
reliability: $(STAMP)
	mkdir -p $(dir $(RELIABILITY_FIGURES))
	TRIALGRAPH_LONG=1 TRIALGRAPH_RELIABILITY_FIGURES=$(RELIABILITY_FIGURES) \
	  $(BIN)/pytest -q -p no:cacheprovider -s tests/reliability

clean:
	rm -rf $(VENV) $(DEMO_STORE) build *.egg-info src/*.egg-info
