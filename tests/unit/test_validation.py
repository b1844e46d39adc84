import pickle

import pytest

from deployments.errors import InvalidRequest, MalformedJSON, PayloadTooLarge
from deployments.settings import RequestLimits
from deployments.validation import describe_validation_errors, validate_request

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
    assert caught.value.status_code == 422
    assert message in caught.value.message


def test_a_text_over_the_character_limit_names_limit_and_size():
    with pytest.raises(PayloadTooLarge) as caught:
        validate_request({"text": ["short", "x" * 21]}, LIMITS)
    error = caught.value
    assert error.status_code == 413
    assert error.details == {"limit": 20, "actual": 21, "unit": "characters"}
    assert "text[1]: 21 characters; the limit is 20" in error.message


def test_too_many_texts_names_limit_and_count():
    with pytest.raises(PayloadTooLarge) as caught:
        validate_request({"text": ["a"] * 4}, LIMITS)
    assert caught.value.details == {"limit": 3, "actual": 4, "unit": "texts"}


def test_malformed_json_is_a_400():
    with pytest.raises(MalformedJSON) as caught:
        describe_validation_errors([{"type": "json_invalid", "loc": ("body", 1), "msg": "x"}])
    assert caught.value.status_code == 400


def test_errors_survive_pickling_with_their_details():
    # They cross process boundaries through Ray; a handle caller must get the same error.
    error = PayloadTooLarge("too big", limit=1, actual=2)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is PayloadTooLarge
    assert copy.to_body() == error.to_body()
    assert copy.to_body() == {
        "error": {"code": "payload_too_large", "message": "too big", "limit": 1, "actual": 2}
    }
