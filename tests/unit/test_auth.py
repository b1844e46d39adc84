import pytest

from deployments.core.errors import Unauthorized
from deployments.http.auth import check_authorization, load_api_keys
from deployments.http.errors import status_of

KEYS = (b"first-key", b"second-key")


def test_keys_come_from_the_variable_and_the_file(tmp_path):
    secret = tmp_path / "keys"
    secret.write_text("# rotated 2026-11\nthird-key\n\n  fourth-key  \n")
    environ = {
        "TRANSLATION_API_KEYS": "first-key, second-key,",
        "TRANSLATION_API_KEYS_FILE": str(secret),
    }
    assert load_api_keys(environ) == (b"first-key", b"second-key", b"third-key", b"fourth-key")


def test_no_configuration_means_no_keys():
    assert load_api_keys({}) == ()


@pytest.mark.parametrize("header", ["Bearer first-key", "bearer second-key", "Bearer  first-key"])
def test_a_configured_key_is_let_in(header):
    check_authorization(header, KEYS)


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Bearer wrong", "Basic first-key", "first-key", "Bearer first"],
)
def test_anything_else_is_refused_without_echoing_the_key(header):
    with pytest.raises(Unauthorized) as caught:
        check_authorization(header, KEYS)
    assert status_of(caught.value) == 401
    assert "first" not in caught.value.message
