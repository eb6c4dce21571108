# Two commands on a fresh clone: `make demo` and `make test`. Only python3 is assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000

.PHONY: demo test install bench clean data lint format typecheck docs check serve

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m demo

serve: $(STAMP)
	$(BIN)/python -m demo.serve --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/python -m pipeline.docs

check: lint typecheck test

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_run.py

data: $(STAMP)
	$(BIN)/python -m demo.data inputs

clean:
	rm -rf outputs/*
