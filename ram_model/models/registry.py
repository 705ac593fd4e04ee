"""Named model variants (plain data) and ``build_model``."""

from __future__ import annotations

import copy
from typing import Any

from ..configs import ConfigLike, load_config
from .base import Tagger

RAM_TAGS = "ram_tag_list.txt"
TAG2TEXT_TAGS = "tag2text_ori_tag_list.txt"

_SWIN = {
    ("l", 224): "swin/config_swinL_224.json",
    ("l", 384): "swin/config_swinL_384.json",
    ("b", 224): "swin/config_swinB_224.json",
    ("b", 384): "swin/config_swinB_384.json",
}


def _full(arch: str, size: str, image_size: int, num_classes: int, tag_list: str) -> dict[str, Any]:
    return {
        "arch": arch,
        "swin": _SWIN[(size, image_size)],
        "med": "med_config.json",
        "q2l": "q2l_config.json",
        "num_classes": num_classes,
        "image_size": image_size,
        "tag_list": tag_list,
    }


def _tiny(arch: str, num_classes: int, tag_list: str) -> dict[str, Any]:
    return {
        "arch": arch,
        "swin": "swin/config_swin_tiny_64.json",
        "med": "med_tiny.json",
        "q2l": "q2l_tiny.json",
        "num_classes": num_classes,
        "image_size": 64,
        "tag_list": tag_list,
    }


VARIANTS: dict[str, dict[str, Any]] = {
    "ram": _full("ram", "l", 384, 4585, RAM_TAGS),
    "ram_plus": {**_full("ram_plus", "l", 384, 4585, RAM_TAGS), "num_descriptions": 51},
    "tag2text": _full("tag2text", "b", 384, 3429, TAG2TEXT_TAGS),
    "ram_tiny": _tiny("ram", 4585, RAM_TAGS),
    "ram_plus_tiny": {**_tiny("ram_plus", 4585, RAM_TAGS), "num_descriptions": 2},
    "tag2text_tiny": _tiny("tag2text", 3429, TAG2TEXT_TAGS),
}
_FULL_ARCHS = (("ram", RAM_TAGS, 4585), ("ram_plus", RAM_TAGS, 4585), ("tag2text", TAG2TEXT_TAGS, 3429))
for _arch, _tags, _classes in _FULL_ARCHS:
    for (_size, _res) in _SWIN:
        _cfg = _full(_arch, _size, _res, _classes, _tags)
        if _arch == "ram_plus":
            _cfg["num_descriptions"] = 51
        VARIANTS[f"{_arch}_swin_{_size}_{_res}"] = _cfg


def resolve_config(
    variant: str | dict[str, Any],
    *,
    swin: ConfigLike | None = None,
    med: ConfigLike | None = None,
    q2l: ConfigLike | None = None,
    num_classes: int | None = None,
    image_size: int | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A complete plain-data config: named variant (or config dict) with sub-configs loaded and overrides applied."""
    if isinstance(variant, dict):
        base = copy.deepcopy(variant)
        name = base.get("variant", base.get("arch"))
    else:
        if variant not in VARIANTS:
            raise ValueError(f"unknown model variant {variant!r}; known: {', '.join(sorted(VARIANTS))}")
        base = copy.deepcopy(VARIANTS[variant])
        name = variant
    base["variant"] = name
    official_swin = {path: key for key, path in _SWIN.items()}
    if image_size is not None and swin is None and isinstance(base["swin"], str) and base["swin"] in official_swin:
        size = official_swin[base["swin"]][0]  # keep the backbone size, take the window of the new resolution
        base["swin"] = _SWIN.get((size, int(image_size)), base["swin"])
    for key, value in (("swin", swin), ("med", med), ("q2l", q2l)):
        if value is not None:
            base[key] = value
        base[key] = load_config(base[key])
    if num_classes is not None:
        base["num_classes"] = int(num_classes)
    base["image_size"] = int(image_size or base.get("image_size") or base["swin"]["image_res"])
    base.update(overrides)
    return base


def build_model(
    variant: str | dict[str, Any],
    *,
    swin: ConfigLike | None = None,
    med: ConfigLike | None = None,
    q2l: ConfigLike | None = None,
    num_classes: int | None = None,
    image_size: int | None = None,
    **overrides: Any,
) -> Tagger:
    """Build ``ram``/``ram_plus``/``tag2text`` (or ``*_tiny``, ``*_swin_{b,l}_{224,384}``) from plain configs.

    ``swin``/``med``/``q2l`` take a dict or a path to an official-format JSON config; other keyword
    arguments (``num_descriptions``, ``embed_dim``, ``caption``, ``tag_list``) go into the config.
    """
    from .ram import RAM
    from .ram_plus import RAMPlus
    from .tag2text import Tag2Text

    config = resolve_config(
        variant, swin=swin, med=med, q2l=q2l, num_classes=num_classes, image_size=image_size, **overrides
    )
    classes = {"ram": RAM, "ram_plus": RAMPlus, "tag2text": Tag2Text}
    arch = config.get("arch")
    if arch not in classes:
        raise ValueError(f"config arch must be one of {sorted(classes)}, got {arch!r}")
    return classes[arch](config)
