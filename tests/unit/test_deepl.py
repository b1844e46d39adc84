"""DeepL's dialect as pure functions: fields from JSON, forms and queries; codes; answers."""

import pytest

from deployments.core.errors import InvalidRequest, MalformedJSON, NotFound, PayloadTooLarge
from deployments.core.settings import RequestLimits
from deployments.http import deepl
from deployments.http.auth import deepl_key, legacy_deepl_key
from deployments.http.documents import MarkupOptions
from deployments.http.errors import STATUS, Dialect, error_answer

LIMITS = RequestLimits()
FORM = "application/x-www-form-urlencoded"


def test_a_form_repeats_text_and_joins_tag_lists():
    body = b"text=Hello&text=World%21&target_lang=DE&ignore_tags=x,y&ignore_tags=z&auth_key=k"
    fields = deepl.read_fields(body, FORM)
    assert fields["text"] == ["Hello", "World!"]
    assert fields["target_lang"] == "DE"
    request = deepl.to_request({**fields, "tag_handling": "html"}, LIMITS)
    assert request.markup == MarkupOptions("html", ignore_tags=("x", "y", "z"))


def test_a_forms_crlf_line_breaks_are_the_texts_lf():
    fields = deepl.read_fields(b"text=a%0D%0Ab&target_lang=FR", f"{FORM}; charset=utf-8")
    assert fields["text"] == ["a\nb"]


def test_json_over_the_query_string():
    fields = deepl.read_fields(
        b'{"text": ["Hi."], "target_lang": "FR"}', "application/json", "target_lang=DE&x=1"
    )
    assert fields == {"text": ["Hi."], "target_lang": "FR", "x": "1"}
    assert deepl.read_fields(b"", None, "type=target") == {"type": "target"}


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (b"{", "application/json", MalformedJSON),
        (b"[1]", "application/json", InvalidRequest),
        (b"text=%ff", FORM, InvalidRequest),
        (b"x", "text/plain", InvalidRequest),
    ],
)
def test_unreadable_bodies(body, content_type, error):
    with pytest.raises(error):
        deepl.read_fields(body, content_type)


@pytest.mark.parametrize(
    ("code", "ours"),
    [("EN-GB", "en"), ("en-us", "en"), ("DE", "de"), ("PT-BR", "pt"), ("ZH-HANS", "zh")],
)
def test_deepl_codes_to_ours(code, ours):
    assert deepl.language_of(code, "target_lang") == ours


def test_a_request_in_ours():
    request = deepl.to_request({"text": "Hi.", "target_lang": "EN-US"}, LIMITS)
    assert (request.texts, request.source, request.target) == (["Hi."], "auto", "en")
    assert request.markup is None and not request.show_billed_characters
    named = deepl.to_request(
        {
            "text": ["a", "b"],
            "source_lang": "FR",
            "target_lang": "DE",
            "show_billed_characters": "1",
        },
        LIMITS,
    )
    assert (named.source, named.target, named.show_billed_characters) == ("fr", "de", True)


@pytest.mark.parametrize(
    ("fields", "error", "says"),
    [
        ({"target_lang": "DE"}, InvalidRequest, "'text' not specified"),
        ({"text": [], "target_lang": "DE"}, InvalidRequest, "'text' not specified"),
        ({"text": [1], "target_lang": "DE"}, InvalidRequest, "list of strings"),
        ({"text": "a"}, InvalidRequest, "'target_lang' not specified"),
        ({"text": "a", "target_lang": 7}, InvalidRequest, "'target_lang' not supported"),
        ({"text": "a", "target_lang": "DE", "split_sentences": "x"}, InvalidRequest, "split"),
        ({"text": "a", "target_lang": "DE", "preserve_formatting": "x"}, InvalidRequest, "pres"),
        ({"text": "a", "target_lang": "DE", "formality": "less"}, InvalidRequest, "formality"),
        ({"text": "a", "target_lang": "DE", "formality": "x"}, InvalidRequest, "formality"),
        ({"text": "a", "target_lang": "DE", "tag_handling": "md"}, InvalidRequest, "tag_hand"),
        ({"text": "a", "target_lang": "DE", "glossary_id": "g"}, InvalidRequest, "source_lang"),
        (
            {"text": "a", "target_lang": "DE", "source_lang": "EN", "glossary_id": "g"},
            NotFound,
            "Glossary not found",
        ),
        ({"text": "a" * 5001, "target_lang": "DE"}, PayloadTooLarge, "5000"),
        ({"text": ["a"] * 65, "target_lang": "DE"}, PayloadTooLarge, "64"),
        (
            {"text": "a", "target_lang": "DE", "tag_handling": "html", "ignore_tags": [3]},
            InvalidRequest,
            "ignore_tags",
        ),
    ],
)
def test_refusals(fields, error, says):
    with pytest.raises(error, match=says):
        deepl.to_request(fields, LIMITS)


@pytest.mark.parametrize("value", ["prefer_more", "prefer_less", "default", "PREFER_MORE", ""])
def test_formality_preferences_are_ignored_where_unsupported(value):
    deepl.to_request({"text": "a", "target_lang": "DE", "formality": value}, LIMITS)


def test_markup_limits_are_left_to_the_documents():
    # The document's text is what counts (http/documents.py), not its tags.
    fields = {"text": "<p>" + "a" * 6000 + "</p>", "target_lang": "DE", "tag_handling": "xml"}
    assert deepl.to_request(fields, LIMITS).markup == MarkupOptions("xml")


def test_the_answer_shape():
    assert deepl.answer(["Hallo."], ["en"], None) == {
        "translations": [{"detected_source_language": "EN", "text": "Hallo."}]
    }
    billed = deepl.answer(["a", "b"], ["fr", "de"], [3, 4])["translations"]
    assert [t["billed_characters"] for t in billed] == [3, 4]


def test_language_lists_with_regional_targets():
    pairs = ["en-fr", "fr-en", "de-en", "en-pt"]
    assert deepl.languages(pairs, "source") == [
        {"language": "DE", "name": "German"},
        {"language": "EN", "name": "English"},
        {"language": "FR", "name": "French"},
    ]
    targets = [entry["language"] for entry in deepl.languages(pairs, "target")]
    assert targets == ["EN-GB", "EN-US", "FR", "PT-BR", "PT-PT"]
    assert deepl.language_kind(None) == "source"
    with pytest.raises(InvalidRequest, match="type"):
        deepl.language_kind("all")


def test_usage_never_reaches_its_limit():
    usage = deepl.usage(12)
    assert usage["character_count"] == 12
    assert usage["character_limit"] > 10**11


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("DeepL-Auth-Key abc:fx", "abc:fx"),
        ("deepl-auth-key  abc ", "abc"),
        ("Bearer abc", "abc"),
        ("Basic abc", None),
        ("DeepL-Auth-Key ", None),
        (None, None),
    ],
)
def test_the_deepl_authorization_header(header, key):
    assert deepl_key(header) == key


def test_the_legacy_auth_key_in_a_form_or_the_query():
    assert legacy_deepl_key(b"text=a&auth_key=k1", FORM, "") == "k1"
    assert legacy_deepl_key(b'{"auth_key": "k1"}', "application/json", "auth_key=k2") == "k2"
    assert legacy_deepl_key(b"\xff", FORM, "") is None


def test_every_error_has_a_deepl_status_and_body():
    for code, statuses in STATUS.items():
        assert Dialect.DEEPL in statuses, code
    reply = error_answer(NotFound("Glossary not found"), Dialect.DEEPL)
    assert (reply.status, reply.body) == (404, {"message": "Glossary not found"})
