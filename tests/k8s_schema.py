"""Validate a manifest offline against a CustomResourceDefinition's openAPIV3Schema.

A CRD's schema is Kubernetes' "structural" dialect of OpenAPI v3, not plain JSON Schema. The
API server reads it with rules that ``jsonschema`` does not know, so the schema is translated
first, each rule into the JSON Schema that means the same:

- ``x-kubernetes-int-or-string: true`` (resource quantities, ports): an int or a string.
  controller-gen already writes ``anyOf: [integer, string]`` beside it; where that is missing it
  is added, so the extension never silently means "anything". A ``pattern`` next to it applies
  to the string form only, exactly as JSON Schema treats ``pattern`` on a non-string.
- ``format: int32`` / ``int64``: range checks in a format checker (JSON Schema has no such
  formats and would skip them): ``maxReplicas: 2147483648`` is refused as the server refuses it.
- ``nullable: true`` (OpenAPI 3.0): the type also admits ``null``.
- Unknown fields: the server drops them, or with ``kubectl``'s default strict field validation
  refuses them, so a misspelt ``rayStartParam`` never takes effect. Every object schema that
  lists ``properties`` and neither sets ``additionalProperties`` nor
  ``x-kubernetes-preserve-unknown-fields`` gets ``additionalProperties: false``; schemas with no
  ``properties`` (``metadata``, free maps) stay open, as the server leaves them.
- ``x-kubernetes-list-type: set``: ``uniqueItems``. ``map`` with ``x-kubernetes-list-map-keys``:
  no two items may share the key fields (defaults applied, e.g. a port's ``protocol: TCP``),
  checked by a custom keyword.
- ``x-kubernetes-map-type`` and ``atomic`` lists only steer server-side apply merges: nothing to
  validate. ``default`` is applied by the server, not validated.
- ``x-kubernetes-validations`` are CEL rules, which this does not evaluate; ``cel_paths`` lists
  where they sit, so a test can make sure a manifest sets none of those fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators

INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# The fields an embedded object (x-kubernetes-embedded-resource) may carry beyond its schema.
EMBEDDED_FIELDS = ("apiVersion", "kind", "metadata")


def crd_schema(crd_path: Path, version: str | None = None) -> dict[str, Any]:
    """The openAPIV3Schema of ``version`` (default: the storage version, which is served)."""
    crd = yaml.safe_load(crd_path.read_text())
    versions = crd["spec"]["versions"]
    if version is None:
        (chosen,) = [v for v in versions if v.get("storage") and v.get("served")]
    else:
        (chosen,) = [v for v in versions if v["name"] == version]
    return chosen["schema"]["openAPIV3Schema"]


def to_json_schema(node: Any) -> Any:
    """The structural schema ``node`` as plain JSON Schema (draft 4), per the module's rules."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not", "anyOf", "allOf", "oneOf"):
            out[key] = to_json_schema(value)
        else:
            out[key] = value
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if out.get("x-kubernetes-int-or-string") and "anyOf" not in out:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    open_object = out.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in out
    if "properties" in out and not open_object:
        if out.get("x-kubernetes-embedded-resource"):
            for name in EMBEDDED_FIELDS:
                out["properties"].setdefault(name, {})
        out["additionalProperties"] = False
    return out


def cel_paths(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Where the schema has CEL rules (``x-kubernetes-validations``), as property paths."""
    if not isinstance(node, dict):
        return
    if "x-kubernetes-validations" in node:
        yield path
    for name, sub in node.get("properties", {}).items():
        yield from cel_paths(sub, (*path, name))
    if isinstance(node.get("items"), dict):
        yield from cel_paths(node["items"], (*path, "[]"))
    if isinstance(node.get("additionalProperties"), dict):
        yield from cel_paths(node["additionalProperties"], (*path, "*"))


def _list_map_keys(validator, keys, instance, schema) -> Iterator[ValidationError]:
    if schema.get("x-kubernetes-list-type") != "map" or not validator.is_type(instance, "array"):
        return
    item_fields = schema.get("items", {}).get("properties", {})
    defaults = {key: item_fields.get(key, {}).get("default") for key in keys}
    seen: dict[tuple, int] = {}
    for index, item in enumerate(instance):
        if not isinstance(item, dict):
            continue
        identity = tuple(item.get(key, defaults[key]) for key in keys)
        if identity in seen:
            yield ValidationError(
                f"items {seen[identity]} and {index} share the map keys "
                f"{dict(zip(keys, identity, strict=True))}"
            )
        seen.setdefault(identity, index)


_K8sValidator = validators.extend(Draft4Validator, {"x-kubernetes-list-map-keys": _list_map_keys})


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    for name, (low, high) in INT_RANGES.items():

        def in_range(value, low=low, high=high) -> bool:
            return not isinstance(value, int) or low <= value <= high

        checker.checks(name)(in_range)
    return checker


def validator_for(schema: dict[str, Any]):
    """A validator for manifests against ``schema`` (an openAPIV3Schema, untranslated)."""
    return _K8sValidator(to_json_schema(schema), format_checker=_format_checker())


def errors(validator, manifest: dict[str, Any]) -> list[str]:
    """Every violation as ``path: message``, in path order; empty when the manifest is valid."""
    found = validator.iter_errors(manifest)
    return sorted(
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in found
    )
