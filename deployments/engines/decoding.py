"""Which languages a checkpoint translates into, and how to decode each one.

transformers 4's translation pipeline read a checkpoint's
``task_specific_params["translation_en_to_<target>"]``: a ``prefix`` put before the text and the
rest handed to ``generate``. transformers 5 removed that pipeline, so this module reproduces the
rule, in pure Python, so that a user gets what the tutorial's pipeline gave them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TASK_PREFIX = "translation_en_to_"


@dataclass(frozen=True)
class TargetDecoding:
    """The prefix and ``generate`` keyword arguments for one target language."""

    target: str
    prefix: str
    generate_kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fixed_length(self) -> bool:
        """Every output is exactly the length limit, by request (minimum = maximum): reaching
        the limit without an end token is then no sign of a cut translation."""
        kwargs = self.generate_kwargs
        if kwargs.get("max_new_tokens") is not None:
            return (kwargs.get("min_new_tokens") or 0) >= kwargs["max_new_tokens"]
        maximum = kwargs.get("max_length")
        return maximum is not None and (kwargs.get("min_length") or 0) >= maximum


def targets_from_task_params(
    task_specific_params: Mapping[str, Mapping[str, Any]] | None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, TargetDecoding]:
    """Every ``translation_en_to_*`` entry of a checkpoint's config, with ``overrides`` on top.

    ``overrides`` holds decoding settings from the deployment's config (``num_beams`` and the
    like); they replace the checkpoint's value for every target.
    """
    targets: dict[str, TargetDecoding] = {}
    for task, params in (task_specific_params or {}).items():
        if not task.startswith(TASK_PREFIX):
            continue
        target = task.removeprefix(TASK_PREFIX)
        kwargs = {key: value for key, value in params.items() if key != "prefix"}
        kwargs.update(overrides or {})
        targets[target] = TargetDecoding(
            target=target, prefix=params.get("prefix", ""), generate_kwargs=kwargs
        )
    return dict(sorted(targets.items()))
