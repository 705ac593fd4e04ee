"""Snapshot export: every format, deterministic bytes, manifest + verification, training-reader round trip."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from apps.datasets.models import DatasetVersion, Snapshot
from apps.datasets.services.export import snapshot_export, snapshot_verify
from apps.datasets.services.versions import dataset_version_create_child

RAM_RECORDS = [
    {"image_path": "a.jpg", "caption": ["a dog", "a dog on grass"], "union_label_id": [0, 2, 4],
     "parse_label_id": [[0], [0, 2]]},
    {"image_path": "b.jpg", "caption": ["a cat"], "union_label_id": [1], "parse_label_id": [[1]]},
    {"image_path": "sub/c.jpg", "caption": ["a man riding a horse"], "union_label_id": [4, 5],
     "parse_label_id": [[4, 5]]},
]


@pytest.fixture
def version(db, image_root, make_images, write_file, lsv) -> DatasetVersion:
    make_images("a.jpg", "b.jpg", "sub/c.jpg")
    path = write_file("ram.json", RAM_RECORDS)
    out = io.StringIO()
    call_command("import_dataset", str(path), "--name", "d", "--format", "ram-json", "--label-system-version",
                 str(lsv.pk), stdout=out)
    return DatasetVersion.objects.get(pk=json.loads(out.getvalue())["version_id"])


def _export(version, fmt, out: Path, **options) -> Path:
    call_command("export_snapshot", str(version.pk), "--format", fmt, "--out", str(out),
                 *[f"--{k.replace('_', '-')}={v}" for k, v in options.items()], stdout=io.StringIO())
    return out


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_ram_json_export_round_trips_the_imported_records(version, tmp_path):
    out = _export(version, "ram-json", tmp_path / "snap")
    assert json.loads((out / "annotations_ram.json").read_text()) == RAM_RECORDS


def test_ram_json_export_is_read_by_the_training_loader(version, tmp_path, image_root):
    from ram_model.data.records import load_ram_json

    out = _export(version, "ram-json", tmp_path / "snap")
    records = load_ram_json([out / "annotations_ram.json"], str(image_root), num_classes=7)
    assert [r.image for r in records] == [str(image_root / r["image_path"]) for r in RAM_RECORDS]
    assert records[0].parse_label_id == ((0,), (0, 2))


@pytest.mark.parametrize("fmt", ["ram-json", "coco", "jsonl", "wds", "parquet"])
def test_same_version_exports_byte_identically(version, tmp_path, fmt):
    first = _tree(_export(version, fmt, tmp_path / "one"))
    second = _tree(_export(version, fmt, tmp_path / "two"))
    assert first == second and "manifest.json" in first


@pytest.mark.parametrize("fmt", ["ram-json", "coco", "jsonl", "wds", "parquet"])
def test_manifest_lists_counts_and_checksums_and_verifies(version, tmp_path, fmt):
    out = _export(version, fmt, tmp_path / "snap")
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["format"], manifest["dataset_version_id"]) == (fmt, version.pk)
    assert manifest["label_system_version_id"] == version.label_system_version_id
    assert manifest["counts"]["records"] == 3 and manifest["counts"]["captions"] == 4
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    report = snapshot_verify(path=out)
    assert report["ok"], report["problems"]
    assert Snapshot.objects.get(path=str(out.resolve())).verified_at is not None


def test_verify_detects_a_changed_file(version, tmp_path):
    out = _export(version, "jsonl", tmp_path / "snap")
    data = (out / "annotations.jsonl").read_bytes()
    (out / "annotations.jsonl").write_bytes(data.replace(b"dog", b"cow"))
    report = snapshot_verify(path=out)
    assert not report["ok"] and "sha256" in report["problems"][0]
    with pytest.raises(CommandError, match="failed verification"):
        call_command("verify_snapshot", str(out))


def test_verify_detects_missing_and_extra_files(version, tmp_path):
    out = _export(version, "parquet", tmp_path / "snap")
    (out / "annotations.parquet").rename(out / "other.parquet")
    problems = snapshot_verify(path=out)["problems"]
    assert "annotations.parquet: missing" in problems and "other.parquet: not listed in the manifest" in problems


def test_verify_command_prints_the_report(version, tmp_path):
    out = _export(version, "coco", tmp_path / "snap")
    stdout = io.StringIO()
    call_command("verify_snapshot", str(out), stdout=stdout)
    assert json.loads(stdout.getvalue())["counts"] == {"records": 3, "captions": 4}


def test_wds_shards_hold_images_and_are_read_by_the_training_loader(version, tmp_path):
    from ram_model.data.shards import load_shards

    out = _export(version, "wds", tmp_path / "snap", shard_size=2)
    shards = sorted(str(p) for p in out.glob("shard-*.tar"))
    assert len(shards) == 2
    with tarfile.open(shards[0]) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["000000000.jpg", "000000000.json", "000000001.jpg", "000000001.json"]
        assert {(m.mtime, m.uid, m.gid, m.mode) for m in members} == {(0, 0, 0, 0o644)}
    records, refs = load_shards(shards, num_classes=7)
    assert [r.captions for r in records] == [tuple(r["caption"]) for r in RAM_RECORDS]
    assert records[2].union_label_id == (4, 5) and refs[0].size > 0


def test_wds_skips_samples_whose_image_is_missing(version, tmp_path, image_root):
    (image_root / "b.jpg").unlink()
    out = _export(version, "wds", tmp_path / "snap")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["records"] == 2 and manifest["counts"]["skipped_missing_image"] == 1


def test_parquet_has_one_row_per_image_with_ram_columns(version, tmp_path):
    import pyarrow.parquet as pq

    out = _export(version, "parquet", tmp_path / "snap")
    table = pq.read_table(out / "annotations.parquet")
    assert table.column("image_path").to_pylist() == ["a.jpg", "b.jpg", "sub/c.jpg"]
    assert table.column("parse_label_id").to_pylist()[0] == [[0], [0, 2]]


def test_coco_export_has_images_captions_categories_and_tags(version, tmp_path):
    out = _export(version, "coco", tmp_path / "snap")
    coco = json.loads((out / "annotations_coco.json").read_text())
    assert [i["file_name"] for i in coco["images"]] == ["a.jpg", "b.jpg", "sub/c.jpg"]
    assert [a["caption"] for a in coco["annotations"]] == ["a dog", "a dog on grass", "a cat", "a man riding a horse"]
    assert coco["categories"][0] == {"id": 0, "name": "dog"}
    assert len(coco["tag_annotations"]) == 7
    assert not list(out.glob(".*"))


def test_jsonl_export_can_be_imported_again(version, tmp_path, lsv):
    out = _export(version, "jsonl", tmp_path / "snap")
    stdout = io.StringIO()
    call_command("import_dataset", str(out / "annotations.jsonl"), "--name", "again", "--format", "jsonl",
                 "--label-system-version", str(lsv.pk), stdout=stdout)
    counts = json.loads(stdout.getvalue())["counts"]
    assert (counts["images"], counts["captions"], counts["assignments"]) == (3, 4, 6)


def test_an_old_version_exports_as_it_was_after_a_child_changes_things(version, tmp_path):
    from apps.datasets.models import TagAssignment
    from apps.datasets.services.versions import assignments_remove, dataset_version_seal

    before = _tree(_export(version, "ram-json", tmp_path / "before"))
    child = dataset_version_create_child(parent=version)
    assignments_remove(version=child, assignments=TagAssignment.objects.filter(tag_group__index=4))
    dataset_version_seal(version=child)
    assert _tree(_export(version, "ram-json", tmp_path / "after")) == before
    records = json.loads((_export(child, "ram-json", tmp_path / "child") / "annotations_ram.json").read_text())
    assert records[0]["union_label_id"] == [0, 2]


def test_open_versions_and_non_empty_targets_are_refused(version, tmp_path):
    child = dataset_version_create_child(parent=version)
    with pytest.raises(ValidationError, match="seal it first"):
        snapshot_export(version=child, format="jsonl", out=tmp_path / "x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    with pytest.raises(CommandError, match="not empty"):
        _export(version, "jsonl", tmp_path / "full")


def test_export_records_a_snapshot_row_with_its_job(version, tmp_path):
    _export(version, "jsonl", tmp_path / "snap")
    snapshot = Snapshot.objects.get()
    assert (snapshot.version_id, snapshot.format, snapshot.job.kind) == (version.pk, "jsonl", "export_snapshot")
    assert snapshot.manifest["counts"]["records"] == 3


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["ram-json", "wds"])
def test_training_dataset_reads_the_export(version, tmp_path, image_root, fmt):
    torch = pytest.importorskip("torch")
    from ram_model.data.dataset import RamTrainingDataset

    out = _export(version, fmt, tmp_path / "snap")

    def to_tensor(image, generator):
        return torch.zeros(3, *image.size[::-1])

    common = {"num_classes": 7, "transform": to_tensor}
    dataset = (RamTrainingDataset.from_json([out / "annotations_ram.json"], str(image_root), **common)
               if fmt == "ram-json" else RamTrainingDataset.from_shards([str(out / "shard-*.tar")], **common))
    sample = dataset[2]
    assert len(dataset) == 3
    assert sample["target"].nonzero().flatten().tolist() == [4, 5]
    assert sample["parse_target"].nonzero().flatten().tolist() == [4, 5]
    assert sample["image"].shape == (3, 6, 8)


def test_export_of_an_unknown_version_is_a_clear_error(db, image_root, tmp_path):
    with pytest.raises(CommandError, match="dataset version 424242 does not exist"):
        call_command("export_snapshot", "424242", "--format", "jsonl", "--out", str(tmp_path / "x"))


def test_verify_of_a_directory_without_manifest_fails(db, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("verify_snapshot", str(tmp_path))


def test_branch_of_an_old_version_exports_the_same_records(version, tmp_path):
    from apps.datasets.models import TagAssignment
    from apps.datasets.services.branching import dataset_version_branch
    from apps.datasets.services.versions import assignments_remove, dataset_version_seal

    child = dataset_version_create_child(parent=version)
    assignments_remove(version=child, assignments=TagAssignment.objects.filter(tag_group__index=0))
    dataset_version_seal(version=child)
    branch = dataset_version_branch(base=version, name="branch")
    assert (branch.seq, branch.sealed, branch.dataset.name) == (1, True, "branch")
    assert branch.counts == {**version.counts, "assignments_added": version.counts["assignments"]}
    exported = json.loads((_export(branch, "ram-json", tmp_path / "b") / "annotations_ram.json").read_text())
    assert exported == RAM_RECORDS
