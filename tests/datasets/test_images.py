"""Image paths stay under the image root; width/height/checksum are read lazily or by a job."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.datasets.models import Image
from apps.datasets.services.context import run_inline
from apps.datasets.services.images import image_measure, image_read, image_uri, images_measure_run


@pytest.mark.parametrize(("raw", "stored"), [
    ("a/b.jpg", "a/b.jpg"), ("./a//b.jpg", "a/b.jpg"), ("http://x/y.jpg", "http://x/y.jpg"),
    ("/root/images/s/x.jpg", "s/x.jpg"), ("shard.tar#k.jpg", "shard.tar#k.jpg"),
])
def test_image_uri_normalises_paths(raw, stored):
    assert image_uri(raw, Path("/root/images")) == stored


@pytest.mark.parametrize("raw", ["../x.jpg", "a/../../x.jpg", "/etc/passwd", "", "."])
def test_image_uri_refuses_paths_outside_the_root(raw):
    with pytest.raises(ValueError):
        image_uri(raw, Path("/root/images"))


def test_image_read_opens_files_and_tar_members(image_root, make_images):
    import tarfile

    make_images("a.jpg")
    with tarfile.open(image_root / "s.tar", "w") as tar:
        tar.add(image_root / "a.jpg", arcname="k.jpg")
    assert image_read("a.jpg", image_root)[1] == "jpg"
    assert image_read("s.tar#k.jpg", image_root)[0] == (image_root / "a.jpg").read_bytes()
    assert image_read("missing.jpg", image_root) is None and image_read("http://x/y.jpg", image_root) is None


@pytest.fixture
def imported(db, image_root, make_images, write_file):
    make_images("a.jpg", "b.jpg", size=(12, 7))
    path = write_file("a.jsonl", [{"image": n, "caption": "c"} for n in ("a.jpg", "b.jpg", "gone.jpg")])
    call_command("import_dataset", str(path), "--name", "d", "--format", "jsonl", stdout=io.StringIO())
    return Image.objects.get(uri="a.jpg")


def test_image_measure_fills_size_and_checksum_of_a_sealed_version(imported, image_root):
    image = image_measure(image=imported)
    assert (image.width, image.height) == (12, 7)
    assert image.checksum == hashlib.sha256((image_root / "a.jpg").read_bytes()).hexdigest()


def test_measure_images_job_measures_readable_images_and_counts_the_rest(imported):
    _, result = run_inline(kind="measure_images", params={"dataset_id": imported.dataset_id, "shard_size": 2},
                           body=images_measure_run)
    assert (result["measured"], result["unreadable"]) == (2, 1)
    assert set(Image.objects.values_list("width", flat=True)) == {12, None}
    json.dumps(result)
