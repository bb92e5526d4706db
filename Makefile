# agile-tui. `make run` and `make test` set up .venv themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install compile run test bench lint clean snapshots

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	@touch $(STAMP)

# Bytecode, as an installed wheel has it (this machine may set PYTHONDONTWRITEBYTECODE).
compile: $(STAMP)
	@$(BIN)/python -m compileall -q agile_tui

install: $(STAMP)

run: compile
	$(BIN)/agile-tui --demo

test: $(STAMP)
	$(BIN)/python -m pytest -n auto -m "not serial" -q
	$(BIN)/python -m pytest -m serial -q || [ $$? -eq 5 ]

bench: compile
	$(BIN)/python bench/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check agile_tui tests bench

snapshots: $(STAMP)
	$(BIN)/python -m pytest tests/test_snapshots.py tests/test_standup_snapshots.py tests/test_metrics_snapshots.py tests/test_retro_snapshots.py --snapshot-update -q

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache snapshot_report.html
