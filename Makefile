# simpeg_zo developer tasks.  `make test` works on a fresh clone: it builds
# .venv first.  torch is installed pinned BEFORE the package so that pip takes
# the local CPU wheel; an unpinned torch resolved from scratch pulls a
# multi-GB CUDA build.

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
STAMP := $(VENV)/.installed

.PHONY: venv test lint docs mtpy demo benchmark weights clean distclean

# The shipped networks' recipes (`make weights`; each step resumes when
# rerun: finished shards are kept and training restarts from its last epoch).
# block-topo: the block-topo survey (41 stations over 4 km, 1e4-1e-2 Hz);
# broadband: a field-style survey (29 stations over 14 km, 100-0.01 Hz).
# Both: 40 epochs of the width-0.25 ResNet-50 with Dice plus the regression
# term; the last 200 training samples are the validation split, the held-out
# split is left for benchmarks/learned.py.  block-topo's set draws values
# anywhere between the steps (--perturbation 0.5, the default) and its
# classes are centred on the steps and midpoints; broadband's set is a first
# one, made with the quarter-step perturbation.
DATASET := build/dataset-block-topo-half
TRAIN_SAMPLES ?= 5000
BROADBAND_DATASET := build/dataset-broadband
BROADBAND_SAMPLES ?= 1500
WORKERS ?= 2
TRAIN_FLAGS := --epochs 40 --loss dice+regression --seed 0 --threads 1
# general: the survey-neutral network, a deep ensemble of GENERAL_MEMBERS
# networks on random surveys (normalised grids); members train in parallel
# processes, a last call combines them and calibrates the spread.
GENERAL_DATASET := build/general
GENERAL_SAMPLES ?= 9000
GENERAL_MEMBERS ?= 4
GENERAL_FLAGS := --members $(GENERAL_MEMBERS) --epochs 16 --batch-size 64 --learning-rate 3e-3 --seed 0 --threads 1 \
	--validation-samples 300 --loss dice+cross-entropy+regression

venv: $(STAMP)

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --upgrade pip
	$(VENV_PYTHON) -m pip install "torch==$(TORCH_VERSION)"
	$(VENV_PYTHON) -m pip install -e ".[all,test]"
	touch $(STAMP)

test: venv
	$(VENV_PYTHON) -m pytest -q

# ruff's settings are in pyproject.toml; the tree is kept `ruff format`ted
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The documentation site: the docs extra on top of .venv, then Sphinx with
# warnings as errors. The tutorials run as its gallery with small settings
# (a few minutes on 2 cores); the output is docs/_build/html/index.html.
DOCS_STAMP := $(VENV)/.installed-docs

$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(VENV_PYTHON) -m pip install -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(VENV_PYTHON) -m sphinx -W --keep-going -b html docs docs/_build/html

# mtpy-v2 (the mtpy extra) on top of .venv. torch and setuptools stay pinned:
# aurora 0.6 (an mtpy-v2 dependency) caps setuptools below torch's floor, and
# pip would otherwise resolve torch afresh and pull a multi-GB CUDA build.
MTPY_STAMP := $(VENV)/.installed-mtpy

$(MTPY_STAMP): pyproject.toml $(STAMP)
	$(VENV_PYTHON) -m pip install -e ".[mtpy]" "torch==$(TORCH_VERSION)" "setuptools>=77"
	touch $(MTPY_STAMP)

mtpy: $(MTPY_STAMP)

demo: venv
	$(VENV)/bin/simpeg-zo demo --plots demo-output

benchmark: venv
	$(VENV_PYTHON) benchmarks/run_benchmarks.py

weights: venv
	$(VENV)/bin/simpeg-zo dataset general $(GENERAL_DATASET) --train $(GENERAL_SAMPLES) --test 600 --workers $(WORKERS) \
		--shard-size 20
	for k in $$(seq 0 $$(($(GENERAL_MEMBERS) - 1))); do \
		$(VENV)/bin/simpeg-zo train $(GENERAL_DATASET) simpeg_zo/learned/weights/general $(GENERAL_FLAGS) --member $$k & \
	done; wait
	$(VENV)/bin/simpeg-zo train $(GENERAL_DATASET) simpeg_zo/learned/weights/general $(GENERAL_FLAGS)
	$(VENV)/bin/simpeg-zo dataset block-topo $(DATASET) --train $(TRAIN_SAMPLES) --test 120 --workers $(WORKERS) \
		--perturbation 0.5
	$(VENV)/bin/simpeg-zo train $(DATASET) simpeg_zo/learned/weights/block-topo $(TRAIN_FLAGS)
	$(VENV)/bin/simpeg-zo dataset benchmarks/specs/broadband-basin.toml $(BROADBAND_DATASET) \
		--frequency-step 1 --resistivity-range 1 1000 --train $(BROADBAND_SAMPLES) --test 120 --workers $(WORKERS) \
		--perturbation 0.25
	$(VENV)/bin/simpeg-zo train $(BROADBAND_DATASET) simpeg_zo/learned/weights/broadband $(TRAIN_FLAGS)

clean:
	rm -rf build dist *.egg-info demo-output .pytest_cache docs/_build docs/generated
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print | xargs rm -rf

distclean: clean
	rm -rf $(VENV)
