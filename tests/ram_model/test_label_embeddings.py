"""Open-set label embeddings: prompt ensembles, descriptions, truncated encoding and the file cache."""

from __future__ import annotations

import pytest
import torch

import ram_model.label_embeddings as le
from ram_model.clip import clip_tokenizer, encode_text_truncated, load_clip


@pytest.fixture(scope="module")
def tiny_clip():
    torch.manual_seed(0)
    return load_clip(tiny=True)


def test_truncated_encoding_matches_full_context(tiny_clip):
    texts = ["a dog.", "There is an apple in the scene.", "x", "a photo of the hard to see traffic light."] * 5
    truncated = le.encode_texts(tiny_clip, texts, batch_size=7, truncate=True)
    full = le.encode_texts(tiny_clip, texts, batch_size=7, truncate=False)
    assert (truncated - full).abs().max().item() <= 1e-5
    reference = tiny_clip.encode_text(clip_tokenizer("tiny")(texts))
    reference = reference / reference.norm(dim=-1, keepdim=True)
    assert (truncated - reference).abs().max().item() <= 1e-5  # order of the inputs is kept


def test_truncated_text_tower_equals_open_clip_encode_text_at_full_width(tiny_clip):
    tokens = clip_tokenizer("tiny")(["a red car parked on the street"])
    assert torch.allclose(encode_text_truncated(tiny_clip, tokens), tiny_clip.encode_text(tokens), atol=1e-6)


def test_sixty_three_templates_filled_like_the_official_builder():
    templates = le.read_templates()
    assert len(templates) == 63
    prompts = le.category_prompts("apple", templates)
    assert prompts[0] == "There is an apple in the scene."
    assert prompts[2] == "This is a photo of an apple in the scene."
    assert prompts[-1] == "This is a painting of a apple."
    assert le.category_prompts("Aerial photography", templates)[0] == "There is a aerial photography in the scene."
    assert le.category_prompts("cup/mug_holder.", ["{}"])[0] == "cup or mug holder"


def test_tag_embeddings_average_normalised_prompts_and_renormalise(tiny_clip):
    templates = ["a photo of a {}.", "the {} in the scene.", "There is {article} {}."]
    got = le.build_label_embeddings(["dog", "owl"], tiny_clip, templates=templates)
    assert got.shape == (2, 512)
    feats = le.encode_texts(tiny_clip, le.category_prompts("owl", templates), truncate=False)
    mean = feats.mean(0)
    assert torch.allclose(got[1], mean / mean.norm(), atol=1e-5)
    assert torch.allclose(got.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_descriptions_are_kept_per_description_tag_major(tiny_clip):
    descriptions = [{"cat": ["a small furry pet.", "whiskers and a tail."]}, {"bus": ["a big vehicle.", "wheels."]}]
    got = le.build_label_embeddings(descriptions, tiny_clip)
    assert got.shape == (4, 512)
    single = le.encode_texts(tiny_clip, ["wheels."], truncate=False)
    assert torch.allclose(got[3], single[0], atol=1e-5)


def test_descriptions_need_equal_counts(tiny_clip):
    with pytest.raises(ValueError, match="same number"):
        le.build_label_embeddings({"cat": ["a", "b"], "dog": ["c"]}, tiny_clip)


def test_cache_is_reused_and_keyed_by_texts_and_weights(tiny_clip, tmp_path, monkeypatch):
    first = le.build_label_embeddings(["dog"], tiny_clip, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.pt"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("encoder called although the cache holds the result")

    monkeypatch.setattr(le, "encode_texts", fail)
    assert torch.equal(le.build_label_embeddings(["dog"], tiny_clip, cache_dir=tmp_path), first)
    monkeypatch.undo()

    le.build_label_embeddings(["dog", "cat"], tiny_clip, cache_dir=tmp_path)
    torch.manual_seed(5)
    other_clip = load_clip(tiny=True)
    le.build_label_embeddings(["dog"], other_clip, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.pt"))) == 3


def test_checkpoint_file_identity_keys_the_cache(tiny_clip, tmp_path):
    path = tmp_path / "clip.pt"
    torch.save(tiny_clip.state_dict(), path)
    from_file = le.build_label_embeddings(["dog"], path, model_name="tiny", cache_dir=tmp_path / "cache")
    assert torch.allclose(from_file, le.build_label_embeddings(["dog"], tiny_clip), atol=1e-6)
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 1


def test_missing_clip_checkpoint_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_clip(tmp_path / "nope.pt")


def test_open_set_embeddings_swap_into_a_trained_model(tiny_clip, tiny_ram):
    embeddings = le.build_label_embeddings(["red apple", "blue car", "dog"], tiny_clip)
    tiny_ram.set_label_embeddings(embeddings)
    assert tiny_ram.tagging_logits(torch.randn(1, 3, 64, 64)).shape == (1, 3)


def test_tiny_clip_encodes_images_for_distillation(tiny_clip):
    assert tiny_clip.encode_image(torch.randn(2, 3, 64, 64)).shape == (2, 512)
