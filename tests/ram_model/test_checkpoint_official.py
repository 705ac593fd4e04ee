"""A full-size RAM (Swin-B, 224) loads a random state dict with exactly the official key names and shapes."""

from __future__ import annotations

import pytest
import torch

import ram_model
from ram_model.checkpoint import load_checkpoint
from ram_model.convert import to_official_state_dict


def swin_b_224_ram_shapes(official_shapes: dict) -> dict[str, list[int]]:
    """Official RAM keys/shapes with the visual encoder swapped for Swin-B at 224 (window 7).

    The JSON gives RAM with Swin-L/384; Tag2Text's Swin-B/384 encoder has the same key names, so its
    shapes are reused with window 12 → 7 (tables 23² → 13² rows, masks/indices 144 → 49 tokens; the window
    counts per stage are equal at 384/12 and 224/7).
    """
    ram = official_shapes["ram_swin_large_14m"]
    swin_b = {k: v for k, v in official_shapes["tag2text_swin_14m"].items() if k.startswith("visual_encoder.")}
    out: dict[str, list[int]] = {}
    for key, shape in ram.items():
        if key.startswith("visual_encoder."):
            shape = list(swin_b[key])
            if key.endswith("relative_position_bias_table"):
                shape[0] = 13 * 13
            elif key.endswith("relative_position_index"):
                shape = [49, 49]
            elif key.endswith("attn_mask"):
                shape = [shape[0], 49, 49]
        elif key == "image_proj.weight":
            shape = [512, 1024]
        out[key] = shape
    return out


def random_official_state(shapes: dict[str, list[int]], tied_groups: list[list[str]]) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    state = {}
    for key, shape in shapes.items():
        if key.endswith(("relative_position_index", "position_ids")):
            state[key] = torch.zeros(shape, dtype=torch.long)
        else:
            state[key] = torch.randn(shape, generator=gen) * 0.02
    for group in tied_groups:
        for key in group[1:]:
            state[key] = state[group[0]]
    return state


@pytest.mark.slow
def test_swin_b_224_ram_loads_official_layout_strictly_and_round_trips(official_shapes):
    shapes = swin_b_224_ram_shapes(official_shapes)
    tied = official_shapes["_meta"]["ram_swin_large_14m"]["tied_key_groups"]
    assert len(shapes) == 1042 and len(tied) == 34
    state = random_official_state(shapes, tied)

    model = ram_model.build_model("ram_swin_b_224").eval()
    load_checkpoint({"model": state}, model)

    exported = to_official_state_dict(model)
    assert {k: list(v.shape) for k, v in exported.items()} == shapes
    for key, value in state.items():
        if not key.endswith(("relative_position_index", "attn_mask", "position_ids")):
            assert torch.equal(exported[key], value), key

    images = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        logits = model.tagging_logits(images)
    assert logits.shape == (1, 4585) and torch.isfinite(logits).all()

    del state
    load_checkpoint({"model": exported}, model)  # the export (official layout) loads strictly again
    with torch.no_grad():
        assert torch.equal(model.tagging_logits(images), logits)
