"""Markup requests: each text read as an HTML or XML document, checked by the text it holds.

The three dialects ask for markup each their own way (``"format": "html"``, LibreTranslate's
``format``, DeepL's ``tag_handling``); all come here. A document's segments (its runs of text,
deployments/text/markup.py) are what the model translates, so the size limits count them, not
the tags around them; the document itself is bounded separately, since it is parsed whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deployments.core.errors import InvalidRequest, PayloadTooLarge
from deployments.core.settings import RequestLimits
from deployments.http.validation import check_characters
from deployments.text.markup import Document, MalformedMarkup, parse_html, parse_xml

MARKUP_KINDS = ("html", "xml")


@dataclass(frozen=True)
class MarkupOptions:
    kind: str  # "html" or "xml"
    ignore_tags: tuple[str, ...] = ()
    splitting_tags: tuple[str, ...] = ()
    non_splitting_tags: tuple[str, ...] = ()


def parse_documents(
    texts: Sequence[str], options: MarkupOptions, limits: RequestLimits, max_segments: int
) -> list[Document]:
    """Each text as a document, or the 4xx saying which, where and what the limit is.
    ``max_segments``: the texts one request may put in flight (the ingress's admission bound)."""
    single = len(texts) == 1
    if not texts:
        raise InvalidRequest("text: the list is empty; send at least one text")
    if len(texts) > limits.max_texts_per_request:
        raise PayloadTooLarge(
            f"text: {len(texts)} documents in one request; the limit is "
            f"{limits.max_texts_per_request}",
            limit=limits.max_texts_per_request,
            actual=len(texts),
            unit="texts",
        )
    parse = parse_html if options.kind == "html" else parse_xml
    documents = []
    for index, text in enumerate(texts):
        where = "text" if single else f"text[{index}]"
        if len(text) > limits.max_markup_chars_per_text:
            raise PayloadTooLarge(
                f"{where}: a document of {len(text)} characters; the limit is "
                f"{limits.max_markup_chars_per_text}",
                limit=limits.max_markup_chars_per_text,
                actual=len(text),
                unit="characters",
            )
        check_characters(where, text)
        try:
            document = parse(
                text,
                ignore_tags=options.ignore_tags,
                splitting_tags=options.splitting_tags,
                non_splitting_tags=options.non_splitting_tags,
            )
        except MalformedMarkup as error:
            if single:
                raise
            raise MalformedMarkup(
                f"{where}: {error.message}", index=index, **error.details
            ) from None
        if document.text_chars > limits.max_chars_per_text:
            raise PayloadTooLarge(
                f"{where}: {document.text_chars} characters of text to translate; the limit is "
                f"{limits.max_chars_per_text}",
                limit=limits.max_chars_per_text,
                actual=document.text_chars,
                unit="characters",
            )
        documents.append(document)
    total = sum(document.text_chars for document in documents)
    if total > limits.max_chars_per_request:
        raise PayloadTooLarge(
            f"text: {total} characters of text to translate in one request; the limit is "
            f"{limits.max_chars_per_request}",
            limit=limits.max_chars_per_request,
            actual=total,
            unit="characters",
        )
    segments = sum(len(document.segments) for document in documents)
    if segments > max_segments:
        raise PayloadTooLarge(
            f"text: {segments} runs of text to translate in one request (each block and "
            f"inline element counts); the limit is {max_segments} (max_pending_texts)",
            limit=max_segments,
            actual=segments,
            unit="runs of text",
        )
    return documents
