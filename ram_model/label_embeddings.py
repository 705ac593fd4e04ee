"""Open-set label embeddings from CLIP text features: prompt ensembles (RAM) or descriptions (RAM++).

Encoding is batched over prompts sorted by token length and each batch is cut to its longest prompt
(see :func:`ram_model.clip.encode_text_truncated`): positions after a prompt's end-of-text never change
its embedding, so they are not computed. Results can be cached in a file keyed by the texts and the CLIP
checkpoint's identity.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .clip import clip_tokenizer, encode_text_truncated, file_sha256, load_clip, text_tower_identity

TEMPLATES_PATH = Path(__file__).resolve().parent / "assets" / "openset_templates.txt"


def read_templates(path: str | Path = TEMPLATES_PATH) -> list[str]:
    """Prompt templates, one per line, with ``{}`` for the category and ``{article}`` for a/an."""
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def category_prompts(category: str, templates: Sequence[str]) -> list[str]:
    """Fill every template like the official open-set builder.

    The name is lowercased, ``_`` becomes a space, ``/`` becomes " or ", a trailing dot is removed; the
    article is "an" when the *original* name starts with a lowercase vowel; prompts starting with "a" or
    "the" get "This is " in front.
    """
    name = category.replace("_", " ").replace("/", " or ").lower().rstrip(".")
    article = "an" if category[:1] in "aeiou" and category else "a"
    prompts = [template.format(name, article=article) for template in templates]
    return ["This is " + p if p.startswith(("a", "the")) else p for p in prompts]


def read_descriptions(source: str | Path | Sequence[Mapping[str, Sequence[str]]] | Mapping[str, Sequence[str]]
                      ) -> list[tuple[str, list[str]]]:
    """RAM++ descriptions as ``[(tag, [text, …]), …]`` from the official JSON (list of {tag: [...]}) or a dict."""
    if isinstance(source, (str, Path)):
        source = json.loads(Path(source).read_text(encoding="utf-8"))
    if isinstance(source, Mapping):
        return [(tag, list(texts)) for tag, texts in source.items()]
    out = []
    for item in source:
        for tag, texts in item.items():
            out.append((tag, list(texts)))
    return out


def length_batches(lengths: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """Row indices sorted by token length and cut into batches, so each batch pads to a similar length."""
    order = torch.argsort(lengths, stable=True)
    return list(order.split(batch_size))


@torch.no_grad()
def encode_texts(
    model: nn.Module,
    texts: Sequence[str],
    *,
    tokenizer: Any = None,
    batch_size: int = 256,
    truncate: bool = True,
    progress: bool = False,
) -> torch.Tensor:
    """L2-normalised CLIP text features ``(N, D)`` in the order of ``texts``."""
    tokenizer = tokenizer or clip_tokenizer(getattr(model, "ram_model_name", "ViT-B-16"))
    device = next(model.parameters()).device
    tokens = tokenizer(list(texts))
    lengths = (tokens != 0).sum(dim=1)
    batches = length_batches(lengths, batch_size)
    out: torch.Tensor | None = None
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="encoding prompts", unit="batch")
    for index in batches:
        width = int(lengths[index].max()) if truncate else tokens.shape[1]
        features = encode_text_truncated(model, tokens[index, :width].to(device)).float()
        features = features / features.norm(dim=-1, keepdim=True)
        if out is None:
            out = torch.empty(len(texts), features.shape[1])
        out[index] = features.cpu()
    if out is None:
        raise ValueError("no texts to encode")
    return out


def _clip_identity(clip: nn.Module | str | Path, model_name: str) -> str:
    if isinstance(clip, nn.Module):
        return f"{getattr(clip, 'ram_model_name', model_name)}:weights:{text_tower_identity(clip)}"
    return f"{model_name}:file:{file_sha256(clip)}"


def cache_key(kind: str, texts: Sequence[str], identity: str) -> str:
    """Hash of what determines the embeddings: how they are combined, every text, and the CLIP weights."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"kind": kind, "texts": list(texts), "clip": identity}).encode())
    return digest.hexdigest()


def build_label_embeddings(
    tags_or_descriptions: Sequence[str] | Sequence[Mapping[str, Sequence[str]]] | Mapping[str, Sequence[str]],
    clip_model_or_checkpoint: nn.Module | str | Path | None,
    *,
    model_name: str = "ViT-B-16",
    templates: Sequence[str] | None = None,
    average: bool = True,
    batch_size: int = 256,
    truncate: bool = True,
    cache_dir: str | Path | None = None,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> torch.Tensor:
    """Label embeddings for ``set_label_embeddings``.

    - Tag names: every tag filled into the 63 templates, each prompt L2-normalised, averaged over templates
      and re-normalised → ``(C, D)`` (RAM). With ``average=False`` the template prompts are kept as
      descriptions → ``(C * T, D)`` tag-major (usable by RAM++).
    - Descriptions (``{tag: [texts]}`` or the official list of such dicts): each description normalised,
      not averaged → ``(C * K, D)`` tag-major (RAM++); every tag needs the same number K.
    """
    if isinstance(tags_or_descriptions, Mapping) or (
        tags_or_descriptions and not isinstance(tags_or_descriptions[0], str)
    ):
        groups = read_descriptions(tags_or_descriptions)
        kind = "descriptions"
    else:
        templates = list(templates) if templates is not None else read_templates()
        groups = [(tag, category_prompts(tag, templates)) for tag in tags_or_descriptions]
        kind = "template-average" if average else "template-descriptions"
    counts = {len(texts) for _, texts in groups}
    if len(counts) != 1:
        raise ValueError(f"every tag needs the same number of texts, got counts {sorted(counts)}")
    per_tag = counts.pop()
    texts = [text for _, group in groups for text in group]

    clip_source = clip_model_or_checkpoint
    path: Path | None = None
    if cache_dir is not None and clip_source is not None:  # random weights (None) are never cached
        identity = _clip_identity(clip_source, model_name)
        path = Path(cache_dir) / f"label_embed_{cache_key(kind, texts, identity)[:32]}.pt"
        if path.is_file():
            return torch.load(path, map_location="cpu", weights_only=True)["embeddings"]

    model = clip_source if isinstance(clip_source, nn.Module) else load_clip(clip_source, model_name, device=device)
    features = encode_texts(model, texts, batch_size=batch_size, truncate=truncate, progress=progress)
    if kind == "template-average":
        features = features.view(len(groups), per_tag, -1).mean(dim=1)
        features = features / features.norm(dim=-1, keepdim=True)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"embeddings": features, "tags": [t for t, _ in groups], "per_tag": per_tag}, path)
    return features
