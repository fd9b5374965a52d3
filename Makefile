# twinstudio — `make run` starts the product, `make test` runs every test.
# `make install` is the shared, idempotent install step both use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.install-stamp
DEV_STAMP := $(VENV)/.dev-stamp
# mediapipe 0.10.21 is the last wheel that bundles its face-mesh and segmentation models; its
# declared jax / GUI-OpenCV dependencies are not needed, so it is installed with --no-deps.
MEDIAPIPE := mediapipe==0.10.21
# Japanese text analysis for the Kokoro voices; --no-deps skips a dictionary package they don't use.
JAPANESE := pyopenjtalk-plus==0.4.1.post10 sudachipy==0.7.0
# eSpeak NG (40+ languages), Festival with the free HTS "slt" US English female voice, and a font
# for burned-in captions.
SYSTEM_PACKAGES := espeak-ng festival festvox-us-slt-hts fonts-dejavu-core

.PHONY: install install-dev system-packages run test lint typecheck clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-packages
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps $(MEDIAPIPE) $(JAPANESE)
	@touch $@

install-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

# Debian packages, installed when we are root and they are missing (skipped otherwise).
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "installing system packages:$$missing"; \
	    (apt-get install -y -qq $$missing >/dev/null 2>&1 || (apt-get update -qq >/dev/null && apt-get install -y -qq $$missing >/dev/null)); \
	  else echo "note: optional system packages missing:$$missing (install them for more voices)"; fi; \
	fi

run: install
	$(BIN)/twinstudio serve

test: install-dev
	$(BIN)/python -m pytest -q

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
