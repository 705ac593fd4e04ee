"""Explicit, reversible key mapping between the official RAM checkpoints and this package's modules.

Only two things differ from the official names:
- the Swin patch-merging step: official ``visual_encoder.layers.{i}.downsample`` (end of stage i) is
  timm's ``visual_encoder.layers.{i+1}.downsample`` (start of stage i+1);
- buffers the official model saves but that are derived here (``relative_position_index``, ``attn_mask``,
  ``position_ids``): dropped on import, regenerated on export.
The legacy prefix ``vision_multi.`` is read as ``tagging_head.``; modules the official code deletes after
building them (``KNOWN_UNUSED``) are skipped if a file still has them. Everything else must match exactly.
"""

from __future__ import annotations

import re
import warnings

import torch
from timm.layers import resize_rel_pos_bias_table
from torch import nn

OPTIONAL_BUFFERS = ("relative_position_index", "attn_mask", "position_ids")
# Sub-modules the official code builds and then deletes (Query2Label head without embeddings and
# self-attention, no poolers); a file saved before the deletion may still carry them, and the official
# loader (strict=False) ignores them too.
KNOWN_UNUSED = re.compile(
    r"^(tagging_head|vision_multi)\.(embeddings|pooler)\."
    r"|^(tagging_head|vision_multi)\.encoder\.layer\.\d+\.attention\."
    r"|^(tag_encoder|text_decoder\.bert)\.pooler\."
)
_DOWNSAMPLE = re.compile(r"^(visual_encoder\.layers\.)(\d+)(\.downsample\..*)$")


def is_optional_buffer(key: str) -> bool:
    return key.rsplit(".", 1)[-1] in OPTIONAL_BUFFERS


def official_to_internal_key(key: str) -> str | None:
    """Internal name of an official key, or None for a derived buffer or a known-unused module."""
    if is_optional_buffer(key) or KNOWN_UNUSED.match(key):
        return None
    if key.startswith("vision_multi."):
        key = "tagging_head." + key[len("vision_multi.") :]
    match = _DOWNSAMPLE.match(key)
    if match:
        key = f"{match.group(1)}{int(match.group(2)) + 1}{match.group(3)}"
    return key


def internal_to_official_key(key: str) -> str:
    """Official name of an internal key (inverse of :func:`official_to_internal_key`)."""
    match = _DOWNSAMPLE.match(key)
    if match:
        stage = int(match.group(2))
        if stage == 0:
            raise ValueError(f"{key}: timm stage 0 has no downsample")
        key = f"{match.group(1)}{stage - 1}{match.group(3)}"
    return key


def _resize_position_table(value: torch.Tensor, module: nn.Module) -> torch.Tensor:
    """Interpolate a relative-position bias table saved for another window size (geometric spacing)."""
    target = module.relative_position_bias_table
    if value.shape == target.shape:
        return value
    if value.ndim != 2 or value.shape[1] != target.shape[1]:
        return value  # head count differs: leave it for the shape check to report
    with warnings.catch_warnings():  # timm's interpolation helper warns about indexing style only
        warnings.simplefilter("ignore", UserWarning)
        resized = resize_rel_pos_bias_table(
            value.float(), new_window_size=module.window_size, new_bias_shape=tuple(target.shape)
        )
    return resized.to(value.dtype)


def from_official_state_dict(state: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Rename official keys to internal ones, drop derived buffers, resize position tables to ``model``."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        internal = official_to_internal_key(key)
        if internal is None:
            continue
        if internal.endswith(".relative_position_bias_table"):
            try:
                owner = model.get_submodule(internal.rsplit(".", 1)[0])
            except AttributeError:
                owner = None
            if owner is not None:
                value = _resize_position_table(value, owner)
        out[internal] = value
    return out


def derived_buffers(model: nn.Module) -> dict[str, torch.Tensor]:
    """The optional buffers the official model stores, under their internal module paths."""
    out: dict[str, torch.Tensor] = {}
    for name, buffer in model.named_buffers(remove_duplicate=False):
        if buffer is not None and is_optional_buffer(name):
            out[name] = buffer
    return out


def to_official_state_dict(model: nn.Module, include_buffers: bool = True) -> dict[str, torch.Tensor]:
    """State dict in the official layout (key names, tied duplicates, and by default the derived buffers)."""
    state = dict(model.state_dict())
    if include_buffers:
        for name, buffer in derived_buffers(model).items():
            state.setdefault(name, buffer)
    return {internal_to_official_key(k): v for k, v in state.items()}
