"""The examples README.md and docs/api.md show, read back out of the Markdown so a test can run
them.

Three kinds, each written the way a reader would type it:

- in a ```console block, ``$ curl -s ... localhost:8000/...`` followed by the JSON it prints
  (continuation lines end in a backslash; the output runs to the next ``$`` or blank line);
- in a ```console block, ``$ python model_client.py`` followed by what it prints;
- in a ```python block, ``handle.translate.remote(...).result()  # <the result's repr>``.

A ```console block holds nothing else, so every command in one is run by
tests/integration/test_readme.py; commands that are not run (``make run``, ``serve status``,
``curl`` piped into ``grep``) go in ```sh blocks. Pure: no Ray, no network.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.paths import ROOT

# The documents whose examples tests/integration/test_readme.py runs.
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "api.md")
FENCE = re.compile(r"^\s*```\s*([\w-]*)\s*$")
# How the examples address the service: `make run`'s port.
EXAMPLE_HOST = re.compile(r"(?:https?://)?(?:localhost|127\.0\.0\.1):8000(?P<path>/\S*)?")
HANDLE_CALL = re.compile(
    r"^\s*handle\.translate\.remote\((?P<args>.*)\)\.result\(\)\s*#\s*(?P<expected>\S.*?)\s*$"
)
# DeepL's official client: ``translator.translate_text(...).text  # repr``.
DEEPL_CALL = re.compile(
    r"^\s*translator\.translate_text\((?P<args>.*)\)\.text\s*#\s*(?P<expected>\S.*?)\s*$"
)
MODEL_CLIENT = ["python", "model_client.py"]


@dataclass(frozen=True)
class CurlRequest:
    """What curl sends for an example command, less the host."""

    method: str
    path: str  # path and query, exactly as written after localhost:8000
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class ConsoleExample:
    where: str  # "README.md:123", the line of the command
    command: str  # continuation lines joined
    output: str  # the lines printed under it, joined with newlines

    @property
    def words(self) -> list[str]:
        return shlex.split(self.command, comments=True)

    @property
    def is_model_client(self) -> bool:
        return self.words == MODEL_CLIENT

    def curl(self) -> CurlRequest:
        return parse_curl(self.command)

    def expected_json(self) -> Any:
        return json.loads(self.output)


@dataclass(frozen=True)
class HandleExample:
    where: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    expected: Any


def fenced_blocks(text: str) -> list[tuple[str, int, list[str]]]:
    """Every fenced block: (its language, the line number of its first line, its lines)."""
    blocks: list[tuple[str, int, list[str]]] = []
    language: str | None = None
    start, lines = 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if language is None:
            if fence:
                language, start, lines = fence.group(1), number + 1, []
        elif fence and not fence.group(1):
            blocks.append((language, start, lines))
            language = None
        else:
            lines.append(line)
    if language is not None:
        raise ValueError(f"line {start - 1}: a fenced block is never closed")
    return blocks


def console_examples(path: Path) -> list[ConsoleExample]:
    """The ``$`` commands of every ```console block in ``path`` with their outputs."""
    examples: list[ConsoleExample] = []
    for language, start, lines in fenced_blocks(path.read_text(encoding="utf-8")):
        if language != "console":
            continue
        index = 0
        while index < len(lines):
            where = f"{path.name}:{start + index}"
            line = lines[index]
            if not line.strip():
                index += 1
                continue
            if not line.startswith("$ "):
                raise ValueError(f"{where}: a console block holds `$ ` commands and their output")
            command = line[2:]
            while command.rstrip().endswith("\\"):
                index += 1
                if index == len(lines):
                    raise ValueError(f"{where}: the command's last line ends in a backslash")
                command = command.rstrip()[:-1] + " " + lines[index].strip()
            index += 1
            output = []
            while index < len(lines) and lines[index].strip() and not lines[index].startswith("$ "):
                output.append(lines[index])
                index += 1
            example = ConsoleExample(where, command.strip(), "\n".join(output))
            _check(example)
            examples.append(example)
    return examples


def _check(example: ConsoleExample) -> None:
    """Refuse, naming the line, a console example the test could not run or compare."""
    if not example.output:
        raise ValueError(f"{example.where}: no output under the command to compare with")
    if example.is_model_client:
        return
    if not example.words or example.words[0] != "curl":
        raise ValueError(
            f"{example.where}: a console block runs only curl and `python model_client.py`; "
            "put other commands in a sh block"
        )
    example.curl()
    try:
        example.expected_json()
    except ValueError as error:
        raise ValueError(f"{example.where}: the output is not JSON ({error})") from None


def parse_curl(command: str) -> CurlRequest:
    """The request ``curl -s [-X M] [-H 'k: v']... [-d DATA] localhost:8000/...`` sends."""
    words = shlex.split(command, comments=True)
    if not words or words[0] != "curl":
        raise ValueError(f"not a curl command: {command!r}")
    method: str | None = None
    headers: dict[str, str] = {}
    body: bytes | None = None
    url: str | None = None
    rest = iter(words[1:])
    for word in rest:
        if word in ("-s", "-S", "-sS", "--silent", "--show-error"):
            continue
        if word in ("-X", "--request"):
            method = next(rest)
        elif word in ("-H", "--header"):
            name, colon, value = next(rest).partition(":")
            if not colon:
                raise ValueError(f"a header without a colon in {command!r}")
            headers[name.strip()] = value.strip()
        elif word in ("-d", "--data", "--data-raw"):
            if body is not None:
                raise ValueError(f"more than one -d in {command!r}; write one")
            body = next(rest).encode()
        elif word.startswith("-"):
            raise ValueError(f"curl option {word} is not one the README test can send")
        elif url is None:
            url = word
        else:
            raise ValueError(f"two URLs in {command!r}")
    if url is None or not (match := EXAMPLE_HOST.fullmatch(url)):
        raise ValueError(f"the URL must be localhost:8000/..., in {command!r}")
    if body is not None and not any(name.lower() == "content-type" for name in headers):
        # What curl sends with -d and no content type of its own.
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    method = method or ("POST" if body is not None else "GET")
    return CurlRequest(method, match.group("path") or "/", headers, body)


def handle_examples(path: Path, call: re.Pattern[str] = HANDLE_CALL) -> list[HandleExample]:
    """``handle.translate.remote(...).result()  # repr`` lines of the ```python blocks (or, with
    ``DEEPL_CALL``, DeepL's client's ``translator.translate_text(...).text  # repr``)."""
    examples: list[HandleExample] = []
    for language, start, lines in fenced_blocks(path.read_text(encoding="utf-8")):
        if language != "python":
            continue
        for offset, line in enumerate(lines):
            if not (match := call.match(line)):
                continue
            where = f"{path.name}:{start + offset}"
            parsed = ast.parse(f"f({match.group('args')})", mode="eval").body
            if not isinstance(parsed, ast.Call):
                raise ValueError(f"{where}: not a call")
            examples.append(
                HandleExample(
                    where,
                    tuple(ast.literal_eval(arg) for arg in parsed.args),
                    {kw.arg: ast.literal_eval(kw.value) for kw in parsed.keywords if kw.arg},
                    ast.literal_eval(match.group("expected")),
                )
            )
    return examples
