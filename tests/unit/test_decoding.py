import pytest

from deployments.engines.decoding import Pair, PairDecoding, pairs_from_task_params

# t5-small's own task_specific_params (shared/reference/t5-small-config.json), copied so this
# test runs where ../shared is absent.
T5_SMALL_TASK_PARAMS = {
    "summarization": {
        "early_stopping": True,
        "length_penalty": 2.0,
        "max_length": 200,
        "min_length": 30,
        "no_repeat_ngram_size": 3,
        "num_beams": 4,
    },
    "translation_en_to_de": {
        "early_stopping": True,
        "max_length": 300,
        "num_beams": 4,
        "prefix": "translate English to German: ",
    },
    "translation_en_to_fr": {
        "early_stopping": True,
        "max_length": 300,
        "num_beams": 4,
        "prefix": "translate English to French: ",
    },
    "translation_en_to_ro": {
        "early_stopping": True,
        "max_length": 300,
        "num_beams": 4,
        "prefix": "translate English to Romanian: ",
    },
}


def test_t5_small_offers_french_german_and_romanian_from_english():
    pairs = pairs_from_task_params(T5_SMALL_TASK_PARAMS)
    assert list(pairs) == [Pair("en", "de"), Pair("en", "fr"), Pair("en", "ro")]
    assert [pair.key for pair in pairs] == ["en-de", "en-fr", "en-ro"]


def test_prefix_and_decoding_are_the_pipelines():
    french = pairs_from_task_params(T5_SMALL_TASK_PARAMS)[Pair("en", "fr")]
    assert french.prefix == "translate English to French: "
    assert dict(french.generate_kwargs) == {
        "early_stopping": True,
        "max_length": 300,
        "num_beams": 4,
    }
    assert (french.source_language, french.target_token) == (None, None)


def test_any_source_language_is_a_pair():
    pairs = pairs_from_task_params({"translation_de_to_fr": {"prefix": "p: "}})
    assert list(pairs) == [Pair("de", "fr")]


def test_overrides_replace_the_checkpoints_values_for_every_pair():
    pairs = pairs_from_task_params(T5_SMALL_TASK_PARAMS)
    overridden = [d.with_overrides({"num_beams": 1, "max_length": 50}) for d in pairs.values()]
    for decoding in overridden:
        assert decoding.generate_kwargs["num_beams"] == 1
        assert decoding.generate_kwargs["max_length"] == 50
        assert decoding.generate_kwargs["early_stopping"] is True
    assert pairs[Pair("en", "fr")].generate_kwargs["num_beams"] == 4  # the declared one stays


def test_a_checkpoint_without_translation_tasks_has_no_pairs():
    assert pairs_from_task_params(None) == {}
    assert pairs_from_task_params({"summarization": {"num_beams": 4}}) == {}


@pytest.mark.parametrize(
    ("kwargs", "fixed"),
    [
        ({"max_length": 33, "min_length": 33}, True),
        ({"max_length": 300}, False),
        ({"max_length": 300, "min_length": 10}, False),
        ({"max_new_tokens": 32, "min_new_tokens": 32}, True),
        ({"max_new_tokens": 32, "min_length": 40}, False),
        ({}, False),
    ],
)
def test_fixed_length_decoding_is_told_apart(kwargs, fixed):
    assert PairDecoding(Pair("en", "fr"), generate_kwargs=kwargs).fixed_length is fixed
