# makersync — the project's commands. Everything runs from a local .venv that
# `make install` creates with only Python 3.11+ and make present.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROTO_FILES := $(wildcard protos/makersync/v1/*.proto)
PYTEST_ARGS ?=

.PHONY: install protos run demo test bench lint clean check-python

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "makersync needs Python 3.11 or newer; found " + sys.version.split()[0])'

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## install: a local .venv with makersync and everything it needs
install: $(STAMP)

## protos: regenerate the committed gRPC code beside its .proto files
protos: $(STAMP)
	$(PY) -m grpc_tools.protoc -I protos --python_out=protos --pyi_out=protos --grpc_python_out=protos $(PROTO_FILES)

## run: the daemon on the embedded default (SQLite under the data directory)
run: $(STAMP)
	$(VENV)/bin/makersyncd

## demo: the daemon, three simulated shops, real pulls and a summary
demo: $(STAMP)
	$(PY) -m makersync.clients.demo

## test: the whole suite (PostgreSQL too where a server answers; CI requires it)
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

## bench: the benchmarks in tests/bench, each against a baseline from the same run
bench: $(STAMP)
	$(PY) -m tests.bench.run

## lint: ruff and mypy
lint: $(STAMP)
	$(VENV)/bin/ruff check daemon plugins clients tests
	$(VENV)/bin/mypy daemon plugins clients

clean:
	rm -rf $(VENV) .pytest_cache bench-results.json
