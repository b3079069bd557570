# One command for each thing a developer does; README and CI use the same ones.
#   make setup   .venv with basinwatch installed editable with its dev extras
#   make up      install (once per machine) and start the local servers, create the topics
#   make down    stop the local servers (data is kept in ~/.local/state/basinwatch)
#   make test    unit + integration tests; starts what they need
#   make lint    ruff (lint + format check) and mypy
#   make demo    the whole system as far as it goes, live on this machine
#   make bench   the benchmark harness against the local broker

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup up down test unit integration lint format demo bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 needed, found " + sys.version)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: setup
	deploy/local/up.sh

down:
	deploy/local/down.sh

test: setup
	deploy/local/kafka.sh install
	deploy/local/influxdb.sh install
	deploy/local/chromium.sh install
	deploy/local/fonts.sh install
	$(BIN)/python -m pytest tests

unit: setup
	$(BIN)/python -m pytest tests/unit

integration: setup
	$(BIN)/python -m pytest tests/integration

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: setup
	deploy/local/fonts.sh install
	deploy/local/demo.sh

bench: setup
	deploy/local/up.sh
	$(BIN)/python -m bench.check_throughput --count 10000
	$(BIN)/python -m bench.store_throughput --count 3000
	$(BIN)/python -m bench.alert_latency --stations 60 --cycles 3
	$(BIN)/python -m bench.export_month

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
