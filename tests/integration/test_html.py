"""Markup in, markup out, through all three dialects and the handle: each block's sentence
translated exactly as the sentence alone, every tag and untouched byte where it was."""

import html

import pytest

from tests.integration.client import EVERY_PAIR, served

pytestmark = pytest.mark.integration

ENGLISH = [p for p in EVERY_PAIR if p.source == "en" and p.target == "fr"]
FRENCH = [p for p in EVERY_PAIR if p.source == "fr" and p.target == "en"]
# French sentences with an apostrophe: written as an entity, they must be read as one.
APOSTROPHES = [p for p in FRENCH if "'" in p.text]


def page(sentences: list[str]) -> str:
    """A page with a sentence in an h1, a p, two li, two td; attributes and entities around
    them, a code block and a translate="no" span that stay as written."""
    h1, p, li1, li2, td1, td2 = sentences
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        "<style>p > b { color: #333 }</style></head>\n<body>\n"
        f'<h1 id="top" class="title">{h1}</h1>\n'
        f'<p title="Caf&eacute; &amp; more" data-n="1">{p} '
        '<span translate="no">Ray&nbsp;Serve &copy;</span></p>\n'
        '<pre><code class="lang-py">if a &lt; b:\n    print("Hello world!")</code></pre>\n'
        f'<ul>\n  <li><a href="/a?x=1&amp;y=2">{li1}</a></li>\n  <li>{li2}</li>\n</ul>\n'
        f'<table><tr><td align="left">{td1}</td><td>{td2}</td></tr></table>\n'
        "<!-- kept as written -->\n</body>\n</html>\n"
    )


def written(phrase) -> str:
    """A phrase as an author writes it in HTML: apostrophes as a numeric entity."""
    return html.escape(phrase.text, quote=False).replace("'", "&#39;")


def expected(phrases) -> str:
    return page([html.escape(served(p), quote=False) for p in phrases])


def dialect_request(dialect: str, document: str, source: str, target: str) -> tuple[str, dict]:
    if dialect == "ours":
        body = {"text": document, "source": source, "target": target, "format": "html"}
        return "/translate", body
    if dialect == "libretranslate":
        return "/translate", {"q": document, "source": source, "target": target, "format": "html"}
    deepl_target = "EN-GB" if target == "en" else target.upper()
    body = {
        "text": [document],
        "source_lang": source.upper(),
        "target_lang": deepl_target,
        "tag_handling": "html",
    }
    return "/v2/translate", body


def translated_document(dialect: str, response) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    if dialect == "ours":
        return body["translation"]
    if dialect == "libretranslate":
        return body["translatedText"]
    return body["translations"][0]["text"]


DIALECTS = ("ours", "libretranslate", "deepl")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_page_keeps_every_tag_and_translates_each_block_exactly(http, base_url, dialect):
    phrases = ENGLISH[4:10]
    path, body = dialect_request(dialect, page([written(p) for p in phrases]), "en", "fr")
    answer = translated_document(dialect, http.post(f"{base_url}{path}", json=body, timeout=60))
    assert answer == expected(phrases)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_entities_in_the_text_are_read_as_characters(http, base_url, dialect):
    phrases = (APOSTROPHES * 6)[:6]
    path, body = dialect_request(dialect, page([written(p) for p in phrases]), "fr", "en")
    answer = translated_document(dialect, http.post(f"{base_url}{path}", json=body, timeout=60))
    assert answer == expected(phrases)


def test_each_block_as_the_same_sentence_sent_alone(http, base_url):
    phrases = ENGLISH[10:16]
    alone = [
        http.post(f"{base_url}/translate", json={"text": p.text}, timeout=60).json()["translation"]
        for p in phrases
    ]
    document = page([written(p) for p in phrases])
    answer = http.post(
        f"{base_url}/translate", json={"text": document, "format": "html"}, timeout=60
    ).json()["translation"]
    assert answer == page([html.escape(a, quote=False) for a in alone])


def test_inline_elements_stay_in_order_around_the_translation(http, base_url):
    phrase = next(p for p in ENGLISH if len(p.text.split()) >= 4)
    first, rest = phrase.text.split(" ", 1)
    document = f'<p><b class="x">{first}</b> <i>{rest}</i></p>'
    answer = http.post(
        f"{base_url}/translate", json={"text": document, "format": "html"}, timeout=60
    ).json()["translation"]
    tags = ["<p>", '<b class="x">', "</b>", "<i>", "</i>", "</p>"]
    positions = [answer.index(tag) for tag in tags]
    assert positions == sorted(positions), answer
    stripped = answer
    for tag in tags:
        stripped = stripped.replace(tag, "", 1)
    assert " ".join(stripped.split()) == html.escape(served(phrase), quote=False)


def test_a_list_of_documents_and_the_handle(graph, http, base_url):
    phrases = ENGLISH[:3]
    documents = [f"<p>{written(p)}</p>" for p in phrases] + ["<br/><img src='a.png'>"]
    answer = http.post(
        f"{base_url}/translate", json={"text": documents, "format": "html"}, timeout=60
    ).json()["translation"]
    # A document without text comes back as it was, without a model call.
    assert answer == [f"<p>{html.escape(served(p), quote=False)}</p>" for p in phrases] + [
        documents[-1]
    ]
    by_handle = graph.translate.remote(documents[0], target="fr", format="html").result()
    assert by_handle == answer[0]


def test_xml_through_ours_and_deepls(http, base_url):
    first, second = ENGLISH[16:18]
    document = (
        '<?xml version="1.0"?>\n<doc lang="en"><title>'
        f"{written(first)}</title><body><para n='1'>{written(second)}</para></body></doc>"
    )
    want = (
        '<?xml version="1.0"?>\n<doc lang="en"><title>'
        f"{html.escape(served(first), quote=False)}</title><body><para n='1'>"
        f"{html.escape(served(second), quote=False)}</para></body></doc>"
    )
    ours = http.post(
        f"{base_url}/translate", json={"text": document, "format": "xml"}, timeout=60
    ).json()
    assert ours["translation"] == want
    deepl = http.post(
        f"{base_url}/v2/translate",
        json={"text": [document], "target_lang": "FR", "tag_handling": "xml"},
        timeout=60,
    ).json()
    assert deepl["translations"][0] == {"detected_source_language": "EN", "text": want}


def test_deepls_ignore_tags_are_left_untranslated(http, base_url):
    first, second = ENGLISH[18:20]
    document = f"<p>{written(first)}</p><p><x-keep>{written(second)}</x-keep></p>"
    answer = http.post(
        f"{base_url}/v2/translate",
        json={
            "text": [document],
            "target_lang": "FR",
            "source_lang": "EN",
            "tag_handling": "html",
            "ignore_tags": ["x-keep"],
        },
        timeout=60,
    ).json()["translations"][0]["text"]
    assert answer == f"<p>{html.escape(served(first), quote=False)}</p><p><x-keep>" + (
        f"{written(second)}</x-keep></p>"
    )


def test_source_auto_detects_a_document_once(http, base_url):
    phrases = [p for p in FRENCH if len(p.text.split()) >= 4][:6]
    response = http.post(
        f"{base_url}/translate",
        json={
            "q": page([written(p) for p in phrases]),
            "source": "auto",
            "target": "en",
            "format": "html",
        },
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["translatedText"] == expected(phrases)
    assert body["detectedLanguage"]["language"] == "fr"


# --- limits and malformed documents --------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ("<p>Hello <b>world</p>", "line 1"),
        ("<div>\n<p>Hello</p>\n</span>", "line 3"),
        ("<ul><li>Hi</li>", "line 1"),
    ],
)
def test_a_malformed_document_says_where_in_every_dialect(http, base_url, document, where):
    ours = http.post(f"{base_url}/translate", json={"text": document, "format": "html"}, timeout=60)
    assert ours.status_code == 422, ours.text
    assert where in ours.json()["error"]["message"]
    libre = http.post(
        f"{base_url}/translate",
        json={"q": document, "source": "en", "target": "fr", "format": "html"},
        timeout=60,
    )
    assert libre.status_code == 400 and where in libre.json()["error"]
    deepl = http.post(
        f"{base_url}/v2/translate",
        json={"text": [document], "target_lang": "FR", "tag_handling": "html"},
        timeout=60,
    )
    assert deepl.status_code == 400 and where in deepl.json()["message"]


def test_the_limits_count_the_text_to_translate_not_the_markup(http, base_url):
    phrase = ENGLISH[0]
    heavy = f'<p data-x="{"y" * 6000}">{written(phrase)}</p><pre>{"z" * 6000}</pre>'
    response = http.post(
        f"{base_url}/translate", json={"text": heavy, "format": "html"}, timeout=60
    )
    assert response.status_code == 200, response.text
    assert html.escape(served(phrase), quote=False) in response.json()["translation"]
    wordy = "<p>" + "Hello world! " * 400 + "</p>"  # 5,200 characters of text
    refused = http.post(f"{base_url}/translate", json={"text": wordy, "format": "html"}, timeout=60)
    assert refused.status_code == 413, refused.text
    assert "the limit is 5000" in refused.json()["error"]["message"]
