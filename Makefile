# Quick start:  make run   (the main job on the bundled data)
#               make test  (the whole suite, Keras oracle included)
VENV   ?= .venv
PY     := $(VENV)/bin/python
# This project's machines carry a CPU wheel of torch 2.13.0 on local disk; elsewhere
# `make TORCH=torch` takes whatever torch your index serves.
TORCH  ?= torch==2.13.0

.PHONY: run test install install-test browser clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Headless Chromium for the report page test (Debian's package); skipped where it cannot be installed.
browser:
	@command -v chromium >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)) || \
	  echo "chromium not installed: the report page test will be skipped"

run: install
	$(VENV)/bin/upgan train

test: install-test browser
	UPGAN_SLOW_TESTS=1 TF_ENABLE_ONEDNN_OPTS=0 TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q

clean:
	rm -rf $(VENV) build dist src/*.egg-info
