# Two commands on a fresh machine:  `make serve`  and  `make test`.
# The virtualenv is rebuilt only when pyproject.toml changes (stamp file).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
ARGS ?=
PYTEST_ARGS ?=
# `make test` runs on every core (pytest-xdist); TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto

.PHONY: setup
setup: $(STAMP) system-deps native

# The kit's native helpers (the preload library of command clients, the syscall tracer of
# Go and static clients), built ahead into their cache: the kit builds them on first use too.
.PHONY: native
native: $(STAMP) system-deps
	$(PY) -c 'from contract_tests.native_build import virtual_clock_library as build; build()'
	$(PY) -m contract_tests.syscall_clock

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

.PHONY: system-deps
system-deps:
	bash scripts/install-system-deps.sh

.PHONY: serve
serve: $(STAMP)
	$(VENV)/bin/mockserver serve $(ARGS)

.PHONY: test
test: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

.PHONY: lint
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

.PHONY: typecheck
typecheck: $(STAMP)
	$(VENV)/bin/mypy

.PHONY: check
check: lint typecheck test

# Side-by-side load benchmarks on loopback (wrk; WireMock and Prism from npm into bench/):
# a few minutes; writes bench/RESULTS.md. Not part of `make test`.
.PHONY: bench
bench: setup
	$(PY) bench/run.py --output bench/RESULTS.md
	$(PY) bench/ceiling.py --output bench/RESULTS-ceiling.md
	$(PY) bench/redis_polls.py
	$(PY) bench/contract_kit.py

.PHONY: clean
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis artifacts

# The image built and run for real with podman (Debian's, runc), from a local Debian base made
# with debootstrap: create -> poll -> download from outside, restart on the same volume. A few
# minutes cold (base image and layers are cached); needs root. Run by .ci/run after the tests.
.PHONY: container-test
container-test: setup
	$(PY) scripts/container_test.py
