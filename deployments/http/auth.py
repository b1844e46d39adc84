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

from deployments.core.errors import Unauthorized

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
