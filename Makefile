# govcloud: `make demo` and `make test` work on a fresh Debian 12 machine with nothing done first.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Tests that need the lab, the Pulumi engine or a live cluster stay out of `make test-fast`.
FAST_MARKERS := not lab and not engine and not cluster
ENV ?= lab
# Reinstall when the dependency list or the Debian package list changes.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml scripts/debian-packages.txt 2>/dev/null | sha256sum | cut -c1-12)

.PHONY: install binaries control-planes demo test test-fast lint bench schemas clean

install: $(STAMP)

$(STAMP): pyproject.toml scripts/debian-packages.txt scripts/install-debian-packages
	scripts/install-debian-packages
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

# The Go components (etcd, kube-apiserver per lab Kubernetes minor, the Pulumi engine), built from
# their modules into /var/cache/govcloud/tools once per pinned version; later runs reuse them.
binaries: install
	$(BIN)/govcloud tools build

# What the lab's control planes run (etcd, kube-apiserver per Kubernetes minor): the cluster tests
# (tests/clusters) and the demo need them; built once per pin, reused from the cache after that.
control-planes: install
	$(BIN)/govcloud tools build --control-planes

demo: install binaries
	scripts/demo $(ENV)

# Every Go component: the control planes (tests/clusters, tests/infra) and the Pulumi CLI, language host
# and Kubernetes provider the engine tests (tests/engine) run; cached, so a warm run builds nothing.
test: install binaries
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Everything that needs no lab (no root, no namespaces), one worker per core, for the developer's
# loop; CI runs `make test`. FAST_JOBS=1 runs it in one process. Property tests draw a quarter of
# their examples here (tests/budget.py); `make test` draws them all. Work stealing: a worker
# that runs out takes tests queued for the other, so neither ends alone behind a long test.
FAST_JOBS ?= auto
test-fast: install
	GOVCLOUD_FAST=1 $(BIN)/python -m pytest -m "$(FAST_MARKERS)" -n $(FAST_JOBS) --dist worksteal $(PYTEST_ARGS)

lint: install
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q tests/unit/test_schemas.py

bench: install
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

schemas: install
	$(BIN)/govcloud schema export

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
