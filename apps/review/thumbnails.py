"""Images of a dataset served through the app: only from the configured image roots, thumbnails cached on disk.

``image_file`` resolves an Image row to a file that is certainly inside its dataset's image root, which must
itself be inside ``settings.LABELHUB_IMAGE_ROOTS``: remote URIs, absolute paths, ``..`` and symlinks that lead
outside give None (the views answer 404). Thumbnails (and crops of a region) are JPEGs cached under
``settings.LABELHUB_THUMBNAIL_DIR`` (default ``<LABELHUB_VAR_DIR>/thumbnails``), keyed by the file's path,
mtime and size and the requested size/box, so a changed file gets a new thumbnail and the key doubles as ETag.
Unreadable or corrupt images give None too, never an exception.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from apps.datasets.models import Image
from apps.datasets.services.images import URL_PREFIXES, image_root_check

logger = logging.getLogger(__name__)

THUMB_SIZES = (64, 128, 256, 384, 512, 768, 1024)
WEB_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
PLACEHOLDER_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48" viewBox="0 0 64 48">'
                   b'<rect width="64" height="48" fill="#e4e7ec"/><path d="M20 34l8-10 6 7 4-5 6 8z" fill="#98a2b3"/>'
                   b'</svg>')


@dataclass(frozen=True)
class ImageFile:
    path: Path  # the file on disk (a tar shard for ``shard.tar#member`` URIs)
    member: str  # "" or the member inside the tar shard
    mtime_ns: int
    size: int

    def key(self, *parts: object) -> str:
        """A stable id of this file's current contents plus the rendering parameters (cache key and ETag)."""
        text = "|".join(str(p) for p in (self.path, self.member, self.mtime_ns, self.size, *parts))
        return hashlib.sha256(text.encode()).hexdigest()

    def read(self) -> bytes | None:
        try:
            if not self.member:
                return self.path.read_bytes()
            with tarfile.open(self.path) as tar:
                handle = tar.extractfile(self.member)
                return handle.read() if handle is not None else None
        except (OSError, KeyError, tarfile.TarError):
            return None


def thumbnail_dir() -> Path:
    return Path(settings.LABELHUB_THUMBNAIL_DIR)


def image_file(image: Image) -> ImageFile | None:
    """The image's file, or None when it is remote, missing, or would lie outside the configured roots."""
    uri = image.uri or ""
    if uri.startswith(URL_PREFIXES) or "\x00" in uri or not image.dataset.image_root:
        return None
    try:
        root = image_root_check(image.dataset.image_root)  # resolved; inside a configured image root
    except (ValidationError, OSError, ValueError):
        return None
    relative, _, member = uri.partition("#")
    parts = Path(relative.replace("\\", "/")).parts
    if not parts or Path(relative).is_absolute() or relative.startswith(("/", "\\")) or ".." in parts:
        return None
    try:
        path = (root / relative).resolve(strict=True)  # follows symlinks: the target must stay inside
    except (OSError, RuntimeError):
        return None
    if root not in path.parents or not path.is_file():
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return ImageFile(path, member, stat.st_mtime_ns, stat.st_size)


def _render(data: bytes, size: int | None, box: tuple[int, int, int, int] | None) -> bytes | None:
    """A JPEG of the image (the region ``box`` = x, y, w, h in image pixels), at most ``size`` pixels wide/high."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    try:
        with PILImage.open(io.BytesIO(data)) as pil:
            pil = ImageOps.exif_transpose(pil)
            if box is not None:
                x, y, w, h = box
                left, top = max(0, x), max(0, y)
                right, bottom = min(pil.width, x + w), min(pil.height, y + h)
                if right > left and bottom > top:
                    pil = pil.crop((left, top, right, bottom))
            if size is not None:
                pil.thumbnail((size, size))
            pil = pil.convert("RGB")
            out = io.BytesIO()
            pil.save(out, format="JPEG", quality=85)
            return out.getvalue()
    except Exception:  # corrupt, truncated, unsupported, decompression bomb: never a server error
        logger.info("cannot render an image (%s bytes)", len(data), exc_info=True)
        return None


def thumbnail(file: ImageFile, *, size: int, box: tuple[int, int, int, int] | None = None) -> tuple[Path, str] | None:
    """(cached JPEG path, key) of a thumbnail; rendered once, then served from the cache."""
    key = file.key("thumb", size, box)
    path = thumbnail_dir() / key[:2] / f"{key}.jpg"
    if path.is_file():
        return path, key
    data = file.read()
    rendered = _render(data, size, box) if data is not None else None
    if rendered is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(rendered)
    os.replace(tmp, path)
    return path, key


def full_image(file: ImageFile) -> tuple[bytes, str, str] | None:
    """(bytes, content type, key) of the whole image: web formats as stored, others re-encoded as JPEG.

    Only files Pillow recognises as images are served, so nothing else (HTML, SVG with scripts) leaves the root.
    """
    from PIL import Image as PILImage

    data = file.read()
    if data is None:
        return None
    try:
        with PILImage.open(io.BytesIO(data)) as pil:
            image_format = pil.format
            pil.verify()
    except Exception:
        return None
    key = file.key("full")
    if image_format in WEB_FORMATS:
        return data, WEB_FORMATS[image_format], key
    rendered = _render(data, None, None)
    return (rendered, "image/jpeg", key) if rendered is not None else None


def parse_box(value: str | None) -> tuple[int, int, int, int] | None:
    """``x,y,w,h`` (numbers) → a box, or None when absent or malformed."""
    if not value:
        return None
    try:
        x, y, w, h = (round(float(v)) for v in value.split(",")[:4])
    except (ValueError, OverflowError):
        return None
    if w <= 0 or h <= 0:
        return None
    return x, y, w, h


def nearest_size(value: str | None, default: int = 256) -> int:
    try:
        wanted = int(value) if value else default
    except ValueError:
        wanted = default
    return min(THUMB_SIZES, key=lambda s: (abs(s - wanted), s))
