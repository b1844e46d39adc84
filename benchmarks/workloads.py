"""Deterministic English sentence workloads for the benchmarks.

Word salad from a fixed list, not real prose: what a benchmark needs is a known, repeatable
length distribution, and the bench checkpoint (``checkpoints.build_bench_model``) trains its
tokenizer on these words, so a word is one or two tokens, as with t5-small on plain English.
Each sentence is a single line, so the service translates it as one segment.

``uniform`` sentences all have the same word count, so every batch costs the same and batching
gains show clearly; ``mixed`` spreads word counts from 3 to 60, so padding inside a batch costs
what it costs on real traffic. Same arguments, same list, on every machine and Python version.
"""

from __future__ import annotations

import random
from collections.abc import Callable

_WORD_LIST = """
    the a an this that these those my your his her its our their some every each no other
    one two three four five six seven ten hundred first last next few many much more most
    I you he she it we they me him us them who what which where when why how here there
    and or but because if while after before until since so than then also only just very
    in on at by for with from to of about into over under between through during without
    is are was were be been has have had do does did will would can could should must may
    go goes went make makes made take takes took see sees saw come comes came know knows
    think thinks look looks want wants give gives use uses find finds tell tells ask asks
    work works seem seems feel feels try tries leave leaves call calls keep keeps let
    begin begins help helps talk talks turn turns start starts show shows hear hears play
    plays run runs move moves live lives believe believes bring brings happen happens write
    writes sit sits stand stands lose loses pay pays meet meets learn learns change changes
    lead leads understand watch watches follow follows stop stops read reads spend grow
    open opens walk walks win wins offer remember love loves consider appear buy buys wait
    serve serves send sends build builds stay stays fall falls cut reach kill remain
    time year people way day man woman child world life hand part place case week company
    system program question government number night point home water room mother area
    money story fact month lot right study book eye job word business issue side kind head
    house service friend father power hour game line end member law car city community
    name president team minute idea kid body information back parent face others level
    office door health person art war history party result morning reason research girl
    guy moment air teacher force education foot boy age policy music market sense nation
    plan college interest death experience effect class control care field development role
    effort rate heart drug leader light voice wife police mind price report decision
    son view relationship town road window train bread cheese garden river mountain table
    letter street station coffee dinner breakfast summer winter weather language
    good new old great high small large big long little own different important young
    early late public bad same able black white red green blue happy easy hard free full
    strong warm cold quiet simple clear real best better sure true whole short local
    today tomorrow yesterday always never often sometimes again still already soon together
"""
WORDS: tuple[str, ...] = tuple(_WORD_LIST.split())

SENTENCE_END = "."


def sentence(rng: random.Random, words: int) -> str:
    """``words`` random words, the first capitalised, ending in a full stop."""
    if words < 1:
        raise ValueError(f"a sentence needs at least one word, got {words}")
    chosen = [rng.choice(WORDS) for _ in range(words)]
    chosen[0] = chosen[0][:1].upper() + chosen[0][1:]
    return " ".join(chosen) + SENTENCE_END


def uniform(count: int, *, words: int = 12, seed: int = 0) -> list[str]:
    """``count`` sentences of exactly ``words`` words (12: 26-27 tokens on the bench model)."""
    rng = random.Random(seed)
    return [sentence(rng, words) for _ in range(count)]


def mixed(count: int, *, min_words: int = 3, max_words: int = 60, seed: int = 0) -> list[str]:
    """``count`` sentences whose word counts are drawn uniformly from ``min_words..max_words``."""
    if not 1 <= min_words <= max_words:
        raise ValueError(f"need 1 <= min_words <= max_words, got {min_words}..{max_words}")
    rng = random.Random(seed)
    return [sentence(rng, rng.randint(min_words, max_words)) for _ in range(count)]


WORKLOADS: dict[str, Callable[..., list[str]]] = {"uniform": uniform, "mixed": mixed}


def workload(name: str, count: int, *, seed: int = 0) -> list[str]:
    """A workload by name, with its default lengths: what the command-line drivers offer."""
    try:
        build = WORKLOADS[name]
    except KeyError:
        raise ValueError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}") from None
    return build(count, seed=seed)
