"""`python -m ram_model.evaluate` on a tiny trained checkpoint and the three annotation formats."""

import json

import numpy as np
import pytest
import torch

from ram_model import build_model
from ram_model.checkpoint import save_checkpoint
from ram_model.evaluate.__main__ import main
from ram_model.evaluate.annotations import class_indices, read_benchmark
from ram_model.synthetic import write_dataset


@pytest.fixture(scope="module")
def held_out(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("eval"), 12, seed=9)


@pytest.fixture(scope="module")
def checkpoint(held_out, tmp_path_factory):
    torch.manual_seed(0)
    model = build_model("ram_tiny", num_classes=9, image_size=64, caption=False)
    tags = held_out["tag_list"].read_text().split("\n")
    return save_checkpoint(model, tmp_path_factory.mktemp("ckpt") / "model.pth", tag_list=tags)


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured


def test_jsonl_benchmark_prints_the_metrics_and_writes_pr_curves(held_out, checkpoint, tmp_path, capsys):
    png = tmp_path / "pr.png"
    code, out = run_cli(capsys, "--checkpoint", checkpoint, "--annotations", held_out["annotations"],
                        "--image-root", held_out["annotations"].parent, "--pr-curves", png)
    assert code == 0, out.err
    report = json.loads(out.out)
    assert {"mAP", "CP", "CR", "CF1", "OP", "OR", "OF1", "per_tag_ap", "num_images"} <= set(report)
    assert report["num_images"] == 12 and 0 <= report["mAP"] <= 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _openimages_layout(held_out, root):
    """Copy the synthetic held-out set into the OpenImages `image_id,tag,...` layout (JPEG by id)."""
    from PIL import Image

    lines = [json.loads(line) for line in held_out["annotations"].read_text().splitlines()]
    (root / "test").mkdir(parents=True)
    rows = []
    for i, line in enumerate(lines):
        Image.open(held_out["annotations"].parent / line["image"]).save(root / "test" / f"img{i}.jpg")
        rows.append(",".join([f"test/img{i}", *line["tags"]]))
    return rows


def test_openimages_name_format_trims_to_the_benchmark_classes(held_out, checkpoint, tmp_path, capsys):
    rows = _openimages_layout(held_out, tmp_path)
    (tmp_path / "annots.txt").write_text("\n".join(rows))
    (tmp_path / "taglist.txt").write_text("red\ncircle\nsquare")
    code, out = run_cli(capsys, "--checkpoint", checkpoint, "--annotations", tmp_path / "annots.txt",
                        "--taglist", tmp_path / "taglist.txt", "--image-root", tmp_path)
    assert code == 0, out.err
    report = json.loads(out.out)
    assert list(report["per_tag_ap"]) == ["red", "circle", "square"]


def test_openimages_index_format_uses_model_class_indices(held_out, checkpoint, tmp_path, capsys):
    tags = held_out["tag_list"].read_text().split("\n")
    rows = _openimages_layout(held_out, tmp_path)
    id_rows = [",".join([r.split(",")[0], *(str(tags.index(t)) for t in r.split(",")[1:])]) for r in rows]
    (tmp_path / "idannots.txt").write_text("\n".join(id_rows))
    (tmp_path / "tagidlist.txt").write_text("0\n5\n6")
    code, out = run_cli(capsys, "--checkpoint", checkpoint, "--annotations", tmp_path / "idannots.txt",
                        "--taglist", tmp_path / "tagidlist.txt", "--image-root", tmp_path)
    assert code == 0, out.err
    assert list(json.loads(out.out)["per_tag_ap"]) == ["red", "circle", "square"]


def test_trimmed_scores_equal_the_full_model_columns(held_out, checkpoint):
    from ram_model.checkpoint import load_model
    from ram_model.evaluate.runner import predict_scores, trim_model

    model = load_model(checkpoint)
    paths = read_benchmark(held_out["annotations"], None, held_out["annotations"].parent).image_paths
    full, _ = predict_scores(model, paths, image_size=64)
    trimmed, columns = trim_model(model, [4, 0, 7])
    assert columns is None
    part, _ = predict_scores(trimmed, paths, image_size=64)
    np.testing.assert_allclose(part, full[:, [4, 0, 7]], atol=1e-5)


def test_unreadable_images_are_skipped_with_the_reason(held_out, checkpoint, tmp_path, capsys):
    lines = held_out["annotations"].read_text().splitlines()
    (tmp_path / "broken.png").write_bytes(b"not an image")
    lines.append(json.dumps({"image": str(tmp_path / "broken.png"), "tags": ["red"]}))
    (tmp_path / "a.jsonl").write_text("\n".join(lines))
    code, out = run_cli(capsys, "--checkpoint", checkpoint, "--annotations", tmp_path / "a.jsonl",
                        "--image-root", held_out["annotations"].parent)
    report = json.loads(out.out)
    assert code == 0 and report["num_images"] == 12
    assert report["skipped"][0]["image"].endswith("broken.png") and report["skipped"][0]["reason"]


def test_benchmark_classes_missing_from_the_model_are_named(held_out, checkpoint, tmp_path, capsys):
    (tmp_path / "taglist.txt").write_text("red\nunicorn")
    (tmp_path / "annots.txt").write_text("test/x,red")
    code, out = run_cli(capsys, "--checkpoint", checkpoint, "--annotations", tmp_path / "annots.txt",
                        "--taglist", tmp_path / "taglist.txt", "--image-root", tmp_path)
    assert code == 2 and "'unicorn'" in out.err


def test_class_indices_map_names_in_benchmark_order():
    assert class_indices(["b", "a"], ["a", "b", "c"]) == [1, 0]


@pytest.fixture(scope="module")
def tiny_clip_file(tmp_path_factory):
    from ram_model.clip import load_clip

    path = tmp_path_factory.mktemp("clip") / "tiny_clip.pt"
    torch.save(load_clip(tiny=True).state_dict(), path)
    return path


def test_open_set_evaluation_scores_classes_the_model_never_had(held_out, checkpoint, tiny_clip_file, tmp_path,
                                                                 capsys):
    rows = _openimages_layout(held_out, tmp_path)
    (tmp_path / "annots.txt").write_text("\n".join(f"{row},unicorn" if i % 2 else row for i, row in enumerate(rows)))
    (tmp_path / "taglist.txt").write_text("red\nunicorn")
    code, out = run_cli(capsys, "--checkpoint", checkpoint, "--annotations", tmp_path / "annots.txt",
                        "--taglist", tmp_path / "taglist.txt", "--image-root", tmp_path,
                        "--clip-checkpoint", tiny_clip_file, "--clip-model", "tiny")

    assert code == 0, out.err
    report = json.loads(out.out)
    assert set(report["per_tag_ap"]) == {"red", "unicorn"}


def test_open_set_model_for_ram_plus_uses_the_descriptions_of_each_class(tiny_clip_file):
    from ram_model.evaluate.runner import open_set_model

    model = build_model("ram_plus_tiny", num_classes=3, image_size=64)
    descriptions = {"owl": ["a bird.", "big eyes.", "feathers."], "kite": ["a toy.", "string.", "sky."]}

    opened = open_set_model(model, ["kite", "owl"], str(tiny_clip_file), clip_model_name="tiny",
                            descriptions=descriptions)

    assert opened.num_classes == 2 and opened.num_descriptions == 3
    assert model.num_classes == 3  # the original is untouched


def test_open_set_evaluation_refuses_tag2text():
    from ram_model.evaluate.runner import open_set_model

    with pytest.raises(ValueError, match="learned label queries"):
        open_set_model(build_model("tag2text_tiny", num_classes=3, image_size=64), ["a"], "unused")
