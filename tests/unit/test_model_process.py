"""benchmarks/model_process.py: the model alone in a fresh process, timed on request."""

import pytest

from benchmarks.model_process import ModelProcess
from benchmarks.workloads import workload


def test_it_times_a_lone_sentence_and_a_batched_limit_then_exits_cleanly(phrasebook_checkpoint):
    with ModelProcess(str(phrasebook_checkpoint), threads=1) as model:
        lone = [model.lone_ms("Hello world.") for _ in range(3)]
        rate = model.sentences_per_s(workload("uniform", 8, seed=0))
    assert all(0 < ms < 60_000 for ms in lone)
    assert rate > 0
    assert model.returncode == 0


def test_a_checkpoint_that_cannot_load_fails_loudly(tmp_path):
    model = ModelProcess(str(tmp_path / "no-such-checkpoint"), threads=1)
    with pytest.raises(RuntimeError, match="did not start"):
        model.__enter__()
