"""Checkpoint conversion (official ↔ internal), strict loading, errors and round trips on tiny models."""

from __future__ import annotations

import pytest
import torch

import ram_model
from ram_model.checkpoint import CheckpointMismatchError, load_checkpoint, load_model, save_checkpoint
from ram_model.convert import (
    from_official_state_dict,
    internal_to_official_key,
    official_to_internal_key,
    to_official_state_dict,
)


@pytest.mark.parametrize("name", ["ram_swin_large_14m", "ram_plus_swin_large_14m", "tag2text_swin_14m"])
def test_every_official_key_maps_and_maps_back(official_shapes, name):
    keys = list(official_shapes[name])
    internal = {k: official_to_internal_key(k) for k in keys}
    dropped = [k for k, v in internal.items() if v is None]
    assert all(k.rsplit(".", 1)[-1] in {"relative_position_index", "attn_mask", "position_ids"} for k in dropped)
    kept = {k: v for k, v in internal.items() if v is not None}
    assert len(set(kept.values())) == len(kept)  # no two official keys collapse into one
    assert all(internal_to_official_key(v) == k for k, v in kept.items())


def test_downsample_moves_to_start_of_next_stage():
    key = "visual_encoder.layers.2.downsample.reduction.weight"
    assert official_to_internal_key(key) == "visual_encoder.layers.3.downsample.reduction.weight"
    assert internal_to_official_key("visual_encoder.layers.1.downsample.norm.bias") == (
        "visual_encoder.layers.0.downsample.norm.bias"
    )


def test_legacy_vision_multi_prefix_maps_to_tagging_head():
    key = "vision_multi.encoder.layer.0.crossattention.self.query.weight"
    assert official_to_internal_key(key) == "tagging_head.encoder.layer.0.crossattention.self.query.weight"


def test_checkpoint_with_legacy_vision_multi_prefix_loads(tiny_ram, images64):
    state = {
        ("vision_multi." + k[len("tagging_head."):] if k.startswith("tagging_head.") else k): v
        for k, v in to_official_state_dict(tiny_ram).items()
    }
    torch.manual_seed(3)
    clone = ram_model.build_model("ram_tiny").eval()
    load_checkpoint({"model": state}, clone)
    assert torch.equal(clone.tagging_logits(images64), tiny_ram.tagging_logits(images64))


@pytest.mark.parametrize("variant", ["ram_tiny", "ram_plus_tiny", "tag2text_tiny"])
def test_save_then_load_gives_identical_state_and_logits(tmp_path, variant, images64):
    torch.manual_seed(0)
    model = ram_model.build_model(variant).eval()
    path = save_checkpoint(model, tmp_path / "model.pth")
    torch.manual_seed(1)
    clone = ram_model.build_model(variant).eval()
    load_checkpoint(path, clone)
    for key, value in model.state_dict().items():
        assert torch.equal(value, clone.state_dict()[key]), key
    assert torch.equal(model.tagging_logits(images64), clone.tagging_logits(images64))


def test_tied_tensors_stay_shared_after_loading(tmp_path, tiny_ram):
    path = save_checkpoint(tiny_ram, tmp_path / "m.pth")
    clone = ram_model.build_model("ram_tiny")
    load_checkpoint(path, clone)
    shared = clone.tagging_head.encoder.layer[0].intermediate.dense.weight
    assert clone.tag_encoder.encoder.layer[0].intermediate.dense.weight is shared
    with torch.no_grad():
        shared.add_(1.0)
    assert torch.equal(clone.tag_encoder.encoder.layer[0].intermediate.dense.weight, shared)
    decoder = clone.text_decoder
    assert decoder.cls.predictions.decoder.weight is decoder.bert.embeddings.word_embeddings.weight


def test_export_contains_derived_buffers_in_official_layout(tiny_ram):
    state = to_official_state_dict(tiny_ram)
    assert "tag_encoder.embeddings.position_ids" in state
    assert "visual_encoder.layers.0.blocks.0.attn.relative_position_index" in state
    assert state["visual_encoder.layers.0.blocks.1.attn_mask"].shape == (16, 16, 16)  # 16x16 grid, window 4
    assert "visual_encoder.layers.0.downsample.reduction.weight" in state
    assert "visual_encoder.layers.3.downsample.reduction.weight" not in state


def test_optional_buffers_may_be_absent_or_extra(tiny_ram):
    state = to_official_state_dict(tiny_ram)
    derived = ("attn_mask", "relative_position_index", "position_ids")
    without = {k: v for k, v in state.items() if not k.endswith(derived)}
    load_checkpoint({"model": without}, tiny_ram)
    extra = dict(state)
    extra["visual_encoder.layers.3.blocks.0.attn_mask"] = torch.zeros(1, 4, 4)
    load_checkpoint(extra, tiny_ram)  # bare state dict, extra buffer ignored


def test_modules_the_official_code_deletes_are_ignored_but_unknown_keys_are_not(tiny_ram):
    state = to_official_state_dict(tiny_ram)
    state["tagging_head.embeddings.word_embeddings.weight"] = torch.zeros(10, 64)
    state["tagging_head.encoder.layer.0.attention.self.query.weight"] = torch.zeros(64, 64)
    load_checkpoint(state, tiny_ram)
    state["tagging_head.encoder.layer.0.selfattn.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointMismatchError, match="selfattn"):
        load_checkpoint(state, tiny_ram)


def test_mismatch_error_lists_every_missing_unexpected_and_misshaped_key(tiny_ram):
    state = to_official_state_dict(tiny_ram)
    del state["fc.bias"]
    del state["image_proj.weight"]
    state["bogus.weight"] = torch.zeros(1)
    state["wordvec_proj.bias"] = torch.zeros(3)
    with pytest.raises(CheckpointMismatchError) as err:
        load_checkpoint({"model": state}, tiny_ram)
    message = str(err.value)
    for key in ("fc.bias", "image_proj.weight", "bogus.weight", "wordvec_proj.bias: checkpoint (3,)"):
        assert key in message
    assert "2 missing" in message and "1 unexpected" in message and "1 mis-shaped" in message


def test_class_count_mismatch_names_both_counts(tiny_ram):
    other = ram_model.build_model("ram_tiny", num_classes=10)
    with pytest.raises(CheckpointMismatchError, match=r"ram \(10 classes\).*ram_tiny \(4585 classes\)"):
        load_checkpoint(to_official_state_dict(other), tiny_ram)


def test_wrong_variant_is_named(tmp_path, tiny_tag2text):
    path = save_checkpoint(tiny_tag2text, tmp_path / "t2t.pth")
    with pytest.raises(CheckpointMismatchError, match=r"tag2text.*--model ram"):
        load_model(path, "ram")


def test_differing_tied_values_are_rejected(tiny_ram):
    state = to_official_state_dict(tiny_ram)
    key = "tag_encoder.encoder.layer.0.crossattention.self.query.bias"
    state[key] = state[key] + 1.0
    with pytest.raises(CheckpointMismatchError, match="tied"):
        load_checkpoint(state, tiny_ram)


def test_position_tables_of_another_window_are_interpolated(tiny_ram):
    swin = dict(tiny_ram.config["swin"], window_size=8, image_res=128)
    big = ram_model.build_model("ram_tiny", swin=swin, image_size=128)
    state = to_official_state_dict(tiny_ram)
    key = "visual_encoder.layers.0.blocks.0.attn.relative_position_bias_table"
    table = state[key]  # (2*4-1)^2 = 49 rows
    converted = from_official_state_dict(state, big)
    assert converted[key].shape == (225, 1)
    # the zero offset sits in the middle of both grids and keeps its value
    assert torch.allclose(converted[key][112], table[24], atol=1e-5)
    load_checkpoint(state, big)
    assert big.tagging_logits(torch.randn(1, 3, 128, 128)).shape == (1, 4585)


def test_load_model_rebuilds_tiny_checkpoint_from_stored_config(tmp_path, tiny_ram_plus, images64):
    path = save_checkpoint(tiny_ram_plus, tmp_path / "rp.pth")
    model = load_model(path).eval()
    assert model.variant == "ram_plus_tiny"
    assert torch.equal(model.tagging_logits(images64), tiny_ram_plus.tagging_logits(images64))


def test_foreign_config_entry_is_not_taken_for_a_model_config(tmp_path, tiny_ram):
    path = tmp_path / "official.pth"
    torch.save({"model": to_official_state_dict(tiny_ram), "config": {"vit": "swin_l", "image_size": 384}}, path)
    assert load_model(path, "ram_tiny").variant == "ram_tiny"


def test_pickled_objects_need_trust(tmp_path, tiny_ram):
    import argparse

    path = tmp_path / "pickled.pth"
    torch.save({"model": to_official_state_dict(tiny_ram), "args": argparse.Namespace(lr=1)}, path)
    with pytest.raises(ValueError, match="trusted=True"):
        load_model(path, "ram_tiny")
    assert load_model(path, "ram_tiny", trusted=True).variant == "ram_tiny"


def test_load_model_with_another_image_size(tmp_path, tiny_ram):
    path = save_checkpoint(tiny_ram, tmp_path / "r.pth")
    model = load_model(path, image_size=128).eval()
    assert model.image_size == 128
    assert model.tagging_logits(torch.randn(1, 3, 128, 128)).shape == (1, 4585)
