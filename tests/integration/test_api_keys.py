"""Optional API keys, from a mounted file: every route but /health needs the bearer key."""

import copy
import secrets
import time

import deepl
import pytest

from graph.deploy import deploy, deployment_of
from tests.integration.client import error_of

pytestmark = pytest.mark.integration

KEY = secrets.token_urlsafe(24)
ROTATED_IN = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def secured(graph, graph_config, base_url, http, tmp_path_factory):
    """A second copy of the graph at /secured whose ingress reads keys from a secret file."""
    key_file = tmp_path_factory.mktemp("secret") / "api-keys"
    key_file.write_text(f"# mounted secret\n{KEY}\n{ROTATED_IN}\n")
    app = copy.deepcopy(graph_config["applications"][0])
    app.update(name="secured", route_prefix="/secured")
    config = copy.deepcopy(graph_config)
    config["applications"].append(app)
    ingress = deployment_of(config, "TranslationIngress", app="secured")
    ingress["ray_actor_options"]["runtime_env"] = {
        "env_vars": {"TRANSLATION_API_KEYS_FILE": str(key_file)}
    }
    deployment_of(config, "Translator", app="secured")["ray_actor_options"]["num_cpus"] = 0.5
    deploy(config, wait_for=("translation", "secured"))
    deadline = time.monotonic() + 60
    while http.get(f"{base_url}/secured/health").status_code != 200:
        assert time.monotonic() < deadline, "the secured app never became healthy"
        time.sleep(0.5)
    yield f"{base_url}/secured"
    deploy(graph_config)


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("key", [KEY, ROTATED_IN])
def test_a_configured_key_may_translate(http, secured, key):
    response = http.post(
        f"{secured}/translate", json={"text": "Hello world!"}, headers=bearer(key), timeout=60
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("wrong"), bearer(KEY[:-1]), {"Authorization": KEY}, {"Authorization": "Basic x"}],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/translate"), ("post", "/?text=Hi"), ("get", "/info"), ("get", "/openapi.json")],
)
def test_every_route_but_health_needs_the_key(http, secured, headers, method, path):
    response = getattr(http, method)(
        f"{secured}{path}", json={"text": "Hi"}, headers=headers, timeout=60
    )
    error = error_of(response, 401)
    assert error["code"] == "unauthorized"
    assert KEY not in response.text


def test_health_stays_open_for_probes(http, secured):
    assert http.get(f"{secured}/health", timeout=10).status_code == 200


def test_the_unsecured_app_beside_it_is_unaffected(http, base_url, secured):
    assert http.post(f"{base_url}/translate", json={"text": "Hi"}, timeout=60).status_code == 200


LIBRE = {"q": "Hello world!", "source": "en", "target": "fr"}


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
def test_libretranslate_clients_send_the_key_in_the_body(http, secured, as_form):
    body = {**LIBRE, "api_key": ROTATED_IN}
    response = http.post(
        f"{secured}/translate", **({"data": body} if as_form else {"json": body}), timeout=60
    )
    assert response.status_code == 200, response.text
    assert "translatedText" in response.json()


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
def test_detect_takes_the_key_in_the_body_too(http, secured, as_form):
    def detect(body):
        sent = {"data": body} if as_form else {"json": body}
        return http.post(f"{secured}/detect", **sent, timeout=60)

    assert detect({"q": "Hello world!", "api_key": KEY}).status_code == 200
    refused = detect({"q": "Hello world!", "api_key": "wrong"})
    assert (refused.status_code, refused.json()) == (403, {"error": "Invalid API key"})


@pytest.mark.parametrize(
    ("api_key", "message"),
    [
        ("wrong", "Invalid API key"),
        (None, "Please contact the server operator to get an API key"),
        ("", "Please contact the server operator to get an API key"),
    ],
)
@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
def test_a_libretranslate_request_without_a_valid_key_is_403(
    http, secured, api_key, message, as_form
):
    body = LIBRE if api_key is None else {**LIBRE, "api_key": api_key}
    response = http.post(
        f"{secured}/translate", **({"data": body} if as_form else {"json": body}), timeout=60
    )
    assert response.status_code == 403, response.text
    assert response.json() == {"error": message}
    assert KEY not in response.text


def test_the_bearer_header_works_for_libretranslate_requests_too(http, secured):
    response = http.post(f"{secured}/translate", json=LIBRE, headers=bearer(KEY), timeout=60)
    assert response.status_code == 200, response.text


def test_a_key_in_our_own_shapes_body_does_not_count(http, secured):
    response = http.post(f"{secured}/translate", json={"text": "Hi", "api_key": KEY}, timeout=60)
    assert error_of(response, 401)["code"] == "unauthorized"


def test_languages_is_open_like_health(http, secured):
    response = http.get(f"{secured}/languages", timeout=30)
    assert response.status_code == 200
    assert "en" in {entry["code"] for entry in response.json()}


# DeepL's API: its header, or its legacy auth_key field, and its 403 in its shape.


def test_the_deepl_client_with_a_configured_key_translates(secured):
    translator = deepl.Translator(ROTATED_IN, server_url=f"{secured}/")
    result = translator.translate_text("Hello world!", source_lang="EN", target_lang="FR")
    assert result.detected_source_lang == "EN" and result.text
    assert translator.get_usage().character.count >= len("Hello world!")


@pytest.mark.parametrize("key", ["wrong", KEY[:-1], f"{KEY}:fx"])
def test_the_deepl_client_with_a_wrong_key_gets_its_authorization_error(secured, key):
    # The client joins "v2/translate" to its URL: without the "/" it would drop "secured".
    translator = deepl.Translator(key, server_url=f"{secured}/")
    with pytest.raises(deepl.AuthorizationException) as raised:
        translator.translate_text("Hello world!", target_lang="FR")
    assert raised.value.http_status_code == 403
    with pytest.raises(deepl.AuthorizationException):
        translator.get_target_languages()


@pytest.mark.parametrize(
    "sent",
    [
        {"data": {"text": "Hello world!", "target_lang": "FR", "auth_key": KEY}},
        {"params": {"auth_key": KEY}, "json": {"text": ["Hello world!"], "target_lang": "FR"}},
    ],
    ids=["form", "query"],
)
def test_deepls_legacy_auth_key_field(http, secured, sent):
    response = http.post(f"{secured}/v2/translate", timeout=60, **sent)
    assert response.status_code == 200, response.text
    assert response.json()["translations"][0]["text"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "DeepL-Auth-Key wrong"}])
def test_deepl_refusals_are_403_in_deepls_shape(http, secured, headers):
    response = http.post(
        f"{secured}/v2/translate",
        json={"text": ["Hi."], "target_lang": "FR"},
        headers=headers,
        timeout=60,
    )
    assert response.status_code == 403, response.text
    assert set(response.json()) == {"message"}
    assert "Authorization failure" in response.json()["message"]
    assert KEY not in response.text
