"""The README stays short and the documentation's links lead somewhere.

README.md is for whoever runs the service, at most 300 lines; the depth is in docs/. Every
relative link of README.md and docs/*.md must name a file or folder of the repository (and a
heading, for a ``#anchor``). The examples' answers are checked against a running graph by
tests/integration/test_readme.py; here only that they can be read and run.
"""

import re
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.readme_examples import DOCUMENTS as EXAMPLE_DOCUMENTS
from tests.readme_examples import console_examples, fenced_blocks, handle_examples, parse_curl

README = ROOT / "README.md"
DOCS = ROOT / "docs"
DOCUMENTS = [README, *sorted(DOCS.glob("*.md"))]
MAX_README_LINES = 300

_CODE_SPAN = re.compile(r"`[^`\n]*`")
_INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?", re.MULTILINE)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


def prose(text: str, *, code_spans: bool = False) -> str:
    """The Markdown without its fenced blocks (and code spans), which hold no links."""
    fenced = {
        number
        for _, start, lines in fenced_blocks(text)
        for number in range(start - 1, start + len(lines) + 1)
    }
    kept = "\n".join(
        line for number, line in enumerate(text.splitlines(), start=1) if number not in fenced
    )
    return kept if code_spans else _CODE_SPAN.sub("", kept)


def links(path: Path) -> list[str]:
    text = prose(path.read_text(encoding="utf-8"))
    return _INLINE_LINK.findall(text) + _REFERENCE.findall(text)


def anchors(path: Path) -> set[str]:
    """GitHub's ids for the headings of ``path``: lower case, punctuation dropped, spaces as
    hyphens, a repeated heading numbered."""
    seen: dict[str, int] = {}
    for line in prose(path.read_text(encoding="utf-8"), code_spans=True).splitlines():
        if not (match := _HEADING.match(line)):
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
        seen[slug] = seen.get(slug, -1) + 1
        if seen[slug]:
            seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


def test_the_readme_is_at_most_300_lines():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move depth to docs/"


@pytest.mark.parametrize(
    "document", DOCUMENTS, ids=[p.relative_to(ROOT).as_posix() for p in DOCUMENTS]
)
def test_every_relative_link_points_at_something_that_exists(document: Path):
    broken = []
    for link in links(document):
        if _EXTERNAL.match(link):
            continue
        target, _, anchor = link.partition("#")
        path = (document.parent / target).resolve() if target else document
        if not path.exists():
            broken.append(
                f"{link} (no {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path})"
            )
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{link} (no heading #{anchor} in {path.name})")
    assert not broken, f"{document.name}: " + "; ".join(broken)


def test_the_link_checker_sees_links_and_headings(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A title\n\n## The `user_config` keys\n\n## Under load, faults\n\n## Under load, faults\n"
        'See [this](other.md#x), ![img](a.png), [`code`](b/c.py "title").\n\n'
        "```sh\n[not](a-link.md)\n```\n`[nor](this.md)`\n\n[ref]: d.md\n",
        encoding="utf-8",
    )
    assert links(page) == ["other.md#x", "a.png", "b/c.py", "d.md"]
    assert anchors(page) == {
        "a-title",
        "the-user_config-keys",
        "under-load-faults",
        "under-load-faults-1",
    }


def test_the_readmes_examples_can_be_run():
    console = console_examples(README)
    handle = handle_examples(README)
    curl = [example.curl() for example in console if not example.is_model_client]
    assert len(curl) >= 6
    assert {request.path.split("?")[0] for request in curl} >= {"/translate", "/", "/languages"}
    assert [example.output for example in console if example.is_model_client]
    assert len(handle) >= 2


def test_the_api_docs_examples_can_be_run_too():
    for document in EXAMPLE_DOCUMENTS:
        for example in console_examples(document):
            assert example.is_model_client or example.curl()
        handle_examples(document)


def test_the_results_table_is_marked_for_the_next_bench_run():
    text = README.read_text(encoding="utf-8")
    assert text.count("<!-- results:start -->") == text.count("<!-- results:end -->") == 1
    start, end = text.index("<!-- results:start -->"), text.index("<!-- results:end -->")
    assert start < end
    assert "| engine | workload | clients |" in text[start:end]


def test_a_curl_command_is_read_as_curl_sends_it():
    query = parse_curl("curl -s -X POST 'localhost:8000/?text=Hello%20world!'  # the tutorial's")
    assert (query.method, query.path, query.headers, query.body) == (
        "POST",
        "/?text=Hello%20world!",
        {},
        None,
    )
    form = parse_curl("curl -s localhost:8000/translate -d 'q=Where is it?&target=fr'")
    assert (form.method, form.body) == ("POST", b"q=Where is it?&target=fr")
    assert form.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    json_body = parse_curl(
        "curl -s -X POST localhost:8000/translate -H 'content-type: application/json' "
        """-H 'X-Request-Timeout: 5' -d '{"text": "He said \\"yes\\"."}'"""
    )
    assert json_body.headers == {"content-type": "application/json", "X-Request-Timeout": "5"}
    assert json_body.body == b'{"text": "He said \\"yes\\"."}'
    assert parse_curl("curl -s localhost:8000/languages").method == "GET"
    for unrunnable in ("curl -s -D- localhost:8000/health", "curl -s example.com:8000/health"):
        with pytest.raises(ValueError):
            parse_curl(unrunnable)
