"""Markup in, the same markup out: which texts of an HTML or XML document the model translates.

A translation model reads plain sentences; tags in its input come out garbled, dropped or
translated. So a document is parsed into plain-text segments, the caller translates them like
any other texts, and the document is rendered back around their translations. Everything the
model does not see (tags, attributes, comments, untranslated elements, the whitespace between
blocks) is copied from the source byte for byte, entities as written.

Text is translated as running text: a block's text (a paragraph, a heading, a list item, a table
cell) is one segment even when inline elements (``<b>``, ``<a>``) cut it, because a sentence
translated in pieces reads wrong. Each inline element is then put back around the words of the
translation that are its own: its text is translated alone too (a helper segment) and found in
the block's translation, or, when not found, placed where its words sat in proportion. The
parsers are the standard library's (``html.parser`` and expat); no regular expression reads
markup.
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import accumulate
from typing import Any
from xml.parsers import expat

from deployments.core.errors import InvalidRequest

# Inline elements continue running text; any other element (and br, hr) ends it.
HTML_INLINE = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "cite",
        "data",
        "dfn",
        "em",
        "font",
        "i",
        "mark",
        "q",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "label",
    }
)
# Inline and void: an image or a word-break opportunity inside a sentence belongs to it.
HTML_INLINE_VOID = frozenset({"img", "wbr"})
# Copied verbatim with everything inside: code, preformatted text, programs, form input.
HTML_UNTRANSLATED = frozenset({"code", "pre", "script", "style", "textarea"})
HTML_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
        "param",
    }
)

# Elements whose end tag HTML lets a document omit, and the start tags that close them.
_P_CLOSERS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "details",
        "dialog",
        "div",
        "dl",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "ul",
        "li",
        "dd",
        "dt",
    }
)
_CELL_CLOSERS = frozenset({"td", "th", "tr", "tbody", "thead", "tfoot"})
_CLOSED_BY_START: dict[str, frozenset[str]] = {
    "p": _P_CLOSERS,
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "option": frozenset({"option", "optgroup"}),
    "optgroup": frozenset({"optgroup"}),
    "td": _CELL_CLOSERS,
    "th": _CELL_CLOSERS,
    "tr": frozenset({"tr", "tbody", "thead", "tfoot"}),
    "thead": frozenset({"tbody", "tfoot"}),
    "tbody": frozenset({"tbody", "tfoot"}),
    "tfoot": frozenset({"tbody"}),
    "rt": frozenset({"rt", "rp"}),
    "rp": frozenset({"rt", "rp"}),
    "head": frozenset({"body"}),
}
# Also closed by their parent's end tag, or by the end of the document.
HTML_OPTIONAL_END = frozenset(_CLOSED_BY_START) | {"html", "body", "colgroup", "caption"}

# Whitespace that collapses to one space; no-break spaces are meant and stay.
_SPACES = re.compile(r"[^\S\u00a0\u2007\u202f]+")
# Quick test for text that has something to collapse: a space that is not alone, or another one.
_TO_COLLAPSE = re.compile(r"[^\S \u00a0\u2007\u202f]| [^\S\u00a0\u2007\u202f]")
_WORD = re.compile(r"\S+")
_DEFAULT_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}


class MalformedMarkup(InvalidRequest):
    """The document is not well-formed; the message and ``line``/``column`` say where."""

    @classmethod
    def at(cls, dialect: str, line: int, column: int, what: str, **details: Any) -> MalformedMarkup:
        return cls(
            f"{dialect}: line {line}, column {column}: {what}", line=line, column=column, **details
        )


# ---------------------------------------------------------------------------------------------
# The parsed document


@dataclass(slots=True)
class _Inline:
    """An inline element with markup inside a run's text, to be put back around its words."""

    open_raw: str  # "" when opened before the run's text (its start tag is copied before it)
    close_raw: str  # "" when closed after the run's text
    group_raw: str | None  # an element without text: all its markup, placed at one point
    start: int  # where its content sits in the run's source text: [start, end)
    end: int
    helper: int | None  # index of its own text among the helper segments
    children: list[_Inline]

    @property
    def opened_before(self) -> bool:
        return self.group_raw is None and not self.open_raw

    @property
    def closed_after(self) -> bool:
        return self.group_raw is None and not self.close_raw


@dataclass(slots=True)
class _Run:
    """Running text: one block segment, with the markup copied around and inside it."""

    prefix: str  # markup and whitespace before the text, verbatim
    suffix: str  # after it
    text: str  # the block segment (decoded, whitespace collapsed), maybe a space at either end
    block: int  # its index among the segments
    inlines: list[_Inline]
    escapes: tuple[tuple[str, str], ...]  # characters the source wrote as references, and how


@dataclass(frozen=True)
class Document:
    """A parsed document: the plain texts to translate, and how to put their translations back.

    ``segments`` are the blocks' texts in document order, then the helper segments (inline
    elements' own texts) that only guide where inline tags go in each block's translation.
    """

    segments: tuple[str, ...]
    _parts: tuple[str | _Run, ...] = field(default=(), repr=False, compare=False)
    _blocks: int = field(default=0, repr=False, compare=False)

    @property
    def text_chars(self) -> int:
        """Characters of the text to translate, for size limits: helpers are not counted."""
        return sum(len(segment) for segment in self.segments[: self._blocks])

    def render(self, translations: Sequence[str]) -> str:
        """The document with each segment replaced by its translation (same order)."""
        if len(translations) != len(self.segments):
            raise ValueError(f"{len(translations)} translations for {len(self.segments)} segments")
        helpers = translations[self._blocks :]
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
            else:
                out.append(_render_run(part, translations[part.block], helpers))
        return "".join(out)


# ---------------------------------------------------------------------------------------------
# Building a document from parser events

_TEXT, _OPEN, _CLOSE, _EMPTY = range(4)


@dataclass(slots=True)
class _Token:
    kind: int
    raw: str
    text: str = ""  # decoded, for text
    element: int = -1  # for tags


class _Builder:
    """Collects verbatim markup and runs of running text, in document order."""

    def __init__(self) -> None:
        self._parts: list[str | _Run] = []
        self._run: list[_Token] = []
        self._blocks: list[str] = []
        self._helpers: list[str] = []
        self._elements = 0
        self._first = self._last = -1  # the current run's first and last text with a word

    def text(self, raw: str, decoded: str) -> None:
        if decoded and not decoded.isspace():
            if self._first < 0:
                self._first = len(self._run)
            self._last = len(self._run)
        self._run.append(_Token(_TEXT, raw, decoded))

    def open(self, raw: str) -> int:
        self._elements += 1
        self._run.append(_Token(_OPEN, raw, element=self._elements))
        return self._elements

    def close(self, raw: str, element: int) -> None:
        self._run.append(_Token(_CLOSE, raw, element=element))

    def empty(self, raw: str) -> None:
        self._elements += 1
        self._run.append(_Token(_EMPTY, raw, element=self._elements))

    def verbatim(self, raw: str) -> None:
        """Markup that ends running text (a block tag, a comment, an untranslated element)."""
        if self._run:
            self._flush()
        self._parts.append(raw)

    def finish(self) -> Document:
        self._flush()
        parts: list[str | _Run] = []
        verbatim: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                verbatim.append(part)
                continue
            if verbatim:
                parts.append("".join(verbatim))
                verbatim = []
            parts.append(part)
        if verbatim:
            parts.append("".join(verbatim))
        return Document(
            segments=(*self._blocks, *self._helpers),
            _parts=tuple(parts),
            _blocks=len(self._blocks),
        )

    def _flush(self) -> None:
        tokens, first, last = self._run, self._first, self._last
        self._run, self._first, self._last = [], -1, -1
        if first < 0:
            self._parts.extend([t.raw for t in tokens])
            return
        begin, end = _core(tokens, first, last)
        # Whitespace around the text is copied as written, with the markup before and after it.
        head, tail = tokens[first].raw, tokens[last].raw
        lead = len(head) - len(head.lstrip()) if begin == first else 0
        trail = len(tail.rstrip()) if end == last else len(tail)
        prefix = "".join([t.raw for t in tokens[:begin]]) + head[:lead]
        suffix = tail[trail:] + "".join([t.raw for t in tokens[end + 1 :]])
        core = tokens[begin : end + 1]

        pieces: list[str] = []
        offsets: list[int] = []  # where each tag sits in the decoded text
        tags: list[int] = []  # and its index in core
        escapes: dict[str, str] = {}
        length = 0
        for i, token in enumerate(core):
            if token.kind == _TEXT:
                decoded = token.text
                if token is tokens[first] and begin == first:
                    decoded = decoded.lstrip()  # its leading whitespace went to the prefix
                if token is tokens[last] and end == last:
                    decoded = decoded.rstrip()
                pieces.append(decoded)
                length += len(decoded)
                if (
                    len(decoded) == 1
                    and token.raw.startswith("&")
                    and token.raw != decoded
                    and not _SPACES.match(decoded)
                ):
                    escapes.setdefault(decoded, token.raw)
            else:
                offsets.append(length)
                tags.append(i)
        # Whitespace between an inline tag and the first (last) word stays, as one space.
        text, positions = _collapse("".join(pieces), offsets)
        inlines = self._inlines(core, tags, positions, text) if tags else []
        self._parts.append(
            _Run(prefix, suffix, text, len(self._blocks), inlines, tuple(escapes.items()))
        )
        self._blocks.append(text.strip())

    def _inlines(
        self, core: list[_Token], tags: list[int], positions: list[int], text: str
    ) -> list[_Inline]:
        """The run's inline elements, nested as written; each with text gets a helper segment."""
        roots: list[_Inline] = []
        stack: list[tuple[int, int, _Inline]] = []  # element id, its start tag's index, node
        opened = {core[i].element for i in tags if core[i].kind == _OPEN}
        # Closed here but opened before the text: they enclose everything up to their end tag.
        outer = [core[i] for i in tags if core[i].kind == _CLOSE and core[i].element not in opened]
        for token in reversed(outer):
            node = _Inline("", token.raw, None, 0, len(text), None, [])
            (stack[-1][2].children if stack else roots).append(node)
            stack.append((token.element, -1, node))
        for i, position in zip(tags, positions, strict=True):
            token = core[i]
            if token.kind == _EMPTY:
                node = _Inline("", "", token.raw, position, position, None, [])
                (stack[-1][2].children if stack else roots).append(node)
            elif token.kind == _OPEN:
                node = _Inline(token.raw, "", None, position, len(text), None, [])
                (stack[-1][2].children if stack else roots).append(node)
                stack.append((token.element, i, node))
            else:
                # Inline elements nest properly (the parsers check); pop defensively all the same.
                while stack:
                    element, opened_at, node = stack.pop()
                    if element == token.element:
                        break
                node.end = position
                node.close_raw = token.raw
                if opened_at >= 0 and not text[node.start : position].strip():
                    # No text inside: all its markup goes to one point of the translation.
                    node.group_raw = "".join([t.raw for t in core[opened_at : i + 1]])
                    node.open_raw = node.close_raw = ""
                    node.children = []
        self._add_helpers(roots, text)
        return roots

    def _add_helpers(self, nodes: list[_Inline], text: str) -> None:
        for node in nodes:
            if node.group_raw is None:
                node.helper = len(self._helpers)
                self._helpers.append(text[node.start : node.end].strip())
                self._add_helpers(node.children, text)


def _core(tokens: list[_Token], first: int, last: int) -> tuple[int, int]:
    """The tokens that the translation replaces: from the first to the last text with words,
    widened to the start tag of an inline element that ends inside that text (and the end tag
    of one that starts inside it), so that the element is placed, not pinned to an edge."""
    begin, end = first, last
    if first == 0 and last == len(tokens) - 1:
        return begin, end
    other_tag = {}
    for i, token in enumerate(tokens):
        if token.kind in (_OPEN, _CLOSE):
            other_tag[token.kind, token.element] = i
    for i in range(first):
        token = tokens[i]
        if token.kind == _OPEN and first < other_tag.get((_CLOSE, token.element), last) < last:
            begin = i
            break
    for i in range(len(tokens) - 1, last, -1):
        token = tokens[i]
        if token.kind == _CLOSE and first < other_tag.get((_OPEN, token.element), first) < last:
            end = i
            break
    return begin, end


def _collapse(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    """``text`` with whitespace runs made one space, and where each offset (ascending) lands."""
    if not _TO_COLLAPSE.search(text):
        return text, offsets
    pieces: list[str] = []
    mapped: list[int] = []
    removed = last = j = 0
    for match in _SPACES.finditer(text):
        a, b = match.span()
        while j < len(offsets) and offsets[j] <= a:
            mapped.append(offsets[j] - removed)
            j += 1
        while j < len(offsets) and offsets[j] <= b:
            mapped.append(a - removed + 1)  # inside or after the run: after its one space
            j += 1
        pieces.append(text[last:a])
        pieces.append(" ")
        removed += b - a - 1
        last = b
    pieces.append(text[last:])
    mapped.extend(offset - removed for offset in offsets[j:])
    return "".join(pieces), mapped


def _says_no(attrs: Collection[tuple[str, str | None]]) -> bool:
    """``translate="no"`` or class ``notranslate``."""
    for name, value in attrs:
        if name == "translate" and (value or "").strip().lower() == "no":
            return True
        if name == "class" and "notranslate" in (value or "").split():
            return True
    return False


# ---------------------------------------------------------------------------------------------
# HTML

_START, _SELF, _END, _DATA, _REF, _OTHER = range(6)

_HtmlEvent = tuple[int, int, int, str, list[tuple[str, str | None]]]


class _HtmlEvents(HTMLParser):
    """Records each event with where it starts; the text between starts is its raw source."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # references arrive as events, as written
        self.events: list[_HtmlEvent] = []

    def _add(
        self, kind: int, name: str = "", attrs: list[tuple[str, str | None]] | None = None
    ) -> None:
        self.events.append((self.lineno, self.offset, kind, name, attrs or []))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add(_START, tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add(_SELF, tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self._add(_END, tag)

    def handle_data(self, data: str) -> None:
        self._add(_DATA)

    def handle_entityref(self, name: str) -> None:
        self._add(_REF)

    def handle_charref(self, name: str) -> None:
        self._add(_REF)

    def handle_comment(self, data: str) -> None:
        self._add(_OTHER)

    def handle_decl(self, decl: str) -> None:
        self._add(_OTHER)

    def handle_pi(self, data: str) -> None:
        self._add(_OTHER)

    def unknown_decl(self, data: str) -> None:
        self._add(_OTHER)


@dataclass(slots=True)
class _OpenElement:
    name: str
    line: int
    column: int  # 1-based
    element: int  # the builder's id when inline, else -1
    untranslated: bool


def parse_html(
    source: str,
    *,
    ignore_tags: Collection[str] = (),
    splitting_tags: Collection[str] = (),
    non_splitting_tags: Collection[str] = (),
) -> Document:
    """Parse an HTML document (or fragment); :class:`MalformedMarkup` says where it is wrong."""
    parser = _HtmlEvents()
    parser.feed(source)
    parser.close()
    events = parser.events
    line_starts = [0, *accumulate(len(line) + 1 for line in source.split("\n"))]
    starts = [line_starts[line - 1] + column for line, column, *_ in events]
    starts.append(len(source))
    inline = (HTML_INLINE | _lower(non_splitting_tags)) - _lower(splitting_tags)
    untranslated = HTML_UNTRANSLATED | _lower(ignore_tags)

    builder = _Builder()
    builder.verbatim(source[: starts[0]])
    stack: list[_OpenElement] = []
    for (line, column, kind, name, attrs), start, end in zip(
        events, starts, starts[1:], strict=False
    ):
        raw = source[start:end]
        column += 1
        if kind <= _SELF:
            # A start tag may close elements whose end tag HTML lets one omit (<li>, <p>).
            while stack and name in _CLOSED_BY_START.get(stack[-1].name, ()):
                stack.pop()
        hidden = bool(stack) and stack[-1].untranslated
        if kind == _DATA:
            builder.verbatim(raw) if hidden else builder.text(raw, raw)
        elif kind == _REF:
            builder.verbatim(raw) if hidden else builder.text(raw, html.unescape(raw))
        elif kind == _OTHER:
            builder.verbatim(raw)
        elif kind in (_START, _SELF):
            skip = hidden or name in untranslated or _says_no(attrs)
            if kind == _START and name not in HTML_VOID:
                element = -1
                if not skip and name in inline:
                    element = builder.open(raw)
                else:
                    builder.verbatim(raw)
                stack.append(_OpenElement(name, line, column, element, skip))
            elif not skip and (name in inline or name in HTML_INLINE_VOID):
                builder.empty(raw)
            else:
                builder.verbatim(raw)
        elif hidden and all(open_element.name != name for open_element in stack):
            builder.verbatim(raw)  # copied as written: an untranslated element's stray end tag
        else:
            closed = _close_html(stack, name, line, column)
            if closed.element >= 0:
                builder.close(raw, closed.element)
            else:
                builder.verbatim(raw)
    for open_element in reversed(stack):
        if open_element.name not in HTML_OPTIONAL_END:
            raise MalformedMarkup.at(
                "html",
                open_element.line,
                open_element.column,
                f"<{open_element.name}> is never closed",
                tag=open_element.name,
            )
    return builder.finish()


def _close_html(stack: list[_OpenElement], name: str, line: int, column: int) -> _OpenElement:
    """Pop the element an end tag closes, with the open elements it may close implicitly."""
    for k in range(len(stack) - 1, -1, -1):
        if stack[k].name == name:
            break
    else:
        raise MalformedMarkup.at("html", line, column, f"</{name}> closes nothing open", tag=name)
    for skipped in stack[k + 1 :]:
        # Inside an untranslated element (copied as written) any open element may be left open.
        if skipped.name not in HTML_OPTIONAL_END and not stack[k].untranslated:
            raise MalformedMarkup.at(
                "html",
                line,
                column,
                f"</{name}> while <{skipped.name}> (line {skipped.line}, column "
                f"{skipped.column}) is still open",
                tag=name,
                open_tag=skipped.name,
                open_line=skipped.line,
                open_column=skipped.column,
            )
    closed = stack[k]
    del stack[k:]
    return closed


def _lower(names: Collection[str]) -> frozenset[str]:
    return frozenset(name.lower() for name in names)


# ---------------------------------------------------------------------------------------------
# XML


def parse_xml(
    source: str,
    *,
    ignore_tags: Collection[str] = (),
    splitting_tags: Collection[str] = (),
    non_splitting_tags: Collection[str] = (),
) -> Document:
    """Parse a well-formed XML document; every element ends running text unless
    ``non_splitting_tags`` names it. ``splitting_tags`` is accepted for symmetry (all split)."""
    encoded = source.encode("utf-8")
    parser = expat.ParserCreate()
    events: list[tuple[int, int, str, Any]] = []

    def add(kind: int, name: str = "", payload: Any = None) -> None:
        events.append((parser.CurrentByteIndex, kind, name, payload))

    parser.StartElementHandler = lambda name, attrs: add(_START, name, attrs)
    parser.EndElementHandler = lambda name: add(_END, name)
    parser.CharacterDataHandler = lambda data: add(_DATA, payload=data)
    parser.StartCdataSectionHandler = lambda: add(_OTHER, "cdata")
    parser.EndCdataSectionHandler = lambda: add(_OTHER, "/cdata")
    parser.CommentHandler = lambda data: add(_OTHER)
    parser.ProcessingInstructionHandler = lambda target, data: add(_OTHER)
    parser.DefaultHandlerExpand = lambda data: add(_OTHER)  # declarations, prolog whitespace
    try:
        parser.Parse(source, True)  # a str is parsed as UTF-8, whatever its declaration says
    except expat.ExpatError as error:
        raise MalformedMarkup.at(
            "xml", error.lineno, error.offset + 1, expat.ErrorString(error.code) or "malformed"
        ) from None

    starts = [index for index, *_ in events]
    for i in range(1, len(starts)):  # entity expansions may report no position of their own
        starts[i] = max(starts[i], starts[i - 1])
    starts.append(len(encoded))
    inline = frozenset(non_splitting_tags) - frozenset(splitting_tags)
    untranslated = frozenset(ignore_tags)

    builder = _Builder()
    builder.verbatim(encoded[: starts[0]].decode("utf-8"))
    stack: list[tuple[int, bool]] = []  # (inline element id or -1, untranslated)
    in_cdata = False
    i = 0
    while i < len(events):
        _, kind, name, payload = events[i]
        raw = encoded[starts[i] : starts[i + 1]].decode("utf-8")
        hidden = bool(stack) and stack[-1][1]
        if kind == _DATA:
            builder.verbatim(raw) if hidden or in_cdata else builder.text(raw, payload)
        elif kind == _OTHER:
            if name in ("cdata", "/cdata"):  # a CDATA section is copied as written
                in_cdata = name == "cdata"
            builder.verbatim(raw)
        elif kind == _START:
            skip = hidden or name in untranslated or _says_no(payload.items())
            # expat reports <x/> as a start and an end event; the end's raw text is empty.
            if i + 1 < len(events) and events[i + 1][1] == _END and starts[i + 2] == starts[i + 1]:
                builder.empty(raw) if not skip and name in inline else builder.verbatim(raw)
                i += 2
                continue
            element = builder.open(raw) if not skip and name in inline else -1
            if element < 0:
                builder.verbatim(raw)
            stack.append((element, skip))
        else:
            element, _ = stack.pop()
            builder.close(raw, element) if element >= 0 else builder.verbatim(raw)
        i += 1
    return builder.finish()


# ---------------------------------------------------------------------------------------------
# Rendering a run: inline elements placed in its translation


def _render_run(run: _Run, translation: str, helpers: Sequence[str]) -> str:
    target = translation.strip()
    # The source's space between an inline tag and the text, kept for the placement to use.
    target = " " * run.text.startswith(" ") + target + " " * run.text.endswith(" ")
    table = dict(_DEFAULT_ESCAPES)
    table.update((ord(char), raw) for char, raw in run.escapes)
    if not run.inlines:
        return run.prefix + target.translate(table) + run.suffix
    placer = _Placer(run, target, helpers, table)
    return run.prefix + placer.emit(run.inlines, 0, len(target), 0, len(run.text)) + run.suffix


class _Placer:
    """Puts a run's inline elements around words of its translation, nested as in the source."""

    def __init__(
        self, run: _Run, target: str, helpers: Sequence[str], table: dict[int, str]
    ) -> None:
        self.run = run
        self.target = target
        self.lowered = _lower_same_length(target)
        self.helpers = helpers
        self.table = table
        self.starts, self.ends = _words(target)
        self.src_starts, self.src_ends = _words(run.text)

    def emit(self, nodes: Sequence[_Inline], lo: int, hi: int, src_lo: int, src_hi: int) -> str:
        """The translation's [lo, hi) with ``nodes`` (siblings, source text [src_lo, src_hi))."""
        out: list[str] = []
        cursor = lo
        for node in nodes:
            s, e = self.place(node, cursor, lo, hi, src_lo, src_hi)
            out.append(self.target[cursor:s].translate(self.table))
            if node.group_raw is not None:
                out.append(node.group_raw)
            else:
                out.append(node.open_raw)
                out.append(self.emit(node.children, s, e, node.start, node.end))
                out.append(node.close_raw)
            cursor = e
        out.append(self.target[cursor:hi].translate(self.table))
        return "".join(out)

    def place(
        self, node: _Inline, cursor: int, lo: int, hi: int, src_lo: int, src_hi: int
    ) -> tuple[int, int]:
        """Where the node goes: cursor <= s <= e <= hi (after its previous sibling)."""
        scale = _Scale(self, lo, hi, src_lo, src_hi)
        if node.group_raw is not None:
            s, e = self.place_point(node, scale, cursor)
        else:
            s, e = self.place_span(node, scale, cursor, lo, hi, src_lo, src_hi)
        s = min(max(s, cursor), hi)
        return s, min(max(e, s), hi)

    def place_point(self, node: _Inline, scale: _Scale, cursor: int) -> tuple[int, int]:
        text, p = self.run.text, node.start
        src_starts, src_ends = self.src_starts, self.src_ends
        left = p > 0 and not text[p - 1].isspace()
        right = node.end < len(text) and not text[node.end].isspace()
        if node.end > node.start:  # its content is the space between two words: take that space
            q = scale.start_char(scale.boundary(bisect_right(src_ends, p)))
            q = max(q, cursor)
            return (q - 1, q) if q - 1 >= cursor and self.target[q - 1 : q].isspace() else (q, q)
        if left and right:  # inside a word (<wbr>): the same place in the word it maps to
            i = bisect_right(src_ends, p)
            k = scale.word(i)
            if k is None:
                return cursor, cursor
            share = (p - src_starts[i]) / (src_ends[i] - src_starts[i])
            q = self.starts[k] + int(share * (self.ends[k] - self.starts[k]) + 0.5)
            return q, q
        k = scale.boundary(bisect_right(src_ends, p))
        if left:
            q = scale.end_char(k)
            return q, q
        q = scale.start_char(k)
        if p < len(text) and text[p].isspace() and q > cursor and self.target[q - 1].isspace():
            q -= 1  # it came before a space, not right before the word
        return q, q

    def place_span(
        self, node: _Inline, scale: _Scale, cursor: int, lo: int, hi: int, src_lo: int, src_hi: int
    ) -> tuple[int, int]:
        text = self.run.text
        own = text[node.start : node.end]
        ts = node.start + len(own) - len(own.lstrip())
        te = node.end - (len(own) - len(own.rstrip()))
        found = None
        if node.helper is not None:
            estimate = lo + (ts - src_lo) * (hi - lo) / max(1, src_hi - src_lo)
            left = ts > 0 and text[ts - 1].isalnum()
            right = te < len(text) and text[te].isalnum()
            found = self.find(
                self.helpers[node.helper],
                cursor,
                hi,
                estimate,
                left,
                right,
                _ends_in_punctuation(text[ts:te]),
            )
        if found is not None:
            s, e = found
        else:
            a = scale.boundary(bisect_right(self.src_ends, ts))
            b = scale.boundary(bisect_left(self.src_starts, te))
            s, e = scale.span(a, b)
            if not _ends_in_punctuation(text[ts:te]):
                while e > s + 1 and _is_punctuation(self.target[e - 1]):
                    e -= 1
        if node.opened_before:
            s = lo
        if node.closed_after:
            e = hi
        s = min(max(s, cursor), hi)
        e = min(max(e, s), hi)
        # A space written inside the element's tags stays inside them.
        if (
            ts > node.start
            and not node.opened_before
            and s > cursor
            and self.target[s - 1].isspace()
        ):
            s -= 1
        if te < node.end and not node.closed_after and e < hi and self.target[e].isspace():
            e += 1
        return s, e

    def find(
        self,
        helper: str,
        cursor: int,
        hi: int,
        estimate: float,
        left_alnum: bool,
        right_alnum: bool,
        punctuated: bool,
    ) -> tuple[int, int] | None:
        """The occurrence of the helper's translation nearest where its words should be."""
        candidates = [helper.strip()]
        if not punctuated:  # the model may end a fragment with a full stop of its own
            bare = candidates[0]
            while bare and _is_punctuation(bare[-1]):
                bare = bare[:-1]
            candidates.insert(0, bare.rstrip())
        for candidate in candidates:
            if not candidate:
                continue
            needle = _lower_same_length(candidate)
            best: tuple[int, int] | None = None
            best_distance = 0.0
            i = self.lowered.find(needle, cursor, hi)
            while i != -1:
                j = i + len(needle)
                if self.whole(i, j, candidate, left_alnum, right_alnum):
                    distance = abs(i - estimate)
                    if best is not None and distance > best_distance:
                        break  # further matches only get further away
                    if best is None or distance < best_distance:
                        best, best_distance = (i, j), distance
                i = self.lowered.find(needle, i + 1, hi)
            if best is not None:
                return best
        return None

    def whole(self, i: int, j: int, candidate: str, left_alnum: bool, right_alnum: bool) -> bool:
        """Not part of a longer word, unless the element was part of a word in the source."""
        t = self.target
        if not left_alnum and i > 0 and t[i - 1].isalnum() and candidate[0].isalnum():
            return False
        return right_alnum or j >= len(t) or not (t[j].isalnum() and candidate[-1].isalnum())


class _Scale:
    """Maps word positions among a parent's source words onto its translation's words."""

    def __init__(self, placer: _Placer, lo: int, hi: int, src_lo: int, src_hi: int) -> None:
        self.placer = placer
        self.lo, self.hi = lo, hi
        self.sw0 = bisect_right(placer.src_ends, src_lo)
        self.sw1 = bisect_left(placer.src_starts, src_hi)
        self.tw0 = bisect_right(placer.ends, lo)
        self.tw1 = bisect_left(placer.starts, hi)

    def boundary(self, w: int) -> int:
        """Source word boundary w (words before it) to a translation word boundary."""
        if self.sw1 <= self.sw0:
            return self.tw0
        # Halves round up: a tag between the first two of four words goes after the first of two.
        k = self.tw0 + int((w - self.sw0) * (self.tw1 - self.tw0) / (self.sw1 - self.sw0) + 0.5)
        return min(max(k, self.tw0), self.tw1)

    def word(self, i: int) -> int | None:
        """Source word i to the translation word at the same relative place."""
        if self.tw1 <= self.tw0:
            return None
        n = max(1, self.sw1 - self.sw0)
        k = self.tw0 + int((i - self.sw0 + 0.5) * (self.tw1 - self.tw0) / n)
        return min(max(k, self.tw0), self.tw1 - 1)

    def start_char(self, k: int) -> int:
        return max(self.lo, self.placer.starts[k]) if k < self.tw1 else self.hi

    def end_char(self, k: int) -> int:
        return min(self.hi, self.placer.ends[k - 1]) if k > self.tw0 else self.lo

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Translation words [a, b), at least one when there is one."""
        if self.tw1 <= self.tw0:
            return self.lo, self.lo
        b = min(max(b, a + 1), self.tw1)
        a = min(a, b - 1)
        return self.start_char(a), self.end_char(b)


def _words(text: str) -> tuple[list[int], list[int]]:
    """Where each word of the text starts, and ends."""
    spans = [match.span() for match in _WORD.finditer(text)]
    return [a for a, _ in spans], [b for _, b in spans]


def _lower_same_length(text: str) -> str:
    """Lower case for a case-insensitive search, with offsets unchanged."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def _ends_in_punctuation(text: str) -> bool:
    return bool(text) and _is_punctuation(text[-1])
