"""Imports: every format lands in a sealed version; bad input is located; shards resume after a crash."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection  # noqa: F401 - read by the skipif condition strings

from apps.datasets import selectors
from apps.datasets.models import Caption, Dataset, DatasetVersion, Image, TagAssignment
from apps.datasets.services.context import InlineContext, run_inline
from apps.datasets.services.imports import ImportOptions, dataset_import_run
from apps.jobs.models import Job, JobState
from apps.jobs.services import job_launch
from tests.helpers import CrashAfter


def run_import(*paths, **options) -> dict:
    out = io.StringIO()
    args = [str(p) for p in paths]
    flags = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        flags += [flag] if value is True else [flag, str(value)]
    call_command("import_dataset", *args, *flags, stdout=out)
    return json.loads(out.getvalue())


def test_tsv_import_prints_the_sealed_version_and_counts(db, image_root, write_file):
    path = write_file("cc.tsv", "caption\turl\na dog\tdogs/1.jpg\na cat\tcats/2.jpg\n")
    result = run_import(path, name="cc", format="tsv")
    version = DatasetVersion.objects.get(pk=result["version_id"])
    assert version.sealed and version.seq == 1
    assert result["counts"]["images"] == 2 and result["counts"]["captions"] == 2
    assert sorted(Image.objects.values_list("uri", flat=True)) == ["cats/2.jpg", "dogs/1.jpg"]
    assert version.job.kind == "import_dataset" and version.job.state == JobState.SUCCEEDED


def test_images_are_deduplicated(db, image_root, write_file):
    path = write_file("a.jsonl", [{"image": "x.jpg", "caption": "one"}, {"image": "./x.jpg", "caption": "two"},
                                  {"image": "y.jpg", "caption": "three"}])
    result = run_import(path, name="d", format="jsonl", shard_size=2)
    assert result["counts"]["images"] == 2
    assert sorted(Caption.objects.filter(image__uri="x.jpg").values_list("text", flat=True)) == ["one", "two"]


def test_jsonl_tags_map_through_synonyms(db, image_root, write_file, lsv):
    path = write_file("a.jsonl", [{"image": "x.jpg", "caption": "a puppy", "tags": ["Puppy", "grass", 3]}])
    run_import(path, name="d", format="jsonl", label_system_version=lsv.pk)
    indices = sorted(TagAssignment.objects.values_list("tag_group__index", flat=True))
    assert indices == [0, 2, 3]
    assert set(TagAssignment.objects.values_list("source", flat=True)) == {"imported"}


def test_ram_json_links_parsed_tags_to_their_caption(db, image_root, write_file, lsv):
    path = write_file("ram.json", [{"image_path": "x.jpg", "caption": ["a dog", "a dog on grass"],
                                    "union_label_id": [0, 2, 4], "parse_label_id": [[0], [0, 2]]}])
    result = run_import(path, name="d", format="ram-json", label_system_version=lsv.pk)
    rows = sorted(TagAssignment.objects.values_list("tag_group__index", "caption__text"), key=str)
    assert rows == sorted([(0, "a dog"), (0, "a dog on grass"), (2, "a dog on grass"), (4, None)], key=str)
    assert result["counts"]["assignments"] == 4


def test_tags_without_a_label_system_are_rejected(db, image_root, write_file, tmp_path):
    path = write_file("a.jsonl", [{"image": "x.jpg", "caption": "c", "tags": ["dog"]}])
    result = run_import(path, name="d", format="jsonl", rejects=tmp_path / "rej.jsonl")
    assert result["rejected"] == 1
    (line,) = (tmp_path / "rej.jsonl").read_text().splitlines()
    assert "label-system version" in json.loads(line)["reason"]


def test_coco_import_keeps_image_sizes(db, image_root, write_file):
    path = write_file("coco.json", {"images": [{"id": 1, "file_name": "1.jpg", "width": 64, "height": 48}],
                                    "annotations": [{"id": 1, "image_id": 1, "caption": "a dog"},
                                                    {"id": 2, "image_id": 1, "caption": "a brown dog"}]})
    result = run_import(path, name="coco", format="coco")
    image = Image.objects.get()
    assert (image.width, image.height, result["counts"]["captions"]) == (64, 48, 2)


def test_vg_import_stores_region_boxes(db, image_root, write_file):
    path = write_file("vg.json", [{"id": 7, "regions": [{"phrase": "red car", "image_id": 7, "x": 1, "y": 2,
                                                         "width": 3, "height": 4}]}])
    run_import(path, name="vg", format="vg")
    caption = Caption.objects.get()
    assert (caption.image.uri, caption.text, caption.box) == ("7.jpg", "red car", [1.0, 2.0, 3.0, 4.0])


def test_wds_import_references_members_relative_to_the_root(db, image_root):
    shard = image_root / "shards" / "s-0.tar"
    shard.parent.mkdir()
    with tarfile.open(shard, "w") as tar:
        for name, payload in {"k1.jpg": b"img", "k1.txt": b"a dog"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    run_import(shard, name="wds", format="wds")
    assert Image.objects.get().uri == "shards/s-0.tar#k1.jpg"


def test_strict_import_writes_nothing_and_names_the_bad_record(db, image_root, write_file):
    path = write_file("bad.jsonl", [{"image": "x.jpg", "caption": "ok"}, {"image": "y.jpg", "caption": 3}])
    with pytest.raises(CommandError, match=r"bad.jsonl:2: field 'caption'"):
        run_import(path, name="d", format="jsonl", strict=True)
    assert not Dataset.objects.exists() and not Image.objects.exists()


def test_non_strict_import_writes_good_records_and_rejects_bad_ones(db, image_root, write_file, tmp_path):
    rejects = tmp_path / "rejects.jsonl"
    path = write_file("mixed.jsonl", [{"image": "x.jpg", "caption": "ok"}, {"image": "../etc/passwd", "caption": "x"},
                                      {"caption": "no image"}])
    result = run_import(path, name="d", format="jsonl", rejects=rejects)
    assert (result["records"], result["rejected"]) == (1, 2)
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in lines] == [(2, "image"), (3, "image")]
    assert set(lines[0]) == {"file", "line", "field", "reason", "raw"} and lines[0]["file"] == str(path)


def test_absolute_paths_under_the_root_are_stored_relative(db, image_root, write_file):
    path = write_file("a.jsonl", [{"image": str(image_root / "sub" / "x.jpg"), "caption": "c"}])
    run_import(path, name="d", format="jsonl")
    assert Image.objects.get().uri == "sub/x.jpg"


def test_image_root_outside_the_configured_roots_is_refused(db, image_root, write_file, tmp_path):
    path = write_file("a.jsonl", [{"image": "x.jpg", "caption": "c"}])
    with pytest.raises(CommandError, match="not inside a configured image root"):
        run_import(path, name="d", format="jsonl", image_root=tmp_path)


def test_missing_input_file_is_a_clear_error(db, image_root, tmp_path):
    with pytest.raises(CommandError, match="input file not found"):
        run_import(tmp_path / "nope.tsv", name="d", format="tsv")


def test_import_into_an_existing_dataset_adds_a_child_version(db, image_root, write_file):
    run_import(write_file("a.jsonl", [{"image": "x.jpg", "caption": "one"}]), name="d", format="jsonl")
    result = run_import(write_file("b.jsonl", [{"image": "x.jpg", "caption": "two"}, {"image": "y.jpg"}]),
                        name="d", format="jsonl")
    v2 = DatasetVersion.objects.get(pk=result["version_id"])
    v1 = v2.parent
    assert (v2.seq, result["counts"]["images"], result["counts"]["captions"]) == (2, 2, 2)
    assert (selectors.version_images(version=v1).count(), selectors.version_captions(version=v1).count()) == (1, 1)


def test_import_resumes_after_a_crash_without_writing_a_row_twice(db, image_root, write_file):
    rows = [{"image": f"{i % 7}.jpg", "caption": f"caption {i}"} for i in range(25)]
    path = write_file("a.jsonl", rows)
    opts = ImportOptions(dataset_name="d", format="jsonl", paths=[str(path)], shard_size=4)
    job = Job.objects.create(kind="import_dataset", params=opts.as_params(), queue="cpu")
    with pytest.raises(RuntimeError, match="killed"):
        dataset_import_run(CrashAfter(job, n=4))  # initial cursor + 2 shards committed, the 3rd rolled back
    job.refresh_from_db()
    assert job.cursor["item"] == 8 and Caption.objects.count() == 8
    _, result = run_inline(kind="import_dataset", params={}, body=dataset_import_run, job=job)
    assert Caption.objects.count() == 25 and Image.objects.count() == 7
    assert result["counts"] == {**result["counts"], "images": 7, "captions": 25}


def test_resume_truncates_rejects_of_an_uncommitted_shard(db, image_root, write_file, tmp_path):
    rows = [{"image": "x.jpg", "caption": "ok"} if i % 2 else {"image": "", "caption": "bad"} for i in range(8)]
    rejects = tmp_path / "r.jsonl"
    opts = ImportOptions(dataset_name="d", format="jsonl", paths=[str(write_file("a.jsonl", rows))], shard_size=2,
                         rejects=str(rejects))
    job = Job.objects.create(kind="import_dataset", params=opts.as_params(), queue="cpu")
    with pytest.raises(RuntimeError):
        dataset_import_run(CrashAfter(job, n=3))
    run_inline(kind="import_dataset", params={}, body=dataset_import_run, job=job)
    assert len(rejects.read_text().splitlines()) == 4


def test_import_job_parameters_are_validated_at_launch(db):
    with pytest.raises(ValidationError):
        job_launch(kind="import_dataset", params={"dataset_name": "d", "format": "csv", "paths": ["x"]})


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_copy_and_bulk_create_write_the_same_rows(db, image_root, write_file, lsv):
    path = write_file("ram.json", [{"image_path": f"{i % 3}.jpg", "caption": [f"c{i}", "same"],
                                    "union_label_id": [i % 5, 6], "parse_label_id": [[i % 5], []]}
                                   for i in range(10)])
    seen = {}
    for method in ("copy", "orm"):
        _, result = run_inline(kind="import_dataset", body=dataset_import_run, params=ImportOptions(
            dataset_name=method, format="ram-json", paths=[str(path)], label_system_version_id=lsv.pk, shard_size=3,
            method=method).as_params())
        version = DatasetVersion.objects.get(pk=result["version_id"])
        seen[method] = (
            sorted(selectors.version_assignments(version=version)
                   .values_list("image__uri", "tag_group__index", "caption__text", "source"), key=str),
            sorted(selectors.version_captions(version=version).values_list("image__uri", "text")),
        )
    assert seen["copy"] == seen["orm"]
    assert len(seen["copy"][0]) == 13  # 10 caption-linked + tag 6 once per image (live duplicates skipped)


@pytest.mark.slow
def test_command_exits_non_zero_with_one_line_on_stderr(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"image": "x.jpg", "caption": 5}\n')
    (tmp_path / "var").mkdir()
    env = {**os.environ, "LABELHUB_TESTING": "1", "LABELHUB_IMAGE_ROOTS": str(tmp_path),
           "LABELHUB_VAR_DIR": str(tmp_path / "var")}
    env.pop("DATABASE_URL", None)  # a throw-away SQLite database under tmp_path
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=root, env=env, check=True)
    done = subprocess.run([sys.executable, "manage.py", "import_dataset", str(bad), "--name", "x", "--format",
                           "jsonl", "--strict"], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "bad.jsonl:1: field 'caption'" in done.stderr


def test_special_characters_survive_the_bulk_path(db, image_root, write_file):
    text = 'tab\there, back\\slash, "quotes", newline\nin caption, emoji 🐶, NUL-free ünïcode'
    path = write_file("a.jsonl", [{"image": "dir with space/ü.jpg", "caption": text}])
    run_import(path, name="d", format="jsonl")
    caption = Caption.objects.get()
    assert (caption.text, caption.image.uri) == (text, "dir with space/ü.jpg")


def test_images_keep_the_order_of_the_input(db, image_root, write_file):
    path = write_file("a.jsonl", [{"image": name, "caption": "c"} for name in ("z.jpg", "b.jpg", "z.jpg", "a.jpg")])
    run_import(path, name="d", format="jsonl")
    assert list(Image.objects.order_by("id").values_list("uri", flat=True)) == ["z.jpg", "b.jpg", "a.jpg"]


def test_import_command_resumes_a_crashed_job(db, image_root, write_file):
    path = write_file("a.jsonl", [{"image": f"{i}.jpg", "caption": "c"} for i in range(10)])
    opts = ImportOptions(dataset_name="d", format="jsonl", paths=[str(path)], shard_size=3)
    job = Job.objects.create(kind="import_dataset", params=opts.as_params(), queue="cpu")
    with pytest.raises(RuntimeError):
        dataset_import_run(CrashAfter(job, n=3))
    result = run_import(resume=job.pk)
    assert result["job_id"] == job.pk and result["counts"]["images"] == 10
    with pytest.raises(CommandError, match="already succeeded"):
        run_import(resume=job.pk)


def test_import_command_without_paths_is_a_clear_error(db):
    with pytest.raises(CommandError, match="required"):
        run_import(name="d", format="jsonl")


def test_command_stores_absolute_paths_in_the_job(db, image_root, write_file, monkeypatch):
    path = write_file("a.jsonl", [{"image": "x.jpg", "caption": "c"}])
    monkeypatch.chdir(path.parent)
    result = run_import("a.jsonl", name="d", format="jsonl")
    assert Job.objects.get(pk=result["job_id"]).params["paths"] == [str(path)]


def test_tags_repeated_across_shards_and_versions_are_stored_once(db, image_root, write_file, lsv):
    rows = [{"image": "x.jpg", "caption": "a dog", "tags": ["dog", "grass"]},
            {"image": "y.jpg", "caption": "a cat", "tags": ["cat", "cat"]},
            {"image": "x.jpg", "tags": ["grass", "dog", "play"]}]  # x.jpg again, in the next shard
    first = run_import(write_file("a.jsonl", rows), name="d", format="jsonl", label_system_version=lsv.pk,
                       shard_size=2)
    assert first["counts"]["assignments"] == 4 and first["counts"]["captions"] == 2
    again = [{"image": "x.jpg", "tags": ["dog"]}, {"image": "z.jpg", "tags": ["dog"]}]
    second = run_import(write_file("b.jsonl", again), name="d", format="jsonl", label_system_version=lsv.pk)
    version = DatasetVersion.objects.get(pk=second["version_id"])
    assert (version.counts["assignments"], version.counts["assignments_added"]) == (5, 1)  # x.jpg's dog: live


def test_file_level_reader_errors_surface_from_the_read_ahead_thread(db, image_root, write_file):
    path = write_file("a.tsv", "a dog\tanother dog\n")
    with pytest.raises(CommandError, match="cannot tell which TSV column"):
        run_import(path, name="d", format="tsv")


class CancelAfter(InlineContext):
    """Reports a cancellation request at the ``n``-th shard boundary."""

    def __init__(self, job, n: int) -> None:
        super().__init__(job)
        self.n = n
        self.checks = 0

    def check_cancel(self) -> None:
        self.checks += 1
        if self.checks == self.n:
            Job.objects.filter(pk=self.job.pk).update(cancel_requested=True)
        super().check_cancel()


def test_cancelled_import_keeps_committed_shards_and_stops_reading(db, image_root, write_file):
    import threading

    from apps.datasets.services.context import Cancelled

    path = write_file("a.jsonl", [{"image": f"{i}.jpg", "caption": f"c {i}"} for i in range(40)])
    opts = ImportOptions(dataset_name="d", format="jsonl", paths=[str(path)], shard_size=5)
    job = Job.objects.create(kind="import_dataset", params=opts.as_params(), queue="cpu")
    with pytest.raises(Cancelled):
        dataset_import_run(CancelAfter(job, n=3))
    job.refresh_from_db()
    assert job.cursor["item"] == 10 and Caption.objects.count() == 10
    assert not any(t.name == "import-read-ahead" for t in threading.enumerate())
