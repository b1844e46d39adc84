import pytest

from deployments.engines.base import TokenizedCheckpoint


def test_a_checkpoint_without_translation_targets_is_refused():
    checkpoint = TokenizedCheckpoint()
    checkpoint.targets = {}
    with pytest.raises(ValueError, match="declares no translation_en_to_"):
        checkpoint._require_targets("some/model")
