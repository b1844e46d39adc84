"""The wire types: what HTTP clients and handle callers send and get back."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator


class TranslateRequest(BaseModel):
    """``{"text": "Hello world!"}`` or ``{"text": ["a", "b"], "target": "fr"}``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Hello world!"}, {"text": ["Hi.", "Bye."]}]},
    )

    text: str | list[str] = Field(description="One text, or a list of them translated in order.")
    target: StrictStr = Field(
        default="fr", description="Target language code; GET /languages lists the pairs."
    )
    source: StrictStr = Field(
        default="en",
        description='Source language code, or "auto" to detect the language of each text.',
    )
    cache: StrictBool = Field(
        default=True,
        description="false: translate anew, not from the translation memory (or send "
        "Cache-Control: no-cache).",
    )
    format: Literal["text", "html", "xml"] = Field(
        default="text",
        description='"html" or "xml": each text is a document; its text is translated, its '
        "markup kept (docs/markup.md).",
    )

    @field_validator("text", mode="before")
    @classmethod
    def _string_or_list_of_strings(cls, value: Any) -> Any:
        # One clear sentence instead of pydantic's one-error-per-union-branch.
        if isinstance(value, str):
            return value
        if not isinstance(value, list):
            raise ValueError(f"must be a string or a list of strings, got {_json_type(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise ValueError(f"item {index} must be a string, got {_json_type(item)}")
        return value

    @property
    def texts(self) -> list[str]:
        return [self.text] if isinstance(self.text, str) else list(self.text)


class TranslateResponse(BaseModel):
    translation: str | list[str] = Field(
        description="A string for a string, a list in the same order for a list."
    )
    truncated: bool | list[bool] | None = Field(
        None,
        description="Only when a translation reached the model's decoding limit even in pieces "
        "and may be cut: true (one text) or a flag per text. Header X-Truncated-Texts too.",
    )
    detected_language: DetectedLanguage | list[DetectedLanguage] | None = Field(
        None, description='Only with source "auto": the language each text was taken for.'
    )


class DetectedLanguage(BaseModel):
    language: str
    confidence: float = Field(description="Between 0 and 1, among the served sources.")


class ErrorDetail(BaseModel):
    code: str
    message: str
    model_config = ConfigDict(extra="allow")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class ModelHealth(BaseModel):
    """One configured model, as the Translator replica that answered sees it."""

    id: str
    pairs: list[str]
    # Held by that replica now; a model not loaded loads when a request needs it.
    loaded: bool
    # Why its last load failed (the next request for it tries again); None when it did not.
    load_error: str | None = None


class HealthResponse(BaseModel):
    status: str
    model: str | None = None
    targets: list[str] = []
    models: list[ModelHealth] = []
    detail: str | None = None


def _json_type(value: Any) -> str:
    names = {type(None): "null", bool: "boolean", int: "number", float: "number", dict: "object"}
    return names.get(type(value), type(value).__name__)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries documenting the error body for each status."""
    return {status: {"model": ErrorResponse} for status in statuses}
