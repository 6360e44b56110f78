# Two entry points: `make demo` (live dashboard replaying the data bundle) and `make test`.
# Everything installs into .venv; Debian packages (Chromium, CJK fonts, poppler) for browser/PDF tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export RUMOURWATCH_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: demo test setup system-deps

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed

system-deps:
	bash scripts/install-system-deps.sh

demo: setup
	$(VENV)/bin/rumourwatch demo

# Two workers (the CI machine has two cores), each taking whole test files, so a file's module
# fixtures (a dashboard server, a browser) start once: the suite's training runs share the cores.
TEST_WORKERS ?= 2

test: setup system-deps
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15
