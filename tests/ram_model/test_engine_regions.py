"""Region sources: COCO results files, Grounding DINO (optional), whole image, and how they combine."""

from __future__ import annotations

import importlib.machinery
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
from PIL import Image

from ram_model.engine.regions import (
    DetectionsFileSource,
    GroundingDinoSource,
    Region,
    WholeImageSource,
    available_sources,
    resolve_regions,
    write_detections,
)

ROOT = Path(__file__).resolve().parents[2]


def test_detections_file_maps_category_ids_to_tag_names(tmp_path: Path) -> None:
    path = tmp_path / "dets.json"
    path.write_text(json.dumps([{"image_id": 7, "category_id": 18, "bbox": [1, 2, 30, 40], "score": 0.9}]))
    source = DetectionsFileSource(path, categories=[{"id": 18, "name": "Dog"}])
    assert source.regions("7", ["dog"]) == [Region("7", "dog", (1.0, 2.0, 30.0, 40.0), 0.9, "detections")]


def test_detections_phrases_go_through_the_tag_map_and_unknown_ones_are_skipped() -> None:
    source = DetectionsFileSource(
        [{"image_id": "a", "phrase": "Dining_Table", "bbox": [0, 0, 5, 5], "score": 0.5},
         {"image_id": "a", "phrase": "spaceship", "bbox": [0, 0, 5, 5], "score": 0.5}],
        tag_map={"dining table": "table"},
    )
    assert [r.tag for r in source.regions("a", ["table", "spaceship"])] == ["table"]
    assert source.skipped == 1


def test_detections_keep_the_best_scoring_box_per_image_and_tag() -> None:
    source = DetectionsFileSource([
        {"image_id": 1, "tag": "cat", "bbox": [0, 0, 5, 5], "score": 0.4},
        {"image_id": 1, "tag": "cat", "bbox": [9, 9, 5, 5], "score": 0.8},
    ])
    assert source.regions("1", ["cat"])[0].box == (9.0, 9.0, 5.0, 5.0)
    assert len(source) == 1


def test_detections_below_min_score_are_dropped() -> None:
    source = DetectionsFileSource([{"image_id": 1, "tag": "cat", "bbox": [0, 0, 5, 5], "score": 0.1}], min_score=0.3)
    assert source.regions("1", ["cat"]) == []


def test_detections_image_ids_map_to_image_keys() -> None:
    source = DetectionsFileSource([{"image_id": 3, "tag": "cat", "bbox": [0, 0, 5, 5], "score": 1}],
                                  image_keys={3: "images/3.jpg"})
    assert source.regions("images/3.jpg", ["cat"])[0].image_key == "images/3.jpg"


def test_malformed_detection_raises_with_its_index() -> None:
    entries = [{"image_id": 1, "tag": "cat", "bbox": [0, 0, 5, 5], "score": 1},
               {"image_id": 1, "tag": "dog", "bbox": [0, 0, 0, 5], "score": 1}]
    with pytest.raises(ValueError, match="detection 1: bbox has no area"):
        DetectionsFileSource(entries)


def test_malformed_detections_are_counted_when_not_strict() -> None:
    source = DetectionsFileSource([{"image_id": 1, "tag": "dog", "bbox": [0, 0], "score": 1}], strict=False)
    assert source.invalid == 1 and len(source) == 0


def test_detections_file_that_is_not_a_list_raises_value_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a JSON list"):
        DetectionsFileSource(path)


def test_written_regions_read_back_as_the_same_regions(tmp_path: Path) -> None:
    regions = [Region("x", "cat", (1.0, 2.0, 3.0, 4.0), 0.7, "grounding_dino")]
    write_detections(tmp_path / "out.json", regions)
    assert DetectionsFileSource(tmp_path / "out.json").regions("x", ["cat"])[0].box == (1.0, 2.0, 3.0, 4.0)


def test_grounding_dino_without_directory_is_unavailable_with_a_reason() -> None:
    state = GroundingDinoSource(None).availability()
    assert not state.available and "no Grounding DINO checkpoint directory" in state.reason


def test_grounding_dino_without_package_is_unavailable_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "groundingdino_swint_ogc.pth").write_bytes(b"")
    (tmp_path / "GroundingDINO_SwinT_OGC.py").write_text("")
    source = GroundingDinoSource(tmp_path)
    source.package = "groundingdino_not_installed_here"
    state = source.availability()
    assert not state.available and "not installed" in state.reason


def test_grounding_dino_package_that_fails_to_import_is_unavailable_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "w.pth").write_bytes(b"")
    (tmp_path / "cfg.py").write_text("")
    broken = types.ModuleType("groundingdino")
    broken.__spec__ = importlib.machinery.ModuleSpec("groundingdino", None)  # not a package: no util inside
    monkeypatch.setitem(sys.modules, "groundingdino", broken)
    state = GroundingDinoSource(tmp_path).availability()
    assert not state.available and "does not import" in state.reason


def test_grounding_dino_directory_without_checkpoint_is_unavailable(tmp_path: Path) -> None:
    state = GroundingDinoSource(tmp_path).availability()
    assert not state.available and "*.pth" in state.reason


def test_unavailable_sources_are_skipped_with_their_reason() -> None:
    usable, skipped = available_sources([GroundingDinoSource(None), WholeImageSource()])
    assert [s.name for s in usable] == ["whole_image"]
    assert "grounding_dino" in skipped


def _fake_groundingdino(monkeypatch: pytest.MonkeyPatch, calls: list) -> None:
    def load_model(config: str, weights: str, device: str = "cpu") -> str:
        calls.append(("load", Path(config).name, Path(weights).name))
        return "model"

    def predict(model, image, caption, box_threshold, text_threshold, device="cpu"):
        calls.append(("predict", caption, tuple(image.shape[:1])))
        boxes = torch.tensor([[0.5, 0.5, 0.5, 0.5], [0.25, 0.25, 0.1, 0.1], [0.5, 0.5, 1.0, 1.0]])
        return boxes, torch.tensor([0.9, 0.6, 0.3]), ["dog", "dog", "red car"]

    package = types.ModuleType("groundingdino")
    package.__spec__ = importlib.machinery.ModuleSpec("groundingdino", None, is_package=True)
    util = types.ModuleType("groundingdino.util")
    inference = types.ModuleType("groundingdino.util.inference")
    inference.load_model, inference.predict = load_model, predict
    for name, module in (("groundingdino", package), ("groundingdino.util", util),
                         ("groundingdino.util.inference", inference)):
        monkeypatch.setitem(sys.modules, name, module)


def test_grounding_dino_boxes_become_pixel_regions_of_the_asked_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "w.pth").write_bytes(b"")
    (tmp_path / "cfg.py").write_text("")
    calls: list = []
    _fake_groundingdino(monkeypatch, calls)
    source = GroundingDinoSource(tmp_path)
    assert source.availability().available
    regions = source.regions("img", ["Dog", "red car", "cat"], Image.new("RGB", (200, 100)))
    assert calls[0] == ("load", "cfg.py", "w.pth")
    assert calls[1][1] == "dog . red car . cat ."
    by_tag = {r.tag: r for r in regions}
    assert by_tag["dog"].box == (50.0, 25.0, 100.0, 50.0) and by_tag["dog"].score == pytest.approx(0.9)
    assert by_tag["red car"].box == (0.0, 0.0, 200.0, 100.0)
    assert set(by_tag) == {"dog", "red car"}


def test_resolve_prefers_the_first_source_and_falls_back_to_the_whole_image() -> None:
    detections = DetectionsFileSource([{"image_id": "k", "tag": "cat", "bbox": [1, 1, 4, 4], "score": 0.8}])
    regions = resolve_regions("k", ["Cat", "sky"], [detections], Image.new("RGB", (10, 20)))
    assert [(r.tag, r.source, r.box) for r in regions] == [
        ("Cat", "detections", (1.0, 1.0, 4.0, 4.0)),
        ("sky", "whole_image", (0.0, 0.0, 10.0, 20.0)),
    ]


def test_whole_image_without_the_image_has_no_box() -> None:
    assert WholeImageSource().regions("k", ["sky"])[0].box is None


def test_light_engine_modules_import_without_torch() -> None:
    code = ("import sys; import ram_model.engine.regions, ram_model.engine.clustering, ram_model.engine.generation, "
            "ram_model.engine.quality, ram_model.engine.confident, ram_model.engine.rejection, ram_model.engine.store; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
