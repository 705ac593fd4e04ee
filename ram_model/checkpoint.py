"""Load and save RAM checkpoints (official layout), strictly for parameters and with clear errors."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .convert import from_official_state_dict, to_official_state_dict


class CheckpointMismatchError(ValueError):
    """The checkpoint's parameters do not fit the model; the message lists every offending key."""


def read_checkpoint(source: str | Path | Mapping[str, Any], *, trusted: bool = False) -> dict[str, Any]:
    """Return the checkpoint as a dict (``torch.load`` with ``weights_only`` unless ``trusted``)."""
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not trusted)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"checkpoint {path} holds objects other than tensors and plain data; if you trust the file, "
            f"load it with trusted=True (CLI: --trusted-checkpoint). Details: {str(exc).splitlines()[0]}"
        ) from exc
    if not isinstance(obj, Mapping):
        raise ValueError(f"checkpoint {path} holds a {type(obj).__name__}, expected a dict")
    return dict(obj)


def weights_of(checkpoint: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The state dict inside a checkpoint: under ``model`` (or ``state_dict``), else the mapping itself."""
    for key in ("model", "state_dict"):
        inner = checkpoint.get(key)
        if isinstance(inner, Mapping):
            return dict(inner)
    return dict(checkpoint)


def describe_weights(state: Mapping[str, torch.Tensor]) -> str:
    """Best guess of the variant and class count a state dict was saved from (for error messages)."""
    if "reweight_scale" in state and "label_embed" in state:
        return f"ram_plus ({state['label_embed'].shape[0]} description rows)"
    if "fc.W" in state:
        return f"tag2text ({state['fc.W'].shape[1]} classes)"
    if "label_embed" in state:
        return f"ram ({state['label_embed'].shape[0]} classes)"
    return "unknown model"


def _model_summary(model: nn.Module) -> str:
    variant = getattr(model, "variant", type(model).__name__)
    classes = getattr(model, "num_classes", "?")
    return f"{variant} ({classes} classes)"


def _check(model: nn.Module, state: dict[str, torch.Tensor], original: Mapping[str, torch.Tensor]) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mis_shaped = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if tuple(state[k].shape) != tuple(expected[k].shape)
    )
    if not (missing or unexpected or mis_shaped):
        return
    lines = [f"checkpoint of {describe_weights(original)} does not fit model {_model_summary(model)}:"]
    for title, keys in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", mis_shaped)):
        if keys:
            lines.append(f"{len(keys)} {title} key(s):")
            lines.extend(f"  {k}" for k in keys)
    raise CheckpointMismatchError("\n".join(lines))


def _check_ties(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Keys that name one shared tensor in the model must carry equal values in the file."""
    by_tensor: dict[int, list[str]] = {}
    for name, tensor in model.state_dict(keep_vars=True).items():
        by_tensor.setdefault(id(tensor), []).append(name)
    for names in by_tensor.values():
        if len(names) > 1:
            first = state[names[0]]
            for other in names[1:]:
                if not torch.equal(first, state[other]):
                    raise CheckpointMismatchError(f"tied tensors {names[0]} and {other} differ in the checkpoint")


def load_checkpoint(
    source: str | Path | Mapping[str, Any], model: nn.Module, *, trusted: bool = False
) -> dict[str, Any]:
    """Load official-layout weights into ``model`` (path, checkpoint dict with ``model`` key, or state dict).

    Every parameter must be present with the right shape; derived buffers may be absent or extra; position
    tables of another window size are interpolated. Returns the checkpoint dict (for its other entries).
    """
    checkpoint = read_checkpoint(source, trusted=trusted)
    original = weights_of(checkpoint)
    state = from_official_state_dict(original, model)
    _check(model, state, original)
    _check_ties(model, state)
    model.load_state_dict(state, strict=True)
    return checkpoint


def save_checkpoint(model: nn.Module, path: str | Path, **extra: Any) -> Path:
    """Save ``{"model": official-layout state dict, "config": model.config, **extra}``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {"model": to_official_state_dict(model)}
    config = getattr(model, "config", None)
    if config is not None:
        payload["config"] = config
    payload.update(extra)
    torch.save(payload, path)
    return path


def model_config_of(checkpoint: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ram_model build config saved beside the weights; None for other files (e.g. official ones)."""
    config = checkpoint.get("config")
    if isinstance(config, Mapping) and {"arch", "swin", "med", "q2l"} <= set(config):
        return dict(config)
    return None


def guess_arch(state: Mapping[str, torch.Tensor]) -> str | None:
    """``ram``, ``ram_plus`` or ``tag2text`` from the keys of an official state dict (None if unknown)."""
    if "reweight_scale" in state:
        return "ram_plus"
    if "fc.W" in state or "label_embed.weight" in state:
        return "tag2text"
    if "label_embed" in state:
        return "ram"
    return None


def load_model(
    source: str | Path | Mapping[str, Any], variant: str | None = None, *, trusted: bool = False, **build_kw: Any
) -> nn.Module:
    """Build the model a checkpoint was saved from and load it.

    The checkpoint's own ``config`` wins when present (tiny and custom models); otherwise ``variant``
    (default: guessed from the keys) with ``build_kw`` such as ``image_size``. A ``variant`` whose
    architecture disagrees with the checkpoint is an error naming both.
    """
    from .models.registry import VARIANTS, build_model

    checkpoint = read_checkpoint(source, trusted=trusted)
    weights = weights_of(checkpoint)
    config = model_config_of(checkpoint)
    found = config.get("arch") if config is not None else guess_arch(weights)
    if variant is not None:
        wanted = VARIANTS[variant]["arch"] if variant in VARIANTS else variant
        if found is not None and wanted != found:
            raise CheckpointMismatchError(
                f"checkpoint holds a {describe_weights(weights)} model but --model {variant} was requested"
            )
    if config is not None:
        model = build_model(dict(config), **build_kw)
    elif variant is not None or found is not None:
        model = build_model(variant or found, **build_kw)
    else:
        raise CheckpointMismatchError("cannot tell which model this checkpoint holds; pass the variant")
    load_checkpoint(checkpoint, model)
    return model
