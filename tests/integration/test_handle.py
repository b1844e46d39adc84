"""The graph through a Python DeploymentHandle, as a caller inside Ray would use it."""

import pytest

from deployments.core.errors import (
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedSource,
    UnsupportedTarget,
)
from deployments.text.typography import NARROW_NBSP as N

pytestmark = pytest.mark.integration


def test_a_string_gives_a_string(graph):
    assert graph.translate.remote("Hello world!").result() == f"Bonjour le monde{N}!"


def test_a_list_gives_a_list_in_order(graph):
    result = graph.translate.remote(["Good night.", "Yes.", "Hello world!"]).result()
    assert result == ["Bonne nuit.", "Oui.", f"Bonjour le monde{N}!"]


def test_source_is_a_keyword_and_auto_detects(graph):
    assert graph.translate.remote("Good night.", source="en").result() == "Bonne nuit."
    assert graph.translate.remote("Good night.", source="auto").result() == "Bonne nuit."


def test_target_is_a_keyword(graph):
    assert graph.translate.remote("Hello world!", target="de").result() == "Hallo Welt!"


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("",), {}, InvalidRequest, "empty or whitespace only"),
        ((17,), {}, InvalidRequest, "must be a string or a list of strings"),
        ((["a"] * 65,), {}, PayloadTooLarge, "the limit is 64"),
        (("Hello",), {"target": "xx"}, UnsupportedTarget, "supported: de, fr"),
        (("Ciao",), {"source": "it"}, UnsupportedSource, "'it' is not served; sources: de, en"),
    ],
)
def test_the_same_validation_as_http(graph, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        graph.translate.remote(*args, **kwargs).result()
