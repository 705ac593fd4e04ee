"""Inference pieces: image loading/conversion, preprocessing, thresholds, delete list, Chinese names."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ram_model.inference import (
    ASSETS,
    ImageError,
    ImageTagger,
    TagVocabulary,
    default_vocabulary,
    load_image,
    preprocess,
    read_lines,
)


def test_preprocess_is_square_bilinear_resize_and_imagenet_normalisation():
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 50, 3), dtype=np.uint8))
    got = preprocess(image, 16)
    resized = np.asarray(image.resize((16, 16), Image.BILINEAR), dtype=np.float32) / 255.0
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    expected = torch.from_numpy(((resized - mean) / std).transpose(2, 0, 1)).float()
    assert got.shape == (3, 16, 16)
    assert torch.allclose(got, expected, atol=1e-5)


def test_sixteen_bit_greyscale_is_rescaled_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((8, 8), 65535, dtype=np.uint16)).save(path)
    rgb = load_image(path)
    assert rgb.mode == "RGB" and rgb.getpixel((0, 0)) == (255, 255, 255)
    Image.fromarray(np.full((8, 8), 32768, dtype=np.uint16)).save(path)
    assert load_image(path).getpixel((0, 0))[0] == 127


def test_transparent_pixels_become_white(tmp_path):
    path = tmp_path / "alpha.png"
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(path)
    assert load_image(path).getpixel((1, 1)) == (255, 255, 255)


@pytest.mark.parametrize("mode", ["CMYK", "P", "L", "LA", "I;16"])
def test_unusual_modes_convert_to_rgb(tmp_path, mode):
    suffix = ".jpg" if mode == "CMYK" else ".png"
    path = tmp_path / f"img{suffix}"
    image = Image.new("RGB", (10, 6), (200, 30, 40))
    image = image.convert(mode) if mode != "I;16" else Image.fromarray(np.full((6, 10), 900, dtype=np.uint16))
    image.save(path)
    assert load_image(path).mode == "RGB" and load_image(path).size == (10, 6)


def test_unreadable_files_raise_image_error_with_reason(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image at all")
    big = tmp_path / "big.png"
    Image.new("RGB", (100, 100)).save(big)
    with pytest.raises(ImageError, match="empty file"):
        load_image(empty)
    with pytest.raises(ImageError, match="cannot read image"):
        load_image(junk)
    with pytest.raises(ImageError, match="too large"):
        load_image(big, max_pixels=5000)


def test_truncated_jpeg_is_rejected(tmp_path, demo_images):
    path = tmp_path / "cut.jpg"
    path.write_bytes(demo_images[0].read_bytes()[:2000])
    with pytest.raises(ImageError, match="truncated"):
        load_image(path)


def test_ram_vocabulary_uses_the_per_class_threshold_file(tiny_ram):
    vocab = default_vocabulary(tiny_ram)
    stock = [float(v) for v in read_lines(ASSETS / "ram_tag_list_threshold.txt")]
    assert torch.allclose(vocab.thresholds, torch.tensor(stock))
    assert vocab.tags[0] == read_lines(ASSETS / "ram_tag_list.txt")[0]
    assert vocab.tags_chinese[0] == read_lines(ASSETS / "ram_tag_list_chinese.txt")[0].strip()
    assert vocab.delete == frozenset()


def test_global_threshold_overrides_every_class(tiny_ram):
    assert torch.equal(default_vocabulary(tiny_ram, threshold=0.86).thresholds, torch.full((4585,), 0.86))


def test_tag2text_vocabulary_thresholds_and_delete_list(tiny_tag2text):
    vocab = default_vocabulary(tiny_tag2text)
    assert vocab.tags[2701] == "person" and vocab.thresholds[2701] == pytest.approx(0.7)
    assert vocab.thresholds[0] == pytest.approx(0.68)
    assert sorted(vocab.tags[i] for i in vocab.delete) == sorted(
        ["quarter", "back", "two", "three", "four", "five", "one"]
    )


def test_open_set_vocabulary_defaults_to_half(tiny_ram):
    tiny_ram.set_label_embeddings(torch.randn(2, 512))
    vocab = default_vocabulary(tiny_ram, tags=["zebra", "unseen thing"], open_set=True)
    assert torch.equal(vocab.thresholds, torch.full((2,), 0.5))
    assert vocab.tags_chinese[1] is None


def test_tag_list_of_wrong_length_names_both_sizes(tiny_ram):
    with pytest.raises(ValueError, match="2 names but the ram_tiny head has 4585"):
        default_vocabulary(tiny_ram, tags=["a", "b"])


def test_selection_is_strictly_above_threshold_and_skips_deleted(tiny_ram, images64):
    tiny_ram.set_label_embeddings(torch.nn.functional.normalize(torch.randn(4, 512), dim=-1))
    with torch.no_grad():
        probs = tiny_ram.tagging_logits(images64).sigmoid()
    thresholds = probs[0].detach().clone()  # image 0 sits exactly on every threshold
    thresholds[1] = 0.0
    vocab = TagVocabulary(["a", "b", "c", "d"], thresholds, delete=frozenset({3}))
    result = ImageTagger(tiny_ram, vocab).tag(images64)[0]
    assert result["tags"] == ["b"]
    assert result["scores"] == [round(float(probs[0, 1]), 4)]
    assert ImageTagger(tiny_ram, vocab).tag(images64)[0]["tags_chinese"] == [None]


def test_tag2text_results_carry_a_caption(tiny_tag2text, images64):
    vocab = default_vocabulary(tiny_tag2text, threshold=0.99)
    results = ImageTagger(tiny_tag2text, vocab, max_length=12, min_length=3).tag(images64)
    assert all(isinstance(r["caption"], str) for r in results)


@pytest.mark.slow
def test_fifty_megapixel_image_is_loaded_and_preprocessed(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("L", (8660, 5774), 128).save(path)  # 50.0 MP
    tensor = preprocess(load_image(path), 64)
    assert tensor.shape == (3, 64, 64)
    assert torch.allclose(tensor[0], torch.full((64, 64), (128 / 255 - 0.485) / 0.229), atol=1e-5)
