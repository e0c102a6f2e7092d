# fangkong: the commands a newcomer needs. `make run` serves the demo; `make test` runs the whole suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# uv installs the dependencies: the same resolution from PyPI as pip, in some 6 s instead of 65 s (it
# downloads and unpacks in parallel), which is most of `make run`'s first two minutes on a fresh clone.
UV := $(VENV)/bin/uv
FANGKONG := $(VENV)/bin/fangkong
PYTHON ?= python3

.PHONY: run install test-install test test-fast lint bench demo clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q uv
	$(UV) pip install -q --python $(PY) -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(UV) pip install -q --python $(PY) -e '.[test]'
	touch $@

install: $(VENV)/.installed

test-install: $(VENV)/.test-installed

## Serve http://127.0.0.1:8000 on the embedded SQLite database, with the demo region loaded once.
run: install
	$(FANGKONG) db upgrade
	$(FANGKONG) demo --if-empty
	$(FANGKONG) serve

demo: install
	$(FANGKONG) demo

## The whole suite: unit, integration (SQLite and PostgreSQL), HTTP and browser tests, on two processes
## (work stealing keeps both busy to the end, since a few tests take minutes).
test: test-install
	$(VENV)/bin/pytest -n 2 --dist worksteal

test-fast: test-install
	$(VENV)/bin/pytest -m "not slow and not browser" -x

lint: test-install
	$(VENV)/bin/ruff check src tests bench migrations
	$(VENV)/bin/ruff format --check src tests bench migrations
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict bench

# Each prints a table and one JSON line per figure (bench/covasim_run.py is run by simulate.py in covasim's own venv).
BENCHES := people_import replan tracing detection detection_farrington_probe rt simulate soak placement mass_testing public_page dashboard doses_import purge

bench: test-install
	@for name in $(BENCHES); do echo "== bench/$$name.py"; $(PY) bench/$$name.py || exit 1; done

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
