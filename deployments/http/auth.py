"""Optional API keys: who may call the HTTP routes.

Keys come from the environment of the ingress replica, never from the Serve config (which
``serve status`` and the dashboard show to anyone who can read them):

- ``TRANSLATION_API_KEYS``: comma-separated keys, or
- ``TRANSLATION_API_KEYS_FILE``: a file with one key per line (a mounted Kubernetes secret);
  blank lines and ``#`` comments are skipped.

With neither set, every caller is let in. Keys are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl

from deployments.core.errors import Unauthorized
from deployments.http.bodies import is_form

KEYS_VARIABLE = "TRANSLATION_API_KEYS"
KEYS_FILE_VARIABLE = "TRANSLATION_API_KEYS_FILE"
# Routes anyone may call: load balancers and Kubernetes probes carry no key, and LibreTranslate
# clients read /languages (what /health already tells) before they have one.
PUBLIC_PATHS = frozenset({"/health", "/languages"})


def load_api_keys(environ: Mapping[str, str] = os.environ) -> tuple[bytes, ...]:
    """The configured keys; empty when API keys are off."""
    keys = environ.get(KEYS_VARIABLE, "").split(",")
    if path := environ.get(KEYS_FILE_VARIABLE):
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        keys += [line for line in lines if not line.lstrip().startswith("#")]
    return tuple(key.strip().encode() for key in keys if key.strip())


def check_authorization(header: str | None, keys: tuple[bytes, ...]) -> None:
    """Raise Unauthorized unless ``header`` is ``Bearer <one of keys>``."""
    scheme, _, presented = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not is_valid_key(presented.strip(), keys):
        raise Unauthorized(
            "this service needs an API key: send the header 'Authorization: Bearer <key>'"
        )


def deepl_key(header: str | None) -> str | None:
    """The key of ``Authorization: DeepL-Auth-Key <key>`` (or ``Bearer <key>``); else None."""
    scheme, _, presented = (header or "").partition(" ")
    if scheme.lower() in ("deepl-auth-key", "bearer") and presented.strip():
        return presented.strip()
    return None


def legacy_deepl_key(body: bytes, content_type: str | None, query: str) -> str | None:
    """DeepL's older way: ``auth_key`` in a form body or in the query string; never raises."""
    sources = [query]
    if is_form(content_type):
        sources.insert(0, body.decode("utf-8", "replace"))
    for source in sources:
        for name, value in parse_qsl(source, keep_blank_values=True):
            if name == "auth_key":
                return value
    return None


def is_valid_key(presented: str | None, keys: tuple[bytes, ...]) -> bool:
    """Whether ``presented`` is one of ``keys`` (LibreTranslate clients send ``api_key`` in
    the body; ``check_authorization`` reads the header)."""
    presented_key = (presented or "").encode()
    # Compare with every key, without stopping at a match, so timing says nothing about which
    # key (or how much of one) matched.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented_key, key)
    return matched and bool(presented_key)
