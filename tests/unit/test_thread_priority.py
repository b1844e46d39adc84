"""realtime_model_thread: the model thread and the OpenMP threads it starts on SCHED_FIFO, asked
for per thread, with a logged fallback where the process may not."""

import asyncio
import glob
import logging
import os
import threading

from deployments.messages import TextItem
from deployments.segmentation import SegmentedText
from deployments.thread_priority import calling_thread_policy, make_calling_thread_realtime
from deployments.translator import Translator
from tests.realtime import needs_fifo


def thread_policies() -> dict[int, int]:
    """Every thread of this process: its scheduling policy (field 41 of /proc/.../stat)."""
    policies = {}
    for path in glob.glob(f"/proc/{os.getpid()}/task/*/stat"):
        with open(path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        policies[int(path.split("/")[-2])] = int(fields[38])
    return policies


@needs_fifo
def test_a_realtime_thread_passes_its_policy_to_the_threads_it_starts():
    seen = {}

    def model_thread():
        seen["model"] = make_calling_thread_realtime()
        child = threading.Thread(target=lambda: seen.setdefault("child", calling_thread_policy()))
        child.start()
        child.join()

    worker = threading.Thread(target=model_thread)
    worker.start()
    worker.join()
    assert seen == {"model": "fifo", "child": "fifo"}
    assert calling_thread_policy() == "other"  # the caller's own thread is untouched


def test_without_permission_the_thread_stays_ordinary_and_says_why(monkeypatch, caplog):
    def refuse(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    with caplog.at_level(logging.WARNING, logger="ray.serve"):
        assert make_calling_thread_realtime() == "other"
    assert "CAP_SYS_NICE" in caplog.text and "Operation not permitted" in caplog.text
    assert calling_thread_policy() == "other"


@needs_fifo
def test_the_translator_runs_its_model_calls_realtime_and_switches_back_in_place(
    phrasebook_checkpoint,
):
    replica = Translator.func_or_class()
    settings = {"model": str(phrasebook_checkpoint), "device": "cpu", "torch_threads": 2}
    replica.reconfigure({**settings, "realtime_model_thread": True})
    model = replica._model
    policy_in_call = []
    original = model.translate_encoded

    def spy(input_ids, target):
        policy_in_call.append(calling_thread_policy())
        return original(input_ids, target)

    model.translate_encoded = spy
    sentences = [TextItem(text, "fr") for text in ("Good night.", "Thank you.", "Hello world!")]

    async def calls():
        first = await replica.translate_batch(sentences)
        fifo_threads = [tid for tid, policy in thread_policies().items() if policy == 1]
        replica.reconfigure({**settings, "realtime_model_thread": False})
        second = await replica.translate_batch(sentences)
        return first, fifo_threads, second

    first, fifo_threads, second = asyncio.run(calls())
    assert first.outcomes == second.outcomes
    assert all(isinstance(outcome, SegmentedText) for outcome in first.outcomes)
    # the model thread and the OpenMP thread it started for a call of 3 texts on 2 threads
    assert len(fifo_threads) >= 2
    assert policy_in_call == ["fifo", "other"]
    assert replica._model is model  # switched in place, no reload
    assert replica.describe()["model_thread_policy"] == "other"
