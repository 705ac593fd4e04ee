"""Proof that training works: ram_tiny learns the synthetic colours and shapes on the CPU within a few minutes."""

import time

import pytest
import torch

from ram_model.synthetic import COLOURS, SHAPES, write_dataset
from ram_model.train.config import resolve_training_config
from ram_model.train.metrics_log import read_metrics
from ram_model.train.recipes import synthetic_config, synthetic_data
from ram_model.train.setup import build_training_model
from ram_model.train.trainer import run_training

STEPS = 500
# The generator's full tag vocabulary (colours and shapes); groups of at most two shapes, so that a shape is
# 20-27 px wide rather than 14-18 px (3-4 patches of 4 px) at 64 px — see bench/RESULTS.md.
SYNTHETIC = synthetic_data()


def test_synthetic_recipe_gives_the_tagging_head_a_4x4_token_grid(tmp_path):
    """The recipe's ram_tiny reads 16 spatial tokens (+ the pooled one), not ram_tiny's default 2x2 grid."""
    write_dataset(tmp_path, 4, seed=0, config=SYNTHETIC)
    config = resolve_training_config(synthetic_config(tmp_path, steps=1))
    model = build_training_model(config)
    assert model.image_embeddings(torch.zeros(2, 3, 64, 64)).shape == (2, 1 + 16, 512)
    assert model.tagging_head.config.initializer_range == 0.05
    assert config["batch_size"] == 4  # a set smaller than a batch still trains


@pytest.mark.slow
def test_ram_tiny_reaches_high_held_out_map_on_colours_and_shapes_and_its_caption_loss_falls(tmp_path):
    torch.set_num_threads(2)
    tags = SYNTHETIC.tag_list()
    assert set(tags) == set(COLOURS) | set(SHAPES)  # every tag kind of the generator
    write_dataset(tmp_path / "train", 800, seed=0, config=SYNTHETIC)
    write_dataset(tmp_path / "held_out", 200, seed=1, config=SYNTHETIC)  # another seed: never trained on
    config = synthetic_config(tmp_path / "train", steps=STEPS, held_out_dir=tmp_path / "held_out")
    config["eval"]["every"] = 0  # evaluate once, at the end
    config["checkpoint_every"] = STEPS  # no intermediate training states
    tick = time.perf_counter()
    result = run_training(config, tmp_path / "run", resume=False)
    wall = time.perf_counter() - tick
    train = read_metrics(tmp_path / "run" / "metrics.jsonl", "train")
    final = read_metrics(tmp_path / "run" / "metrics.jsonl", "eval")[-1]
    per_tag = final["per_tag_ap"]
    print(f"held-out mAP {final['mAP']:.4f} after {result['step']} steps in {wall:.1f} s; per tag {per_tag}; "
          f"caption loss {train[0]['loss_t2t']:.2f} -> {train[-1]['loss_t2t']:.2f}")
    assert result["status"] == "completed"
    assert sorted(per_tag) == sorted(tags)
    assert final["mAP"] >= 0.9
    shape_map = sum(per_tag[s] for s in SHAPES) / len(SHAPES)
    assert shape_map >= 0.75  # chance (the prevalence of a shape) is about 0.35
    assert train[-1]["loss_t2t"] < 0.5 * train[0]["loss_t2t"]
