# The README's two commands: `make run` (set up + the whole pipeline) and `make test` (set up + tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN ?= runs/quick
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast typecheck test-py310 lint gui-deps web-deps web study bench ship clean edge-check \
	device-profile

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

# headless Chromium and its driver for the browser tests of the web page (skipped with a reason when absent)
web-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
		|| echo "web-deps: could not install chromium/chromedriver; browser tests will be skipped"; \
	else echo "web-deps: no chromium/chromedriver and no root apt-get; browser tests will be skipped"; fi

# the page in web/ (docs: README "In the browser"): onnxruntime-web from npm (web/package-lock.json), the shipped
# models and their metadata in web/dist; `digitkit web` serves it
web: setup
	@if ! command -v npm >/dev/null; then echo "web: no npm; the page is not built and its tests will be skipped"; \
	else (cd web && npm ci --no-audit --no-fund --loglevel=error) \
		|| echo "web: npm ci failed; the page is not built and its tests will be skipped"; fi
	@if [ -d web/node_modules/onnxruntime-web ]; then $(BIN)/digitkit web --build; fi

# the GUI tests need Xvfb and xdotool: `make gui-deps` (root) installs them; .ci/run calls it first
test: setup typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# the tier to run while working (about a minute on 2 cores): no end-to-end runs, no evaluations on ../shared, no
# browser; two workers of one thread each, a file per worker (module fixtures load once)
test-fast: setup
	OMP_NUM_THREADS=1 $(BIN)/pytest -m "not slow and not shared and not browser" -n 2 --dist loadfile

# mypy on the torch-free runtime, as the installed package lays it out (digitkit.runtime is runtime/ through
# pyproject's package-dir, which mypy cannot follow): links under build/typecheck
typecheck: setup
	rm -rf build/typecheck && mkdir -p build/typecheck/digitkit
	for f in digitkit/*.py; do ln -s ../../../$$f build/typecheck/digitkit/; done
	ln -s ../../../runtime build/typecheck/digitkit/runtime
	cd build/typecheck && ../../$(BIN)/mypy --config-file ../../pyproject.toml -p digitkit.runtime

# the runtime's tests on Python 3.10, the oldest pyproject admits (torch-free: the runtime and app extras only;
# tests that need the train extra skip); skipped with a line where no python3.10 is found
# the first python3.10 that runs (a pyenv shim of an inactive version does not)
PY310 ?= $(shell for p in $$(ls $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.10*/bin/python3.10 2>/dev/null) \
	$$(command -v python3.10); do $$p -c '' 2>/dev/null && echo $$p && break; done)
RUNTIME_TESTS := tests/test_recognizer.py tests/test_reading.py tests/test_runtime_cli.py tests/test_images.py \
	tests/test_odd_sizes.py tests/test_marks.py tests/test_words.py tests/test_forms.py tests/test_several_digits.py \
	tests/test_vision_config.py tests/test_vision_stages.py tests/test_vision_fast_paths.py tests/test_vision_to_mnist.py \
	tests/test_fuzz.py tests/test_runtime_isolation.py tests/test_errors_batches.py tests/test_app_canvas.py \
	tests/test_app_draw.py tests/test_app_frames.py tests/test_app_stream.py tests/test_app_sources.py tests/test_app_cli.py
test-py310:
	@if [ -z "$(PY310)" ]; then echo "test-py310: no python3.10 here; skipped"; else \
		[ -x .venv310/bin/pytest ] || ($(PY310) -m venv .venv310 && .venv310/bin/pip install -q -e ".[app]" pytest hypothesis onnx); \
		.venv310/bin/python --version && OMP_NUM_THREADS=1 .venv310/bin/pytest -q -m "not slow and not shared" $(RUNTIME_TESTS); fi

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# the real figures in the README (minutes, not seconds)
study: setup
	$(BIN)/digitkit compare --out docs/study

bench: setup
	$(BIN)/digitkit bench

# retrain the shipped models: preset full on MNIST (~25 min on 2 quiet cores), full-writers fine-tunes it on MNIST + CVL
# train (~5 min; ../shared/data/cvl or $$DIGITKIT_CVL_DIR, without which `make ship` stops first, with one line naming
# the missing file), and tiny-writers learns both from scratch taught by full-writers (~20 min); export fits each softmax
# temperature on CVL valid's writers, and runtime/models/digitkit-{cnn,tiny}* and the digit guard are replaced; the
# threshold rule is printed
# (set recognizer.DEFAULT_MIN_CONFIDENCE to it if it moved), then `make bench`
ship: setup
	$(BIN)/python -m digitkit.train.cvl  # the CVL files the recipe needs: one line and a stop when one is missing
	$(BIN)/digitkit train --preset full --out runs/full --resume
	$(BIN)/digitkit train --preset full-writers --out runs/full-writers --resume
	$(BIN)/digitkit train --preset tiny-writers --out runs/tiny-writers --resume
	$(BIN)/digitkit export runs/full-writers/checkpoint.pt --out runtime/models/digitkit-cnn.onnx
	$(BIN)/digitkit export runs/tiny-writers/checkpoint.pt --out runtime/models/digitkit-tiny.onnx
	$(BIN)/digitkit quantize runtime/models/digitkit-cnn.onnx --choose
	$(BIN)/digitkit quantize runtime/models/digitkit-tiny.onnx --choose
	$(BIN)/digitkit calibrate runtime/models/digitkit-cnn.onnx runtime/models/digitkit-cnn.int8.onnx \
		runtime/models/digitkit-tiny.onnx runtime/models/digitkit-tiny.int8.onnx --no-verify
	$(BIN)/python -m digitkit.train.guard  # the digit guard: two networks averaged (its own data; about 25 minutes)
	$(BIN)/python -m digitkit.train.threshold  # the rule for recognizer.DEFAULT_MIN_CONFIDENCE: check it still holds
	$(BIN)/python -m digitkit.train.handwriting --reliability docs/reliability.png  # figures the model card quotes
	$(BIN)/digitkit verify runtime/models/digitkit-cnn.onnx runtime/models/digitkit-cnn.int8.onnx \
		--checkpoint runs/full-writers/checkpoint.pt --min-accuracy 0.9965 --max-int8-drop 0.10
	$(BIN)/digitkit verify runtime/models/digitkit-tiny.onnx runtime/models/digitkit-tiny.int8.onnx \
		--checkpoint runs/tiny-writers/checkpoint.pt --min-accuracy 0.993 --max-int8-drop 0.10 \
		--model-card runtime/models/MODEL_CARD.md

# The runtime on linux/aarch64 under QEMU (docs/edge.md): installed as a device user would, `digitkit predict`
# and `read` on pictures, and the models' logits on all 10,000 MNIST test digits against this x86 host, fp32 and
# int8. Needs root and apt-get (qemu-user-static, debootstrap); the arm64 root and wheels are cached in EDGE_CACHE.
EDGE_CACHE ?= /var/cache/digitkit-edge
edge-check: setup
	EDGE_CACHE=$(EDGE_CACHE) HOST_PY=$(BIN)/python edge/check.sh  # its log: $(EDGE_CACHE)/edge-check.log

# Cold start, peak RSS and installed size of fresh installs side by side (plain, headless, desktop), and each
# model file's size and batch-1 cost; writes benchmarks/results/device_profile.{md,json}
PROFILE_VENVS ?= /tmp/digitkit-profile
device-profile: setup
	rm -rf $(PROFILE_VENVS) && mkdir -p $(PROFILE_VENVS)
	$(PYTHON) -m venv $(PROFILE_VENVS)/model && $(PROFILE_VENVS)/model/bin/pip install -q .
	$(PYTHON) -m venv $(PROFILE_VENVS)/headless && $(PROFILE_VENVS)/headless/bin/pip install -q ".[headless]"
	$(PYTHON) -m venv $(PROFILE_VENVS)/desktop && $(PROFILE_VENVS)/desktop/bin/pip install -q ".[app]"
	$(BIN)/python -m digitkit.benchmarks.device_profile --out benchmarks/results \
		--venv headless=$(PROFILE_VENVS)/headless --venv desktop=$(PROFILE_VENVS)/desktop --venv model-only=$(PROFILE_VENVS)/model

clean:
	rm -rf runs .pytest_cache
