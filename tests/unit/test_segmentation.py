import pytest

from deployments.text.segmentation import (
    SegmentedText,
    reassemble,
    splice,
    split_segments,
    split_to_fit,
)


@pytest.mark.parametrize(
    ("text", "segments", "gaps"),
    [
        ("Hello.", ("Hello.",), ("", "")),
        ("  Hello.  ", ("Hello.",), ("  ", "  ")),
        ("One.\nTwo.", ("One.", "Two."), ("", "\n", "")),
        ("\n One. \n\n\t Two.\r\n", ("One.", "Two."), ("\n ", " \n\n\t ", "\r\n")),
        ("   ", (), ("   ",)),
        ("", (), ("",)),
    ],
)
def test_split_segments(text, segments, gaps):
    assert split_segments(text) == SegmentedText(segments, gaps)


@pytest.mark.parametrize(
    "text",
    ["a", " a b \n c ", "\n\n", "x\r\ny\r\n", "  Bonjour.\n\n\tÀ demain.  \n", "émoji 😀\nok"],
)
def test_reassembling_the_segments_gives_back_the_text(text):
    split = split_segments(text)
    assert reassemble(split.gaps, split.segments) == text


def test_reassemble_keeps_gaps_around_new_segments():
    split = split_segments("  Good night.\n\nSee you tomorrow.  ")
    assert reassemble(split.gaps, ["Bonne nuit.", "À demain."]) == "  Bonne nuit.\n\nÀ demain.  "


def test_reassemble_refuses_a_mismatch():
    with pytest.raises(ValueError, match="2 segments need 3 gaps"):
        reassemble(["", ""], ["a", "b"])


@pytest.mark.parametrize(
    ("text", "segments", "gaps"),
    [
        ("Hello world! How are you?", ("Hello world!", "How are you?"), ("", " ", "")),
        (
            " Dr. Smith lives in Washington D.C. on weekdays.  He works.\nOK",
            ("Dr. Smith lives in Washington D.C. on weekdays.", "He works.", "OK"),
            (" ", "  ", "\n", ""),
        ),
        ("no punctuation at all", ("no punctuation at all",), ("", "")),
    ],
)
def test_lines_are_split_into_sentences(text, segments, gaps):
    assert split_segments(text) == SegmentedText(segments, gaps)


def test_sentence_splitting_can_be_turned_off():
    assert split_segments("One. Two.", sentences=False).segments == ("One. Two.",)


@pytest.mark.parametrize(
    "text",
    [
        "Hi. Hi. Hi.",
        "Wait... what?!  Yes.\n\n  “Quoted.” (Aside.) Next",
        "你好。我很好！",
        "e.g. i.e. etc. U.S.A. 3.14 is pi. ok",
        "\u200f مرحبا. שלום. 😀😀. \x0b\x0c end",
    ],
)
def test_sentences_reassemble_to_the_text(text):
    split = split_segments(text)
    assert reassemble(split.gaps, split.segments) == text
    assert all(s == s.strip() and s for s in split.segments)


def fits_in(limit):
    return lambda piece: len(piece) <= limit


@pytest.mark.parametrize(
    ("segment", "limit"),
    [
        ("one two three four five six seven eight nine ten", 12),
        ("word " * 400 + "end", 50),
        ("x" * 3000, 100),
        ("a  b\tc", 1),
        ("short", 100),
    ],
)
def test_split_to_fit_keeps_every_character_and_fits(segment, limit):
    parts = split_to_fit(segment, fits_in(limit))
    assert reassemble(parts.gaps, parts.segments) == segment
    assert all(len(piece) <= limit for piece in parts.segments)
    assert parts.gaps[0] == parts.gaps[-1] == ""


def test_a_piece_that_fits_is_not_cut():
    assert split_to_fit("a b c", fits_in(5)) == SegmentedText(("a b c",), ("", ""))


def test_splice_replaces_one_segment_and_keeps_the_layout():
    text = split_segments(" First. Second one here.\nThird.")
    parts = split_to_fit(text.segments[1], fits_in(7))
    spliced = splice(text, 1, parts)
    assert spliced.segments[0] == "First." and spliced.segments[-1] == "Third."
    assert len(spliced.segments) == 2 + len(parts.segments)
    assert reassemble(spliced.gaps, spliced.segments) == " First. Second one here.\nThird."


@pytest.mark.parametrize(
    "line",
    [
        "One sentence, ending here.",
        "A question?",
        "Pi is 3.14 and e is 2.71",  # full stops inside numbers, no space after
        "See example.com for more",
        'Quoted: "Stop."',
    ],
)
def test_a_line_with_no_inner_sentence_end_is_one_segment_without_the_segmenter(line, monkeypatch):
    import pysbd

    def must_not_run(*args, **kwargs):
        raise AssertionError("pysbd was asked about a line that cannot hold two sentences")

    monkeypatch.setattr(pysbd, "Segmenter", must_not_run)
    assert split_segments(line).segments == (line,)


@pytest.mark.parametrize(
    "line", ["One. Two.", "Wait!  Go", "你好。我很好！", 'He said "No." Then left.']
)
def test_a_line_that_may_hold_several_sentences_goes_to_the_segmenter(line):
    assert len(split_segments(line).segments) == 2
