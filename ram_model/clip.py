"""open_clip models for label embeddings and distillation, from a local file only (never a hub)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

import open_clip
import torch
from open_clip.transformer import text_global_pool
from torch import nn

TINY_CLIP = {
    "embed_dim": 512,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def load_clip(
    checkpoint_path: str | Path | None = None,
    model_name: str = "ViT-B-16",
    tiny: bool = False,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """A frozen open_clip CLIP in eval mode: weights from ``checkpoint_path`` or random.

    ``tiny`` (or ``model_name="tiny"``) builds a small random CLIP for tests; with a checkpoint path its
    state dict is loaded from that file.
    """
    tiny = tiny or model_name == "tiny"
    if tiny:
        model = open_clip.model.CLIP(**TINY_CLIP)
        if checkpoint_path is not None:
            state = torch.load(Path(checkpoint_path), map_location="cpu", weights_only=True)
            model.load_state_dict(state.get("state_dict", state))
    elif checkpoint_path is None:
        config = open_clip.get_model_config(model_name)
        if config is None:
            raise ValueError(f"unknown open_clip model {model_name!r}")
        model = open_clip.model.CLIP(**config)
    else:
        path = Path(checkpoint_path)
        if not path.is_file():
            raise FileNotFoundError(f"CLIP checkpoint {path} does not exist (only local files are used)")
        model = open_clip.create_model(model_name, pretrained=str(path), load_weights=True)
    model = model.to(device).eval()
    for param in model.parameters():
        param.requires_grad_(False)
    model.ram_model_name = "tiny" if tiny else model_name
    return model


@functools.lru_cache(maxsize=4)
def clip_tokenizer(model_name: str = "ViT-B-16") -> Callable[[list[str]], torch.Tensor]:
    """open_clip's bundled BPE tokenizer: texts → ``(N, 77)`` ids, zero-padded, truncated with EOT kept."""
    return open_clip.get_tokenizer("ViT-B-16" if model_name == "tiny" else model_name)


def encode_text_truncated(model: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """CLIP text features for tokens cut to ``L`` ≤ context columns (same result as the full context).

    The text tower is causal and pools the end-of-text token, so columns after the longest prompt never
    influence the output; dropping them saves most of the work for short prompts.
    """
    if getattr(model, "text_pool_type", "argmax") != "argmax":
        raise ValueError("truncated encoding needs a CLIP text tower that pools the EOT (argmax) token")
    length = tokens.shape[1]
    cast = model.transformer.get_cast_dtype()
    x = model.token_embedding(tokens).to(cast) + model.positional_embedding[:length].to(cast)
    mask = model.attn_mask[:length, :length] if model.attn_mask is not None else None
    x = model.transformer(x, attn_mask=mask)
    x = model.ln_final(x)
    x = text_global_pool(x, tokens, "argmax")
    projection = model.text_projection
    if projection is None:
        return x
    return projection(x) if isinstance(projection, nn.Linear) else x @ projection


def file_sha256(path: str | Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def text_tower_identity(model: nn.Module) -> str:
    """Hash of the text-tower weights: identifies an in-memory CLIP for the embedding cache."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if name.startswith("visual."):
            continue
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
