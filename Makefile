# socklab: two commands for a fresh machine, `make lab` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.socklab-installed
TEST_STAMP := $(VENV)/.socklab-test-installed
PIP_FLAGS ?= --quiet --disable-pip-version-check
# nbgrader runs `alembic` from PATH when it creates a gradebook.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help install install-test lab lab-instructor hub test release bench clean

help:
	@echo "make lab             JupyterLab on your own copies of the notebooks (work/)"
	@echo "make lab-instructor  JupyterLab on solutions/ (.md sources open as notebooks) with formgrader"
	@echo "make hub             (root) a class on JupyterHub, 127.0.0.1 only: STUDENTS=alice,bob"
	@echo "make test            create/update .venv and run every test"
	@echo "make release         build solutions/*.ipynb from the .md sources, then notebooks/ (nbgrader)"
	@echo "make bench           benchmarks, ratios measured side by side"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project's metadata changes; the package itself is editable.
# A student's `make lab` installs what the lab needs; `make test` adds the test tools (the
# "test" extra: pytest, Playwright), which a student never downloads.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/python -m pip install $(PIP_FLAGS) -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[test]'
	touch $@

install: $(STAMP)

install-test: $(TEST_STAMP)

lab: install
	$(BIN)/python -m socklab.lab --mode student

lab-instructor: install
	$(BIN)/python -m socklab.lab --mode instructor

# The class hub: run as root (it creates one Unix account per person, as TLJH does).
STUDENTS ?= student1,student2,student3
INSTRUCTOR ?= instructor
hub: install
	$(BIN)/socklab hub --instructor $(INSTRUCTOR) --students $(STUDENTS)

# Two workers (tests/conftest.py: one unit per test file; the browser tests together on one).
# Three are ~1 min faster on two cores but load the machine enough to upset timing-bound checks.
TEST_JOBS ?= 2
test: install-test
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadgroup

release: install
	$(BIN)/socklab release

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) bench/results tests/artifacts
