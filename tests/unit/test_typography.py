import pytest

from deployments.text.typography import NARROW_NBSP as N
from deployments.text.typography import french_typography, postprocess_segment, tidy_spacing


@pytest.mark.parametrize(
    ("raw", "tidy"),
    [
        ("Bonjour   le monde", "Bonjour le monde"),
        ("  Bonjour.  ", "Bonjour."),
        ("Oui , merci .", "Oui, merci."),
        ("( voir ci-dessous )", "(voir ci-dessous)"),
        ("Tab\tand\u00a0nbsp", "Tab and nbsp"),
    ],
)
def test_tidy_spacing(raw, tidy):
    assert tidy_spacing(raw) == tidy


@pytest.mark.parametrize(
    ("raw", "typeset"),
    [
        ("Bonjour le monde!", f"Bonjour le monde{N}!"),
        ("Bonjour le monde !", f"Bonjour le monde{N}!"),
        ("Où est la gare?", f"Où est la gare{N}?"),
        ("Attention: le sol est mouillé.", f"Attention{N}: le sol est mouillé."),
        ("Un; deux", f"Un{N}; deux"),
        ("Quoi?!", f"Quoi{N}?!"),
        ('Il a dit "oui".', f"Il a dit «{N}oui{N}»."),
        ('Il a dit " oui ".', f"Il a dit «{N}oui{N}»."),
        ("« déjà »", f"«{N}déjà{N}»"),
        ("l' hôtel et qu' il", "l'hôtel et qu'il"),
    ],
)
def test_french_typography(raw, typeset):
    assert french_typography(tidy_spacing(raw)) == typeset


@pytest.mark.parametrize(
    "unchanged",
    ["Il est 10:30.", "Voir http://exemple.fr/page.", 'Un seul " guillemet', "Rien à faire."],
)
def test_french_typography_leaves_times_urls_and_unbalanced_quotes(unchanged):
    assert french_typography(unchanged) == unchanged


def test_postprocess_applies_french_rules_only_to_french():
    assert postprocess_segment("Hallo Welt !", "de") == "Hallo Welt!"
    assert postprocess_segment("Bonjour !", "fr") == f"Bonjour{N}!"
    assert postprocess_segment("Bonjour !", "fr", typography=False) == "Bonjour!"
