"""Web-caption normalisation (pure string code, no spaCy)."""

from __future__ import annotations

import pytest

from ram_model.text.noise import clean_caption


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("sunset over the lake http://t.co/abc123", "sunset over the lake"),
        ("my garden www.example.com/photos today", "my garden today"),
        ("@john_doe and me at the beach", "and me at the beach"),
        ("RT @news: huge fire downtown", "huge fire downtown"),
        ("cat in a box #caturday #cute", "cat in a box"),
        ("a #sunset at sea", "a sunset at sea"),
        ("dog in the snow😂😂", "dog in the snow"),
        ("snowy trees ❄️ in the forest", "snowy trees in the forest"),
        ("broken phone screen :(", "broken phone screen"),
        ("Fresh strawberries &amp; cream", "Fresh strawberries and cream"),
        ("<b>red</b> car", "red car"),
        ("Old wooden boat on the shore - stock image", "Old wooden boat on the shore"),
        ("stock photo of a businessman using laptop", "a businessman using laptop"),
        ("Cowboy at rodeo. Photo by Jane Smith", "Cowboy at rodeo."),
        ("Photo: A family having a picnic", "A family having a picnic"),
        ("puppy playing w/ ball", "puppy playing with ball"),
        ("running thru teh grass", "running through the grass"),
        ("soooo cute!!!", "soo cute!"),
        ("a close-up of a bee", "a closeup of a bee"),
    ],
)
def test_clean_caption_removes_web_noise(raw, clean):
    assert clean_caption(raw) == clean


def test_shouted_caption_is_lower_cased():
    assert clean_caption("VINTAGE RED TRUCK PARKED ON FARM") == "vintage red truck parked on farm"


def test_title_cased_caption_is_lower_cased():
    assert clean_caption("Plate of Spaghetti Bolognese with Parmesan") == "plate of spaghetti bolognese with parmesan"


def test_sentence_case_and_proper_nouns_are_kept():
    assert clean_caption("A bicycle parked outside a cafe in Paris") == "A bicycle parked outside a cafe in Paris"


def test_plain_caption_is_unchanged():
    assert clean_caption("A man riding a horse on the beach.") == "A man riding a horse on the beach."


def test_empty_and_noise_only_captions_become_empty():
    assert clean_caption("") == ""
    assert clean_caption("😍 #love @you http://x.io") == ""
