"""Images live on disk under a configured image root; the database holds their relative paths only.

``image_root_check`` accepts only directories inside ``settings.LABELHUB_IMAGE_ROOTS``; ``image_uri`` turns a
corpus path into the stored form (relative, normalised, never escaping the root; URLs kept as they are);
``image_read`` opens a stored image (also ``shard.tar#member`` references into webdataset shards).
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import tarfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Image
from .context import ShardContext

URL_PREFIXES = ("http://", "https://", "s3://", "gs://")


def image_root_check(image_root: str | os.PathLike | None) -> Path:
    """The resolved image root: ``image_root`` when inside a configured root, else the first configured one."""
    roots = [Path(r).resolve() for r in settings.LABELHUB_IMAGE_ROOTS]
    if not image_root:
        if not roots:
            raise ValidationError("no image root is configured (LABELHUB_IMAGE_ROOTS)")
        return roots[0]
    root = Path(image_root).resolve()
    if not any(root == r or r in root.parents for r in roots):
        allowed = ", ".join(str(r) for r in roots) or "none"
        raise ValidationError(f"image root {root} is not inside a configured image root (LABELHUB_IMAGE_ROOTS: "
                              f"{allowed})")
    return root


def image_uri(path: str, image_root: Path) -> str:
    """The stored form of an image path, or ValueError saying why it cannot be stored."""
    path = path.strip()
    if path.startswith(URL_PREFIXES):
        return path
    member = ""
    if "#" in path:
        path, member = path.split("#", 1)
        member = "#" + member
    if os.path.isabs(path):
        absolute = Path(os.path.normpath(path))
        if absolute != image_root and image_root not in absolute.parents:
            raise ValueError(f"absolute path outside the image root {image_root}")
        path = absolute.relative_to(image_root).as_posix()
    normal = posixpath.normpath(path.replace("\\", "/"))
    if normal in {".", ""} or normal.startswith("../") or normal == "..":
        raise ValueError("path escapes the image root")
    return normal + member


def image_path(uri: str, image_root: str | os.PathLike) -> Path:
    return Path(image_root) / uri.split("#", 1)[0]


def image_read(uri: str, image_root: str | os.PathLike) -> tuple[bytes, str] | None:
    """(bytes, extension) of a stored image, or None when it is missing or remote."""
    if uri.startswith(URL_PREFIXES):
        return None
    file = image_path(uri, image_root)
    try:
        if "#" in uri:
            member = uri.split("#", 1)[1]
            with tarfile.open(file) as tar:
                handle = tar.extractfile(member)
                data = handle.read() if handle else None
            name = member
        else:
            data = file.read_bytes()
            name = file.name
    except (OSError, KeyError, tarfile.TarError):
        return None
    if data is None:
        return None
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else "jpg"
    return data, "jpg" if ext == "jpeg" else ext


def _measure(uri: str, image_root: str) -> tuple[int, int, str] | None:
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    data = image_read(uri, image_root)
    if data is None:
        return None
    try:
        with PILImage.open(io.BytesIO(data[0])) as pil:
            width, height = pil.size
    except (UnidentifiedImageError, OSError):
        return None
    return width, height, hashlib.sha256(data[0]).hexdigest()


@transaction.atomic
def image_measure(*, image: Image) -> Image:
    """Read width, height and sha256 of one image file (the lazy metadata); unreadable files stay unmeasured.

    Already known sizes are kept (a sealed version's images may only have facts filled in, never changed).
    """
    facts = _measure(image.uri, image.dataset.image_root)
    if facts is not None:
        width, height, checksum = facts
        Image.objects.filter(pk=image.pk).update(width=image.width or width, height=image.height or height,
                                                 checksum=checksum)
        image.refresh_from_db()
    return image


def images_measure_run(ctx: ShardContext) -> dict[str, Any]:
    """The body of a ``measure_images`` job: fill width/height/checksum of a dataset's unmeasured images."""
    from ..models import Dataset

    dataset = Dataset.objects.filter(pk=ctx.params["dataset_id"]).first()
    if dataset is None:
        raise ValidationError(f"dataset {ctx.params['dataset_id']} does not exist")
    shard_size = int(ctx.params.get("shard_size", 500))
    cursor = {"last_id": 0, "measured": 0, "unreadable": 0, **ctx.cursor}
    todo = Image.objects.filter(dataset=dataset, checksum="").order_by("id")
    total = todo.count()
    while shard := list(todo.filter(id__gt=cursor["last_id"]).values_list("id", "uri", "width", "height")
                        [:shard_size]):
        ctx.check_cancel()
        with transaction.atomic():
            for image_id, uri, width, height in shard:
                facts = _measure(uri, dataset.image_root)
                if facts is None:
                    cursor["unreadable"] += 1
                    continue
                Image.objects.filter(pk=image_id).update(width=width or facts[0], height=height or facts[1],
                                                         checksum=facts[2])
                cursor["measured"] += 1
            cursor["last_id"] = shard[-1][0]
            ctx.commit(dict(cursor), done=cursor["measured"] + cursor["unreadable"], total=total)
    return {"dataset_id": dataset.pk, "measured": cursor["measured"], "unreadable": cursor["unreadable"]}
