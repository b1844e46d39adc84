import pytest

from deployments.segmentation import SegmentedText, reassemble, split_segments


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
