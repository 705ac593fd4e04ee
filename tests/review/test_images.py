"""Images served through the app: only from configured roots, thumbnails cached with ETag, never a 500."""

from __future__ import annotations

import io
import os

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from apps.datasets.models import Dataset, Image
from apps.datasets.services.versions import dataset_version_create
from apps.review import thumbnails

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(make_user) -> Client:
    client = Client()
    client.force_login(make_user("vera", "viewer"))
    return client


def thumb(image_id: int, **query) -> str:
    return reverse("review:image-thumb", args=[image_id]) + ("?" + "&".join(f"{k}={v}" for k, v in query.items())
                                                             if query else "")


def _content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _image(dataset: Dataset | str, uri: str) -> Image:
    """An image row of ``uri`` in an open version of a dataset whose image root is ``dataset``'s."""
    root = dataset.image_root if isinstance(dataset, Dataset) else dataset
    other = Dataset.objects.create(name=f"extra-{Dataset.objects.count()}", image_root=root)
    version = dataset_version_create(dataset=other)
    return Image.objects.create(dataset=other, uri=uri, added_in_seq=version.seq)


def test_a_thumbnail_is_a_scaled_jpeg_with_etag_and_cache_headers(tagged, client):
    image = tagged.images[0]

    response = client.get(thumb(image.pk, size=64))

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["ETag"].startswith('"') and "max-age" in response["Cache-Control"]
    with PILImage.open(io.BytesIO(_content(response))) as pil:
        assert pil.format == "JPEG" and max(pil.size) == 64


def test_the_second_request_is_served_from_the_cache(tagged, client, monkeypatch, settings):
    image = tagged.images[0]
    first = client.get(thumb(image.pk, size=128))
    _content(first)
    cached = list(settings.LABELHUB_THUMBNAIL_DIR.rglob("*.jpg"))
    assert len(cached) == 1
    monkeypatch.setattr(thumbnails, "_render", lambda *a: pytest.fail("rendered again"))

    second = client.get(thumb(image.pk, size=128))

    assert second.status_code == 200 and second["ETag"] == first["ETag"]
    assert _content(second) == cached[0].read_bytes()


def test_a_matching_etag_answers_304(tagged, client):
    image = tagged.images[0]
    etag = client.get(thumb(image.pk))["ETag"]

    assert client.get(thumb(image.pk), headers={"If-None-Match": etag}).status_code == 304


def test_a_changed_file_gets_a_new_thumbnail(tagged, client):
    image = tagged.images[0]
    etag = client.get(thumb(image.pk))["ETag"]
    path = thumbnails.image_file(image).path
    PILImage.new("RGB", (80, 40), "red").save(path, "JPEG")
    os.utime(path, ns=(1, 1))

    assert client.get(thumb(image.pk))["ETag"] != etag


def test_a_region_crop(tagged, client):
    response = client.get(thumb(tagged.images[0].pk, size=1024, box="4,4,20,16"))

    with PILImage.open(io.BytesIO(_content(response))) as pil:
        assert pil.size == (20, 16)


def test_the_full_image_is_served_as_stored(tagged, client):
    image = tagged.images[0]

    response = client.get(reverse("review:image-full", args=[image.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.content == thumbnails.image_file(image).path.read_bytes()
    assert response["ETag"] and "max-age" in response["Cache-Control"]


@pytest.mark.parametrize("uri", ["../outside.jpg", "img/../../outside.jpg", "/etc/passwd", "https://x.test/a.jpg",
                                 "img/missing.jpg", "img", ""])
def test_paths_outside_the_root_or_missing_are_404(tagged, client, image_root, uri):
    (image_root / "outside.jpg").write_bytes((image_root / "ds" / tagged.images[0].uri).read_bytes())
    image = _image(tagged.version.dataset, uri or "x")
    if not uri:
        Image.objects.filter(pk=image.pk).update(uri="")

    for url in (thumb(image.pk), reverse("review:image-full", args=[image.pk])):
        assert client.get(url).status_code == 404


def test_a_symlink_escaping_the_root_is_404(tagged, client, tmp_path):
    secret = tmp_path / "secret.jpg"
    PILImage.new("RGB", (8, 8)).save(secret, "JPEG")
    link = os.path.join(tagged.version.dataset.image_root, "img", "link.jpg")
    os.symlink(secret, link)
    image = _image(tagged.version.dataset, "img/link.jpg")

    assert client.get(thumb(image.pk)).status_code == 404
    assert client.get(reverse("review:image-full", args=[image.pk])).status_code == 404


def test_a_dataset_whose_root_is_not_configured_is_404(tagged, client, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "img").mkdir(parents=True)
    PILImage.new("RGB", (8, 8)).save(elsewhere / "img" / "a.jpg", "JPEG")
    image = _image(str(elsewhere), "img/a.jpg")

    assert client.get(thumb(image.pk)).status_code == 404


@pytest.mark.parametrize("content", [b"not an image at all", b"\xff\xd8\xff\xe0garbage",
                                     b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'])
def test_corrupt_or_non_image_files_are_404_not_500(tagged, client, content):
    path = os.path.join(tagged.version.dataset.image_root, "img", "bad.jpg")
    with open(path, "wb") as handle:
        handle.write(content)
    image = _image(tagged.version.dataset, "img/bad.jpg")

    thumb_response = client.get(thumb(image.pk))
    full_response = client.get(reverse("review:image-full", args=[image.pk]))

    assert thumb_response.status_code == 404 and full_response.status_code == 404
    assert b"<script" not in full_response.content


def test_an_unknown_image_id_is_404(db, client):
    assert client.get(thumb(999999)).status_code == 404


def test_images_need_the_permission_to_view_datasets(tagged, make_user):
    client = Client()
    client.force_login(make_user("nobody", None))

    assert client.get(thumb(tagged.images[0].pk)).status_code == 403
    assert Client().get(thumb(tagged.images[0].pk)).status_code == 302  # to the login page
