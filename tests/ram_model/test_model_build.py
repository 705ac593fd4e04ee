"""Building models from variant names, plain dicts and official-format JSON config paths."""

from __future__ import annotations

import json

import pytest
import torch

import ram_model
from ram_model.configs import config_path
from ram_model.models.registry import resolve_config


@pytest.mark.parametrize("variant", ["ram_tiny", "ram_plus_tiny", "tag2text_tiny"])
def test_tiny_variant_runs_forward_and_backward(variant, images64):
    torch.manual_seed(0)
    model = ram_model.build_model(variant)
    logits = model.tagging_logits(images64)
    assert logits.shape == (2, model.num_classes)
    logits.sum().backward()
    grads = [p.grad for p in model.visual_encoder.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)


def test_tiny_variants_expose_contract_attributes(tiny_ram, tiny_ram_plus, tiny_tag2text):
    assert (tiny_ram.variant, tiny_ram.num_classes, tiny_ram.image_size) == ("ram_tiny", 4585, 64)
    assert (tiny_ram_plus.variant, tiny_ram_plus.num_classes) == ("ram_plus_tiny", 4585)
    assert (tiny_tag2text.variant, tiny_tag2text.num_classes) == ("tag2text_tiny", 3429)


def test_image_embeddings_have_pooled_token_and_projection(tiny_ram, tiny_tag2text, images64):
    # 64 px / patch 4 = 16, three merges → 2x2 = 4 patch tokens, plus the pooled token.
    assert tiny_ram.image_embeddings(images64).shape == (2, 5, 512)
    assert tiny_tag2text.image_embeddings(images64).shape == (2, 5, 256)


def test_configs_accepted_as_paths_and_dicts(tmp_path):
    med = json.loads(config_path("med_tiny.json").read_text())
    med["num_hidden_layers"] = 3
    med_path = tmp_path / "med.json"
    med_path.write_text(json.dumps(med))
    swin = json.loads(config_path("swin/config_swin_tiny_64.json").read_text())
    swin.update(embed_dim=16, num_heads=[1, 1, 2, 4], vision_width=128)
    model = ram_model.build_model(
        "ram_tiny", swin=swin, med=str(med_path), q2l=config_path("q2l_tiny.json"), num_classes=7
    )
    assert len(model.tag_encoder.encoder.layer) == 3
    assert model.visual_encoder.vision_width == 128
    assert model.image_proj.in_features == 128
    assert model.tagging_logits(torch.randn(1, 3, 64, 64)).shape == (1, 7)


def test_image_size_selects_matching_official_swin_config():
    assert resolve_config("ram", image_size=224)["swin"]["window_size"] == 7
    assert resolve_config("ram")["swin"]["window_size"] == 12
    assert resolve_config("ram_tiny", image_size=224)["swin"]["embed_dim"] == 32  # tiny keeps its backbone
    config = resolve_config("tag2text_swin_b_224")
    assert (config["swin"]["embed_dim"], config["image_size"], config["num_classes"]) == (128, 224, 3429)


def test_model_rebuilds_from_its_own_config(tiny_ram_plus):
    clone = ram_model.build_model(tiny_ram_plus.config)
    assert clone.variant == "ram_plus_tiny"
    assert {k: v.shape for k, v in clone.state_dict().items()} == {
        k: v.shape for k, v in tiny_ram_plus.state_dict().items()
    }


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError, match="unknown model variant"):
        ram_model.build_model("ram_huge")


def test_package_import_is_lazy():
    import subprocess
    import sys

    code = "import sys, ram_model; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
