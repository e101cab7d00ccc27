# The README's two commands: `make run` (set up + the whole pipeline) and `make test` (set up + tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN ?= runs/quick
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast lint gui-deps study bench ship clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[app,train,bench,dev]"  # app: OpenCV with its window (the GUI tests)
	touch $(STAMP)

setup: $(STAMP)

# data -> train (quick preset) -> export -> quantize -> verify -> benchmark
run: setup
	$(BIN)/digitkit data
	$(BIN)/digitkit train --preset quick --out $(RUN) --resume
	$(BIN)/digitkit export $(RUN)/checkpoint.pt --out $(RUN)/model.onnx
	$(BIN)/digitkit quantize $(RUN)/model.onnx
	$(BIN)/digitkit verify $(RUN)/model.onnx $(RUN)/model.int8.onnx --checkpoint $(RUN)/checkpoint.pt
	$(BIN)/digitkit bench --quick --model $(RUN)/model.onnx --checkpoint $(RUN)/checkpoint.pt --out $(RUN)/bench

# Xvfb, xdotool and fonts for the real-window app tests (skipped with a reason when absent)
gui-deps:
	@if command -v Xvfb >/dev/null && command -v xdotool >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb xdotool fonts-dejavu-core x11-apps imagemagick >/dev/null) \
		|| echo "gui-deps: could not install Xvfb/xdotool; GUI tests will be skipped"; \
	else echo "gui-deps: no Xvfb/xdotool and no root apt-get; GUI tests will be skipped"; fi

test: setup gui-deps
	$(BIN)/ruff check .
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest -m "not slow"

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# the real figures in the README (minutes, not seconds)
study: setup
	$(BIN)/digitkit compare --out docs/study

bench: setup
	$(BIN)/digitkit bench

# retrain the shipped CNN (preset full, ~15-30 min on 2 cores) and replace runtime/models/digitkit-cnn*;
# then re-run `python -m digitkit.benchmarks.robustness --checkpoint runs/full/checkpoint.pt` and `make bench`
ship: setup
	$(BIN)/digitkit train --preset full --out runs/full --resume
	$(BIN)/digitkit export runs/full/checkpoint.pt --out runtime/models/digitkit-cnn.onnx
	$(BIN)/digitkit quantize runtime/models/digitkit-cnn.onnx --choose
	$(BIN)/digitkit verify runtime/models/digitkit-cnn.onnx runtime/models/digitkit-cnn.int8.onnx \
		--checkpoint runs/full/checkpoint.pt --min-accuracy 0.9965 --max-int8-drop 0.10 \
		--model-card runtime/models/MODEL_CARD.md

clean:
	rm -rf runs .pytest_cache
