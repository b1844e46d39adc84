"""Deploy the integration instance with a changed Translator user_config for a test, and put
the shipped config back afterwards (in place: no replica restarts either way)."""

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from graph.deploy import deploy, deployment_of


@contextmanager
def translator_changed(graph_config: dict, **changes: Any) -> Iterator[None]:
    changed = copy.deepcopy(graph_config)
    deployment_of(changed, "Translator")["user_config"].update(changes)
    try:
        deploy(changed)
        yield
    finally:
        deploy(graph_config)
