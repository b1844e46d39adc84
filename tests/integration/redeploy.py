"""Deploy the integration instance with a changed user_config for a test, and put back what
was deployed before afterwards (in place: no replica restarts either way)."""

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from graph.deploy import change_translator, deploy, deployment_of


@contextmanager
def translator_changed(graph_config: dict, **changes: Any) -> Iterator[None]:
    with _changed(graph_config, "Translator", changes):
        yield


@contextmanager
def ingress_changed(graph_config: dict, **changes: Any) -> Iterator[None]:
    with _changed(graph_config, "TranslationIngress", changes):
        yield


# What is deployed now: nested changes build on one another.
_current: list[dict] = []


@contextmanager
def _changed(graph_config: dict, deployment: str, changes: dict[str, Any]) -> Iterator[None]:
    base = _current[-1] if _current else graph_config
    changed = copy.deepcopy(base)
    user_config = deployment_of(changed, deployment)["user_config"]
    if deployment == "Translator":
        change_translator(user_config, **changes)  # a model's keys: its first model's
    else:
        user_config.update(changes)
    _current.append(changed)
    try:
        deploy(changed)
        yield
    finally:
        _current.pop()
        deploy(_current[-1] if _current else graph_config)
