# Every target creates its virtual environment when missing, so `make test` alone works on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# lightbulb 2 cannot share an environment with lightbulb 3: it gets its own.
VENV2 := .venv-lb2
BIN2 := $(VENV2)/bin
STAMP2 := $(VENV2)/.installed-stamp
# The core must work on hikari 2.7 too, which lightbulb 3.2 does not allow: a third environment, no lightbulb.
VENV3 := .venv-h27
BIN3 := $(VENV3)/bin
STAMP3 := $(VENV3)/.installed-stamp

.PHONY: demo test lint types docs docs-serve unit test-lb2 test-hikari27 simulate bench bench-quick clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,docs,lightbulb,redis,postgres,metrics]'
	touch $(STAMP)

$(STAMP2): pyproject.toml
	test -x $(BIN2)/python || $(PYTHON) -m venv $(VENV2)
	$(BIN2)/python -m pip install -q --upgrade pip
	$(BIN2)/python -m pip install -q -e '.[dev,lightbulb2]'
	touch $(STAMP2)

$(STAMP3): pyproject.toml
	test -x $(BIN3)/python || $(PYTHON) -m venv $(VENV3)
	$(BIN3)/python -m pip install -q --upgrade pip
	$(BIN3)/python -m pip install -q -e '.[dev,redis,postgres,metrics]' 'hikari>=2.7,<2.8'
	touch $(STAMP3)

demo: $(STAMP)
	$(BIN)/python -m lightbulb_lavalink demo

lint: $(STAMP)
	$(BIN)/ruff check lightbulb_lavalink tests benchmarks example_bot docs_tutorial_bot

types: $(STAMP)
	$(BIN)/mypy

# The documentation site, built strictly (a broken link or cross-reference fails) into the git-ignored site/.
# Its code blocks are run by tests/docs, part of `unit`.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

unit: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider --ignore=tests/lightbulb2

test-lb2: $(STAMP2)
	$(BIN2)/python -m pytest -q -p no:cacheprovider tests/lightbulb2

test-hikari27: $(STAMP3)
	$(BIN3)/python -m pytest -q -p no:cacheprovider tests/core tests/e2e tests/protocol --ignore=tests/e2e/test_demo.py

test: lint types docs unit test-hikari27 test-lb2

# The deterministic simulation, longer than the 2000 schedules `make test` runs, from a new seed each time
# (printed: `make simulate SEED=...` replays the same run). `make simulate N=100000 DISABLE=StoreDown,Leave`
# leaves step types out, to look for a second bug while a first is known.
N ?= 100000
SEED ?=
DISABLE ?=
simulate: $(STAMP)
	@seed=$${SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "simulation: $(N) schedules from seed $$seed (make simulate N=$(N) SEED=$$seed replays them)"; \
	SIM_EXAMPLES=$(N) SIM_SEED=$$seed SIM_DISABLE=$(DISABLE) $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/simulation/test_simulation.py --hypothesis-show-statistics

bench: $(STAMP)
	$(BIN)/python -m benchmarks

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks --quick

clean:
	rm -rf $(VENV) $(VENV2) $(VENV3) site benchmarks/.peers .mypy_cache .pytest_cache .ruff_cache
