from typing import ClassVar

import pytest

from deployments.engines.base import TokenizedCheckpoint
from deployments.engines.families import PairSelection


class Config:
    model_type = "t5"
    task_specific_params: ClassVar = {"summarization": {"num_beams": 4}}


def test_a_checkpoint_without_translation_pairs_is_refused():
    checkpoint = TokenizedCheckpoint()
    checkpoint.config, checkpoint.tokenizer = Config(), None
    with pytest.raises(ValueError, match=r"offers no language pair.*translation_<source>_to_"):
        checkpoint._find_pairs("some/model", PairSelection())
