"""The Marian and M2M100-style phrasebook checkpoints, on both engines, without Ray.

Each is loaded through load_engine with the languages a Translator's config gives it, offers
exactly the pairs it learned, and reproduces every phrase of them on torch and on every
CTranslate2 CPU compute type. (The T5 one: test_torch_engine.py, test_ct2_engine.py.)
"""

import pytest

from checkpoints.build_phrasebook import RECIPES
from checkpoints.phrasebook import load_phrasebook
from deployments.core.settings import CPU_COMPUTE_TYPES, ModelSettings
from deployments.engines import ct2_engine as ct2
from deployments.engines import load_engine
from deployments.engines.base import Pair

# checkpoint -> (its fixture, the config's language settings, the pairs they give).
CHECKPOINTS = {
    "phrasebook-marian": (
        "marian_phrasebook_checkpoint",
        {"source": "fr", "target": "en"},
        [Pair("fr", "en")],
    ),
    "phrasebook-m2m100": (
        "m2m100_phrasebook_checkpoint",
        {"source": "de", "languages": ("de", "en", "fr")},
        [Pair("de", "en"), Pair("de", "fr")],
    ),
}
# (engine, compute_type): torch float32 and each CTranslate2 type a CPU runs.
ENGINES = [("torch", None), *(("ctranslate2", t) for t in CPU_COMPUTE_TYPES)]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("ct2-cache"))


@pytest.fixture(scope="module", params=sorted(CHECKPOINTS))
def checkpoint(request):
    """(name, folder) of each checkpoint, built if missing."""
    fixture = CHECKPOINTS[request.param][0]
    return request.param, request.getfixturevalue(fixture)


@pytest.fixture(scope="module", params=ENGINES, ids=lambda e: "-".join(filter(None, e)))
def engine(request, checkpoint, cache_dir):
    name, folder = checkpoint
    engine_name, compute_type = request.param
    settings = ModelSettings(
        model=str(folder),
        device="cpu",
        engine=engine_name,
        compute_type=compute_type,
        **CHECKPOINTS[name][1],
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ct2.CACHE_ENV, cache_dir)
        return name, load_engine(settings, "cpu", threads=2, warm_up=False)


def test_the_build_trains_with_the_selection_the_configs_give():
    for name, (_, selection, pairs) in CHECKPOINTS.items():
        recipe = RECIPES[name]
        assert recipe.selection == selection
        assert [Pair(*pair) for pair in recipe.pairs] == pairs


def test_each_checkpoint_offers_the_pairs_it_learned(engine):
    name, loaded = engine
    assert list(loaded.pairs) == CHECKPOINTS[name][2]


def test_every_phrase_is_reproduced_exactly(engine):
    name, loaded = engine
    for pair in CHECKPOINTS[name][2]:
        phrases = load_phrasebook([pair])
        assert loaded.translate([p.text for p in phrases], pair) == [
            p.translation for p in phrases
        ], pair
