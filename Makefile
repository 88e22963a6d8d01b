# From a fresh clone, two commands:
#   make demo    the example site against the built-in Single Connect simulator
#   make test    the whole test suite, with the reason of every skip
# Both create .venv (with $(PYTHON), 3.10 or later) and install the package with its test
# tools when needed: again only when pyproject.toml changes.
#
#   make demo ADDRPORT=127.0.0.1:8001    another address for the demo
#   make test PYTEST_ARGS="-x tests/test_flow.py"
#   make screenshots                     refresh docs/images/ (needs Chromium)
#   make install EXTRAS=test,dev         install again, with other extras (.ci/run does)

PYTHON ?= python3
VENV ?= .venv
ADDRPORT ?= 127.0.0.1:8000
EXTRAS ?= test
PYTEST_ARGS ?=
SCREENSHOTS ?= docs/images

VENV_PYTHON := $(VENV)/bin/python
# Written once the install succeeded; older than pyproject.toml means "install again".
INSTALLED := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help demo test screenshots install

help:
	@echo "make demo     run the demo site (ADDRPORT=$(ADDRPORT)); sign in as demo / demo"
	@echo "make test     run the whole test suite (PYTEST_ARGS=... for more pytest options)"
	@echo "make screenshots   refresh the pictures in $(SCREENSHOTS)/"

demo: $(INSTALLED)
	$(VENV_PYTHON) manage.py demo --addrport $(ADDRPORT)

test: $(INSTALLED)
	$(VENV_PYTHON) -m pytest -rs $(PYTEST_ARGS)

screenshots: $(INSTALLED)
	SINGLECONNECT_SCREENSHOTS=$(SCREENSHOTS) SINGLECONNECT_REQUIRE_BROWSER=1 \
	  $(VENV_PYTHON) -m pytest -rs tests/e2e/test_screenshots.py $(PYTEST_ARGS)

define install_package
	@echo "Installing django-singleconnect and its tools ($(EXTRAS)) into $(VENV)..."
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip
	$(VENV_PYTHON) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(INSTALLED)
endef

$(INSTALLED): pyproject.toml | $(VENV_PYTHON)
	$(install_package)

# Always, with whatever EXTRAS says (they should include "test" for `make test`).
install: | $(VENV_PYTHON)
	$(install_package)

$(VENV_PYTHON):
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "make: $(PYTHON) not found. Install Python 3.10 or later," \
	    "or name one: make $(MAKECMDGOALS) PYTHON=python3.12" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { \
	  echo "make: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())')," \
	    "too old: django-singleconnect needs Python 3.10 or later." \
	    "Name a newer one: make $(MAKECMDGOALS) PYTHON=python3.12" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "make: $(PYTHON) -m venv failed (Debian and Ubuntu: apt-get install python3-venv)" >&2; \
	  exit 1; }
