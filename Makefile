# Two commands do everything; each sets up .venv on first use.
#   make lab    open JupyterLab on the notebooks
#   make test   lint, then the whole test suite (library, notebooks, grading, browser)
#   make check  lint and the unit tests only (under a minute; `--lf` reruns failures)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: lab test check notebooks nav student clean-venv

# JupyterLab defaults for this environment (jupyter/README.md); as root (a
# container or cloud VM) JupyterLab refuses to start without --allow-root.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
LAB_ARGS ?=

lab: $(VENV)/.installed
	@mkdir -p $(LAB_SETTINGS) && cp jupyter/overrides.json $(LAB_SETTINGS)/overrides.json
	@$(BIN)/python tools/make_student.py --out student --keep
	@if [ "$$(id -u)" = 0 ]; then \
	  echo "make lab: running as root (a container or cloud VM?), so JupyterLab starts with --allow-root"; \
	  root=--allow-root; fi; \
	$(BIN)/jupyter lab --LabApp.default_url=/lab/tree/student/00_setup_check.ipynb $$root $(LAB_ARGS)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest

check: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest tests cnnlib -m "not slow" -q

# Maintainers: re-execute every notebook cleanly and refresh navigation.
notebooks: $(VENV)/.installed
	$(BIN)/python tools/make_nav.py
	$(BIN)/python tools/execute_notebooks.py

# Teachers: student copies of every notebook into student/ (see TEACHING.md).
student: $(VENV)/.installed
	$(BIN)/python tools/make_student.py --out student --force

$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

clean-venv:
	rm -rf $(VENV)
