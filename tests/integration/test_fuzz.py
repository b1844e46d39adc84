"""Property-based fuzzing of the HTTP API: over 1,000 generated requests, not one 5xx.

Generated: JSON bodies shaped like requests (any unicode, lone surrogates and control
characters included, lists, odd targets, extra fields), arbitrary JSON values, raw bytes, the
tutorial's query route, and X-Request-Timeout headers. Each must get a translation or a 4xx
JSON error. Derandomized, so CI runs the same 1,000+ requests every time.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SENT = {"requests": 0}

any_character = st.characters(exclude_categories=())  # surrogates and controls included
any_text = st.text(any_character, max_size=120)
text_field = st.one_of(any_text, st.lists(any_text, max_size=6))
target_field = st.one_of(st.sampled_from(["fr", "de", "FR", "", "en"]), st.text(max_size=6))
# Finite floats: requests refuses to send NaN or Infinity (the raw-bytes test sends them).
json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
translate_body = st.fixed_dictionaries(
    {"text": st.one_of(text_field, json_value)},
    optional={"target": st.one_of(target_field, json_value), "extra": json_value},
)
timeout_header = st.one_of(
    st.none(),
    st.sampled_from(["30", "120", "0", "-1", "nan", "inf", "1e400", "soon"]),
    # Any visible ASCII: what an HTTP client will put in a header at all.
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=8),
)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def check(response) -> None:
    SENT["requests"] += 1
    assert response.status_code < 500, (response.status_code, response.text[:500])
    body = json.loads(response.text)
    if response.status_code >= 400:
        error = body["error"]
        if isinstance(error, str):  # LibreTranslate's shape: a body with one of its fields
            assert error
        else:
            assert error["code"] and error["message"]


def headers_with(timeout):
    return {} if timeout is None else {"X-Request-Timeout": timeout}


@fuzz(500)
@given(body=translate_body, timeout=timeout_header)
def test_request_shaped_bodies(http, base_url, body, timeout):
    check(http.post(f"{base_url}/translate", json=body, headers=headers_with(timeout), timeout=60))


@fuzz(250)
@given(
    body=st.one_of(
        json_value.map(lambda v: json.dumps(v).encode()),
        st.sampled_from([b"NaN", b'{"text": Infinity}', b'{"text": "a", "target": -Infinity}']),
        st.binary(max_size=200),
    )
)
def test_arbitrary_bodies(http, base_url, body):
    response = http.post(
        f"{base_url}/translate",
        data=body,
        headers={"content-type": "application/json"},
        timeout=60,
    )
    check(response)


@fuzz(250)
@given(text=any_text, target=target_field, timeout=timeout_header)
def test_the_tutorials_query_route(http, base_url, text, target, timeout):
    response = http.post(
        f"{base_url}/",
        params={"text": text.encode("utf-8", "surrogatepass"), "target": target},
        headers=headers_with(timeout),
        timeout=60,
    )
    check(response)


def test_over_a_thousand_requests_were_sent_without_a_5xx(http, base_url):
    assert SENT["requests"] >= 1000
    assert http.post(f"{base_url}/translate", json={"text": "Hello world!"}).status_code == 200
