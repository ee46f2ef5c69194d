# Two commands on a fresh clone (only Python 3.11 needed): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint chromium bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-installs only when a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	@echo ""
	@echo "  Team Ops Assistant on http://localhost:$(PORT)  (embedded database, data in ./var/)"
	@echo "  health:  curl http://localhost:$(PORT)/health"
	@echo "  try it:  $(BIN)/python app.py try \"sync at 15:30 CET tomorrow\" --tz Europe/Lisbon"
	@echo ""
	$(BIN)/python app.py --host 127.0.0.1 --port $(PORT)

# The browser tests drive Debian's Chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The lint runs first, so an unused import or an undefined name fails CI as a failing test does.
lint: $(VENV)/.installed
	$(BIN)/ruff check .

test: lint chromium
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
