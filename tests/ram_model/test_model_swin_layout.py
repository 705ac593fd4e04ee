"""timm's Swin computes what the official (end-of-stage merging) layout computes, so official weights fit.

Each test rebuilds one official definition by hand (patch-merging order, relative position index,
shifted-window mask) and compares it with what the converter exports or the timm module computes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ram_model.convert import to_official_state_dict


def test_patch_merging_matches_official_2x2_concatenation_order(tiny_ram):
    merge = tiny_ram.visual_encoder.layers[1].downsample  # official layers.0.downsample
    x = torch.randn(2, 8, 8, merge.dim)  # (B, H, W, C)
    x0, x1 = x[:, 0::2, 0::2], x[:, 1::2, 0::2]
    x2, x3 = x[:, 0::2, 1::2], x[:, 1::2, 1::2]
    stacked = torch.cat([x0, x1, x2, x3], dim=-1)
    expected = merge.reduction(F.layer_norm(stacked, (4 * merge.dim,), merge.norm.weight, merge.norm.bias))
    assert torch.allclose(merge(x), expected, atol=1e-6)


def official_relative_position_index(window: int) -> torch.Tensor:
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
    relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
    return relative[:, :, 0] * (2 * window - 1) + relative[:, :, 1]


def official_attn_mask(size: int, window: int, shift: int) -> torch.Tensor:
    img = torch.zeros(size, size)
    count = 0
    for hs in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
        for ws in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
            img[hs, ws] = count
            count += 1
    windows = img.view(size // window, window, size // window, window).permute(0, 2, 1, 3).reshape(-1, window * window)
    mask = windows[:, None, :] - windows[:, :, None]
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


def test_exported_buffers_equal_official_formulas(tiny_ram):
    state = to_official_state_dict(tiny_ram)
    index = state["visual_encoder.layers.0.blocks.0.attn.relative_position_index"]
    assert torch.equal(index, official_relative_position_index(4))
    mask = state["visual_encoder.layers.0.blocks.1.attn_mask"]  # 16x16 tokens, window 4, shift 2
    assert torch.equal(mask, official_attn_mask(16, 4, 2))
    assert "visual_encoder.layers.2.blocks.1.attn_mask" not in state  # 4x4 = window: never shifted


def test_window_attention_applies_table_through_the_official_index(tiny_ram):
    attn = tiny_ram.visual_encoder.layers[0].blocks[0].attn
    x = torch.randn(3, 16, attn.dim if hasattr(attn, "dim") else attn.qkv.in_features)
    heads = attn.num_heads
    qkv = attn.qkv(x).reshape(3, 16, 3, heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    bias = attn.relative_position_bias_table[official_relative_position_index(4).flatten()].view(16, 16, -1)
    scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1) + bias.permute(2, 0, 1)
    expected = attn.proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(3, 16, -1))
    assert torch.allclose(attn(x), expected, atol=1e-5)
