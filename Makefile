# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The checkpoint configs/local.yaml serves; `checkpoints` builds it and the other phrasebook ones.
CHECKPOINT := build/phrasebook-t5
PHRASEBOOKS := $(CHECKPOINT) build/phrasebook-marian build/phrasebook-m2m100
# Ray 2.60 requires token auth on the dashboard that `serve status/deploy` talk to.
export RAY_AUTH_MODE ?= token

.PHONY: run test test-unit lint checkpoints checkpoint clean kuberay convert

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU torch first, from local disk; the project's torch>=2.4 range then pulls nothing more.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# One recipe per folder name (checkpoints/build_phrasebook.py); each prints its build time.
PHRASEBOOK_SOURCES := $(addprefix checkpoints/,phrasebook.tsv phrasebook.py build_phrasebook.py \
	formats.py training.py)
build/phrasebook-%/model.safetensors: $(BIN)/.installed $(PHRASEBOOK_SOURCES)
	$(BIN)/python -m checkpoints.build_phrasebook $(@D)

PHRASEBOOK_FILES := $(addsuffix /model.safetensors,$(PHRASEBOOKS))
# Side by side whatever -j says: each trains on one thread (checkpoints/training.py), so two
# cores build the three in about half the time of one after another. -Otarget keeps each
# build's log together.
checkpoints:
	$(MAKE) --no-print-directory -j3 -Otarget $(PHRASEBOOK_FILES)
checkpoint: checkpoints

# `serve run configs/$(CONFIG).yaml`, on a local Ray whose Prometheus endpoint is fixed at
# http://127.0.0.1:$(METRICS_PORT)/metrics (graph/run.py). CONFIG=cpu-fast: the int8 engine.
# It checks its ports first and stops at once, naming the holder, if one is taken.
CONFIG ?= local
METRICS_PORT ?= 8080
DASHBOARD_PORT ?= 8265
run: checkpoints
	METRICS_PORT=$(METRICS_PORT) DASHBOARD_PORT=$(DASHBOARD_PORT) \
		$(BIN)/python -m graph.run configs/$(CONFIG).yaml

# The ctranslate2 engine's conversion ahead of time (it also converts on first load).
COMPUTE_TYPES ?= int8
convert: checkpoints
	$(BIN)/python -m checkpoints.convert_ctranslate2 $(CHECKPOINT) $(addprefix --compute-type ,$(COMPUTE_TYPES))

test: checkpoints
	$(BIN)/pytest

test-unit: $(BIN)/.installed
	$(BIN)/pytest -m "not integration and not slow"

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# configs/kuberay/rayservice-{cpu,gpu}.yaml from configs/{cpu,gpu}.yaml (a test fails on drift).
kuberay: $(BIN)/.installed
	$(BIN)/python -m graph.kuberay

clean:
	rm -rf build

BENCH_CHECKPOINT := build/bench-t5-small

.PHONY: bench-model bench bench-repeated
bench-model: $(BIN)/.installed
	$(BIN)/python -m checkpoints.build_bench_model $(BENCH_CHECKPOINT)

# The graph on each engine against the same model alone and the tutorial's app (docs/benchmarks.md);
# results in benchmarks/results/latest-cpu.{json,md,png}, each naming this command. BENCH_ARGS:
# --quick (every step, a few requests each), --rounds N, --device cuda (configs/gpu.yaml),
# --mixed-pairs-only (the line on local.yaml's phrasebook checkpoints, which `checkpoint` builds).
bench: bench-model checkpoint
	BENCH_COMMAND='make bench$(if $(BENCH_ARGS), BENCH_ARGS="$(BENCH_ARGS)")' \
		$(BIN)/python -m benchmarks.run $(BENCH_CHECKPOINT) $(BENCH_ARGS)

# Not in CI: the graph at 70% of its capacity for MINUTES, its Translator killed every 5 minutes;
# results in benchmarks/results/soak-cpu.{json,md} (docs/operations.md).
MINUTES ?= 30
.PHONY: soak
soak: bench-model
	$(BIN)/python -m benchmarks.soak --minutes $(MINUTES)

# Not in CI: 600 requests at once on the t5-small-shaped checkpoint; every 200 within
# max_queue_wait_s plus one model call. Results in benchmarks/results/burst-cpu.{json,md}.
.PHONY: burst
burst: bench-model
	$(BIN)/python -m benchmarks.burst

# The translation memory on repeated text (Zipf over a pool of sentences), memory on against
# "cache": false on the same graph, alternated (benchmarks/repeated_text.py); results in
# benchmarks/results/latest-repeated-text.{json,md}. BENCH_ARGS: --quick, --rounds N.
bench-repeated: bench-model
	BENCH_COMMAND='make bench-repeated$(if $(BENCH_ARGS), BENCH_ARGS="$(BENCH_ARGS)")' \
		$(BIN)/python -m benchmarks.repeated_text $(BENCH_CHECKPOINT) $(BENCH_ARGS)
