"""Model definitions: Swin encoder, BERT blocks, heads, RAM / RAM++ / Tag2Text and the variant registry."""

from .registry import VARIANTS, build_model, resolve_config

__all__ = ["VARIANTS", "build_model", "resolve_config"]
