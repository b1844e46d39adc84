import pickle

import pytest

from deployments.core.errors import InvalidRequest, MalformedJSON, PayloadTooLarge
from deployments.core.settings import RequestLimits
from deployments.http.errors import error_answer, status_of
from deployments.http.validation import (
    describe_validation_errors,
    request_timeout,
    validate_request,
)

LIMITS = RequestLimits(max_chars_per_text=20, max_texts_per_request=3)


def test_a_string_and_a_list_are_both_accepted():
    assert validate_request({"text": "Hello"}, LIMITS).texts == ["Hello"]
    request = validate_request({"text": ["a", "b"], "target": "de"}, LIMITS)
    assert (request.texts, request.target) == (["a", "b"], "de")


def test_target_defaults_to_french():
    assert validate_request({"text": "Hello"}, LIMITS).target == "fr"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "text: Field required"),
        ({"text": 5}, "text: must be a string or a list of strings, got number"),
        ({"text": None}, "got null"),
        ({"text": {"a": 1}}, "got object"),
        ({"text": ["a", 3]}, "text: item 1 must be a string, got number"),
        ({"text": "a", "target": 3}, "target: Input should be a valid string"),
        ({"text": "a", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"text": ""}, "text: empty or whitespace only"),
        ({"text": " \n\t"}, "text: empty or whitespace only"),
        ({"text": ["ok", "  "]}, "text[1]: empty or whitespace only"),
        ({"text": []}, "text: the list is empty"),
    ],
)
def test_invalid_requests_say_what_is_wrong(payload, message):
    with pytest.raises(InvalidRequest) as caught:
        validate_request(payload, LIMITS)
    assert status_of(caught.value) == 422
    assert message in caught.value.message


def test_a_text_over_the_character_limit_names_limit_and_size():
    with pytest.raises(PayloadTooLarge) as caught:
        validate_request({"text": ["short", "x" * 21]}, LIMITS)
    error = caught.value
    assert status_of(error) == 413
    assert error.details == {"limit": 20, "actual": 21, "unit": "characters"}
    assert "text[1]: 21 characters; the limit is 20" in error.message


def test_too_many_texts_names_limit_and_count():
    with pytest.raises(PayloadTooLarge) as caught:
        validate_request({"text": ["a"] * 4}, LIMITS)
    assert caught.value.details == {"limit": 3, "actual": 4, "unit": "texts"}


def test_malformed_json_is_a_400():
    with pytest.raises(MalformedJSON) as caught:
        describe_validation_errors([{"type": "json_invalid", "loc": ("body", 1), "msg": "x"}])
    assert status_of(caught.value) == 400


def test_errors_survive_pickling_with_their_details():
    # They cross process boundaries through Ray; a handle caller must get the same error.
    error = PayloadTooLarge("too big", limit=1, actual=2)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is PayloadTooLarge
    assert error_answer(copy).body == error_answer(error).body
    assert error_answer(copy).body == {
        "error": {"code": "payload_too_large", "message": "too big", "limit": 1, "actual": 2}
    }


def test_the_characters_of_a_whole_request_are_limited_too():
    limits = RequestLimits(max_chars_per_text=20, max_texts_per_request=3, max_chars_per_request=30)
    with pytest.raises(PayloadTooLarge) as caught:
        validate_request({"text": ["x" * 20, "y" * 11]}, limits)
    assert caught.value.details == {"limit": 30, "actual": 31, "unit": "characters"}
    assert "31 characters in one request; the limit is 30" in caught.value.message


@pytest.mark.parametrize(
    ("text", "code_point", "position"),
    [("ab\x00c", "U+0000", 2), ("\x1b[31mred", "U+001B", 0), ("x\ud800y", "U+D800", 1)],
)
def test_control_characters_and_lone_surrogates_are_refused(text, code_point, position):
    with pytest.raises(InvalidRequest) as caught:
        validate_request({"text": text}, LIMITS)
    assert status_of(caught.value) == 422
    assert f"{code_point} at position {position}" in caught.value.message


@pytest.mark.parametrize("text", ["tab\tand\nnew\r\nline", "emoji 😀", "مرحبا", "你好", "é\u200b"])
def test_ordinary_unicode_and_whitespace_are_text(text):
    assert validate_request({"text": text}, LIMITS).texts == [text]


@pytest.mark.parametrize(
    ("header", "seconds"), [(None, 30.0), ("5", 5.0), ("0.25", 0.25), ("300", 300.0)]
)
def test_request_timeout_comes_from_the_header_or_the_default(header, seconds):
    assert request_timeout(header, 30.0, 300.0) == seconds


@pytest.mark.parametrize("header", ["0", "-1", "301", "nan", "inf", "soon", ""])
def test_a_bad_request_timeout_says_what_is_allowed(header):
    with pytest.raises(InvalidRequest) as caught:
        request_timeout(header, 30.0, 300.0)
    assert "X-Request-Timeout" in caught.value.message
    assert "(0, 300]" in caught.value.message
