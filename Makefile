# Two commands for a new user: `make run` (set up, then the main demonstration) and
# `make test` (set up, then the whole test suite). Both create .venv on first use and
# install nothing on later runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rnnkit-installed

.PHONY: run test lint format bench demo experiments clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned to the CPU wheel: any other spec pulls a multi-GB CUDA build.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --disable-pip-version-check -q torch==2.13.0
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev]'
	touch $(STAMP)

# the main job: a character language model of Shakespeare, 5 minutes on the CPU (--force:
# a second `make run` trains afresh over the first one's model)
run: $(STAMP)
	$(BIN)/rnnkit data get shakespeare
	$(BIN)/rnnkit lm train --data shakespeare --out runs/shakespeare --time 5m --force
	$(BIN)/rnnkit lm generate runs/shakespeare --prompt "ROMEO:" --length 300 --seed 0

test: $(STAMP)
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/rnnkit demo

# every textbook claim measured (under 30 minutes on 2 cores): runs/experiments/index.html
experiments: $(STAMP)
	$(BIN)/rnnkit experiment run all

# the folders that hold Python: a missing one is skipped, not an error
LINTED := $(wildcard src tests bench examples)

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)

format: $(STAMP)
	$(BIN)/ruff format $(LINTED)

# speed beside torch.nn, as ratios in one run each: layers (train, infer, bf16), then generation
bench: $(STAMP)
	$(BIN)/python bench/speed.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
