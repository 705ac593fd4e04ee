"""Format readers: records and located errors, without a database."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from apps.datasets.formats.readers import read
from apps.datasets.formats.records import ImportRecord, RecordError


def _all(fmt, path, **options):
    return list(read(fmt, path, **options))


def test_tsv_cc3m_layout_is_detected_from_the_url_column(write_file):
    path = write_file("cc3m.tsv", "a dog on grass\thttp://x.org/1.jpg\na cat\thttp://x.org/2.jpg\n")
    records = _all("tsv", path)
    assert [(r.image, r.captions) for r in records] == [("http://x.org/1.jpg", ["a dog on grass"]),
                                                       ("http://x.org/2.jpg", ["a cat"])]


def test_tsv_header_names_the_columns(write_file):
    path = write_file("h.tsv", "image\tcaption\nimg/1.jpg\ta dog\n")
    (record,) = _all("tsv", path)
    assert (record.image, record.captions, record.line) == ("img/1.jpg", ["a dog"], 2)


def test_tsv_explicit_layout_overrides_detection(write_file):
    path = write_file("x.tsv", "first\tsecond\n")
    (record,) = _all("tsv", path, layout="image,caption")
    assert (record.image, record.captions) == ("first", ["second"])


def test_tsv_undecidable_layout_is_an_error(write_file):
    path = write_file("x.tsv", "first\tsecond\n")
    with pytest.raises(ValueError, match="which TSV column"):
        _all("tsv", path)


def test_tsv_wrong_column_count_is_reported_with_line_and_field(write_file):
    path = write_file("bad.tsv", "a dog\timg/1.jpg\nno tab here\n\timg/3.jpg\n")
    items = _all("tsv", path)
    errors = [i for i in items if isinstance(i, RecordError)]
    assert [(e.line, e.field) for e in errors] == [(2, "columns"), (3, "caption")]
    assert errors[0].file == str(path)


def test_jsonl_reads_captions_and_tags(write_file):
    path = write_file("a.jsonl", [{"image": "a.jpg", "captions": ["x", "y"], "tags": ["dog", 2]}])
    (record,) = _all("jsonl", path)
    assert (record.image, record.captions, record.tags) == ("a.jpg", ["x", "y"], ["dog", 2])


def test_jsonl_bad_json_and_bad_fields_are_located(write_file):
    path = write_file("b.jsonl", '{"image": "a.jpg", "caption": "ok"}\n{broken\n{"image": "", "caption": "x"}\n'
                                 '{"image": "c.jpg", "caption": 5}\n{"image": "d.jpg", "tags": [null]}\n')
    items = _all("jsonl", path)
    assert isinstance(items[0], ImportRecord)
    assert [(e.line, e.field) for e in items[1:]] == [(2, "json"), (3, "image"), (4, "caption"), (5, "tags")]


def test_coco_yields_images_with_sizes_then_captions(write_file):
    path = write_file("coco.json", {
        "images": [{"id": 1, "file_name": "1.jpg", "width": 640, "height": 480}, {"id": 2, "file_name": "2.jpg"}],
        "annotations": [{"id": 9, "image_id": 1, "caption": "a dog"}, {"id": 10, "image_id": 7, "caption": "x"},
                        {"id": 11, "image_id": 2, "caption": ""}],
    })
    items = _all("coco", path)
    assert (items[0].image, items[0].width, items[0].height) == ("1.jpg", 640, 480)
    assert (items[2].image, items[2].captions) == ("1.jpg", ["a dog"])
    assert [(e.line, e.field) for e in items[3:]] == [(1, "annotations.image_id"), (2, "annotations.caption")]


def test_coco_truncated_json_ends_with_one_located_error(write_file):
    path = write_file("cut.json", '{"images": [{"id": 1, "file_name": "1.jpg"}, {"id": 2, "fil')
    items = _all("coco", path)
    assert isinstance(items[0], ImportRecord)
    assert isinstance(items[-1], RecordError) and items[-1].field == "images"


def test_vg_regions_become_captions_with_boxes_and_bad_regions_are_reported(write_file):
    path = write_file("vg.json", [{"id": 5, "regions": [
        {"phrase": "a red car", "image_id": 5, "x": 1, "y": 2, "width": 3, "height": 4},
        {"phrase": "tree", "image_id": 5, "x": "left", "y": 2, "width": 3, "height": 4}]}])
    error, record = _all("vg", path)
    assert (error.field, error.line) == ("regions[1].x", 0)
    assert (record.image, record.captions, record.boxes) == ("5.jpg", ["a red car"], [[1.0, 2.0, 3.0, 4.0]])


def test_ram_json_reads_union_and_parse_tags(write_file):
    path = write_file("ram.json", [{"image_path": "a.jpg", "caption": ["x", "y"], "union_label_id": [1, 2],
                                    "parse_label_id": [[1], [2]]}])
    (record,) = _all("ram-json", path)
    assert (record.tags, record.caption_tags) == ([1, 2], [[1], [2]])


@pytest.mark.parametrize(("raw", "field"), [
    ({"caption": ["x"]}, "image_path"),
    ({"image_path": "a.jpg", "caption": ["x"], "union_label_id": ["dog"]}, "union_label_id"),
    ({"image_path": "a.jpg", "caption": ["x"], "parse_label_id": [[1], [2]]}, "parse_label_id"),
])
def test_ram_json_malformed_fields_are_named(write_file, raw, field):
    (error,) = _all("ram-json", write_file("bad.json", [raw]))
    assert isinstance(error, RecordError) and error.field == field and error.line == 0


def _tar(path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))


def test_webdataset_samples_reference_their_member(tmp_path):
    path = tmp_path / "shard.tar"
    _tar(path, {"a/001.jpg": b"x", "a/001.txt": b"a dog", "a/002.jpg": b"y",
                "a/002.json": json.dumps({"caption": ["c1", "c2"], "tags": ["cat"]}).encode()})
    first, second = _all("wds", path)
    assert (first.image, first.captions) == (f"{path}#a/001.jpg", ["a dog"])
    assert (second.captions, second.tags) == (["c1", "c2"], ["cat"])


def test_webdataset_sample_without_image_is_an_error(tmp_path):
    path = tmp_path / "shard.tar"
    _tar(path, {"001.txt": b"a dog"})
    (error,) = _all("wds", path)
    assert isinstance(error, RecordError) and error.field == "001"


def test_unknown_format_is_refused(write_file):
    with pytest.raises(ValueError, match="unknown import format"):
        read("csv", write_file("x.csv", ""))
