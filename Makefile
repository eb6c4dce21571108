# Two commands on a fresh clone: `make demo` and `make test`. Only python3 is assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000

.PHONY: demo test install bench clean data lint format typecheck docs check serve

# The pipeline's own modules are compiled by the targets that run it, as pip does for a regular
# install (an editable install leaves it to the first import, which never caches it where
# PYTHONDONTWRITEBYTECODE is set: every `gtb` process would compile them again). Compiling again
# after an edit is quick: only the changed modules are.
BYTECODE := $(BIN)/python -m compileall -q pipeline schemas demo

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)
	$(BYTECODE)

demo: $(STAMP)
	$(BYTECODE)
	$(BIN)/python -m demo

serve: $(STAMP)
	$(BYTECODE)
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
	$(BYTECODE)
	$(BIN)/python benchmarks/bench_run.py

data: $(STAMP)
	$(BIN)/python -m demo.data inputs

clean:
	rm -rf outputs/*
