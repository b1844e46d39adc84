from checkpoints.phrasebook import load_phrasebook


def test_the_phrasebook_has_a_hundred_french_pairs_and_no_duplicates():
    phrases = load_phrasebook()
    french = [p for p in phrases if p.target == "fr"]
    assert len(french) >= 100
    keys = [(p.target, p.english) for p in phrases]
    assert len(keys) == len(set(keys))
    assert all(p.english.strip() == p.english and p.translation for p in phrases)
