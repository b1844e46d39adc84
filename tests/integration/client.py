"""What the integration tests send and check, shared by their modules."""

from concurrent.futures import ThreadPoolExecutor

import requests

from checkpoints.phrasebook import load_phrasebook
from deployments.text.segmentation import split_segments
from deployments.text.typography import postprocess_segment

PHRASES = load_phrasebook()
FRENCH = [p for p in PHRASES if p.target == "fr"]
# Every pair configs/local.yaml serves with a model of its own (fr -> de goes through English).
DIRECT_PAIRS = (("en", "fr"), ("en", "de"), ("fr", "en"), ("de", "en"), ("de", "fr"))
EVERY_PAIR = load_phrasebook(pairs=DIRECT_PAIRS)


def served(phrase) -> str:
    """What the service answers for a phrase: the phrasebook's line, typeset."""
    return postprocess_segment(phrase.translation, phrase.target)


def translate(http, base_url, payload, **kwargs):
    return http.post(f"{base_url}/translate", json=payload, timeout=60, **kwargs)


def alone_batched_concurrent(base_url, texts, repeat):
    """The answers for ``texts`` sent one request each, as one list, and ``repeat`` times over
    as concurrent single requests (which the graph batches with one another)."""
    alone = [translate(requests, base_url, {"text": t}).json()["translation"] for t in texts]
    batched = translate(requests, base_url, {"text": texts}).json()["translation"]
    with ThreadPoolExecutor(max_workers=len(texts) * repeat) as pool:
        responses = list(
            pool.map(lambda t: translate(requests, base_url, {"text": t}), texts * repeat)
        )
    return alone, batched, [r.json()["translation"] for r in responses]


def error_of(response, status):
    """The JSON error body of ``response``, which must have ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["error"]


def separable_run(phrases):
    """Phrases in order, skipping any the sentence splitter would keep with the one before (it
    keeps "Excuse me. I am sorry." together: a missed split costs quality, never text)."""
    run = [phrases[0]]
    for phrase in phrases[1:]:
        if len(split_segments(f"{run[-1].text} {phrase.text}").segments) == 2:
            run.append(phrase)
    return run


# French phrases that, written one after the other, come back one sentence each.
SEPARABLE = separable_run(FRENCH)
