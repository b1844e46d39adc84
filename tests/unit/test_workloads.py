"""The benchmark workloads: same arguments, same sentences; lengths where they are promised."""

import subprocess
import sys

import pytest

from benchmarks.workloads import WORDS, mixed, sentence, uniform, workload


def word_count(text: str) -> int:
    return len(text.split())


def test_the_word_list_has_no_duplicates_and_only_letters():
    assert len(set(WORDS)) == len(WORDS)
    assert all(word.isalpha() for word in WORDS)


def test_same_seed_same_sentences_other_seed_others():
    assert uniform(50, seed=3) == uniform(50, seed=3)
    assert mixed(50, seed=3) == mixed(50, seed=3)
    assert uniform(50, seed=3) != uniform(50, seed=4)
    assert mixed(50, seed=3) != mixed(50, seed=4)


def test_the_first_sentence_is_pinned():
    # The bench checkpoint's tokenizer and every published figure depend on these sentences;
    # a change to the word list or the draw must be deliberate.
    assert uniform(1)[0] == (
        "Local learn language opens two give question man follows important clear keeps."
    )


def test_uniform_sentences_all_have_the_same_word_count():
    texts = uniform(200, words=12, seed=1)
    assert len(texts) == 200
    assert {word_count(text) for text in texts} == {12}


def test_mixed_spans_3_to_60_words():
    counts = [word_count(text) for text in mixed(2000, seed=1)]
    assert min(counts) == 3
    assert max(counts) == 60
    assert len(set(counts)) == 58


def test_a_sentence_is_one_capitalised_line_with_a_full_stop():
    for text in uniform(20) + mixed(20):
        assert "\n" not in text
        assert text[0].isupper()
        assert text.endswith(".")


def test_workload_by_name():
    assert workload("mixed", 5, seed=2) == mixed(5, seed=2)
    assert workload("uniform", 5) == uniform(5)
    with pytest.raises(ValueError, match="unknown workload 'zipf'"):
        workload("zipf", 5)


def test_bad_lengths_are_refused():
    import random

    with pytest.raises(ValueError):
        sentence(random.Random(0), 0)
    with pytest.raises(ValueError):
        mixed(5, min_words=10, max_words=3)


def test_the_benchmark_modules_import_neither_ray_nor_torch():
    # Ray comes in when a run starts it; torch only in the model-alone child and the replicas.
    code = (
        "import sys, benchmarks.workloads, benchmarks.load, benchmarks.model_process, "
        "benchmarks.report, benchmarks.run; "
        "print(sorted({'ray', 'torch', 'transformers'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
