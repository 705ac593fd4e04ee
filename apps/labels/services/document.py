"""A full-fidelity JSON document of a version: groups, synonyms, categories, descriptions, thresholds.

The RAM text files keep only one name per tag ID; this document keeps everything a curator made, so a
version moves between sites without losing its synonym groups. Merges read from a document are recorded
with provenance ``imported`` unless the document says otherwise.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ..errors import LabelFileError
from ..models import Category, LabelSystem, LabelSystemVersion, Provenance, Tag, TagGroup
from .versions import _user, next_version_number, version_publish

FORMAT = "labelhub-label-system"
FORMAT_VERSION = 1
DOCUMENT_FILE = "label_system.json"


def version_document(version: LabelSystemVersion) -> dict[str, Any]:
    """The document of ``version`` (a read; groups in tag-ID order, tags in group order)."""
    groups: dict[int, list[dict[str, Any]]] = {}
    rows = (Tag.objects.filter(version=version).order_by("group__index", "position")
            .values_list("group__index", "text", "homonym", "category", "name_zh", "descriptions", "threshold",
                         "threshold_text", "provenance"))
    for index, text, homonym, category, name_zh, descriptions, threshold, threshold_text, provenance in rows:
        groups.setdefault(index, []).append({
            "text": text, "homonym": homonym, "category": category, "name_zh": name_zh,
            "descriptions": descriptions, "threshold": threshold, "threshold_text": threshold_text,
            "provenance": provenance})
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "label_system": version.label_system.name,
            "number": version.number, "status": version.status, "file_format": version.file_format,
            "groups": [{"index": index, "tags": tags} for index, tags in sorted(groups.items())]}


def document_bytes(version: LabelSystemVersion) -> bytes:
    return json.dumps(version_document(version), ensure_ascii=False, indent=1).encode("utf-8")


def _tag_row(raw: Any, where: str, file: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or not raw["text"].strip():
        raise LabelFileError(file, 0, f"{where}: a tag needs a non-empty 'text'")
    text = raw["text"]
    if text != text.strip():
        raise LabelFileError(file, 0, f"{where}: tag {text!r} has leading or trailing whitespace")
    threshold = raw.get("threshold", 0.65)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) \
            or not (math.isfinite(threshold) and 0 < threshold <= 1):
        raise LabelFileError(file, 0, f"{where}: threshold {threshold!r} is outside (0, 1]")
    category = raw.get("category", Category.OTHER)
    if category not in Category.values:
        raise LabelFileError(file, 0, f"{where}: unknown category {category!r}")
    descriptions = raw.get("descriptions", [])
    if not isinstance(descriptions, list) or not all(isinstance(d, str) for d in descriptions):
        raise LabelFileError(file, 0, f"{where}: descriptions must be a list of strings")
    provenance = raw.get("provenance", Provenance.IMPORTED)
    if provenance not in Provenance.values:
        raise LabelFileError(file, 0, f"{where}: unknown provenance {provenance!r}")
    return {"text": text, "homonym": int(raw.get("homonym", 0)), "category": category,
            "name_zh": str(raw.get("name_zh", "")), "descriptions": descriptions, "threshold": float(threshold),
            "threshold_text": str(raw.get("threshold_text", "")), "provenance": provenance}


def parse_document(data: bytes, file: str = DOCUMENT_FILE) -> dict[str, Any]:
    """Decode and check a document; every problem is reported with the JSON path that holds it."""
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise LabelFileError(file, data.count(b"\n", 0, exc.start) + 1, "invalid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise LabelFileError(file, exc.lineno, f"invalid JSON: {exc.msg}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise LabelFileError(file, 0, f"not a label system document (expected \"format\": \"{FORMAT}\")")
    groups = document.get("groups")
    if not isinstance(groups, list) or not groups:
        raise LabelFileError(file, 0, "'groups' must be a non-empty list")
    seen: dict[tuple[str, int], str] = {}
    parsed = []
    for i, group in enumerate(groups):
        tags = group.get("tags") if isinstance(group, dict) else None
        if not isinstance(tags, list) or not tags:
            raise LabelFileError(file, 0, f"groups[{i}]: a group needs a non-empty 'tags' list")
        rows = [_tag_row(raw, f"groups[{i}].tags[{j}]", file) for j, raw in enumerate(tags)]
        for j, row in enumerate(rows):
            key = (row["text"], row["homonym"])
            if key in seen:
                raise LabelFileError(file, 0, f"groups[{i}].tags[{j}]: duplicate tag {row['text']!r} "
                                              f"(first at {seen[key]})")
            seen[key] = f"groups[{i}].tags[{j}]"
        parsed.append(rows)
    return {"label_system": document.get("label_system"), "file_format": document.get("file_format") or {},
            "groups": parsed}


@transaction.atomic
def label_system_import_document(*, data: bytes, name: str | None = None, file: str = DOCUMENT_FILE,
                                 user: AbstractBaseUser | None = None, publish: bool = False) -> LabelSystemVersion:
    """Import a document as the next version of label system ``name`` (default: the one it names)."""
    document = parse_document(data, file)
    system_name = name or document["label_system"]
    if not system_name:
        raise LabelFileError(file, 0, "the document names no label system; give one")
    system, _ = LabelSystem.objects.select_for_update().get_or_create(name=system_name)
    version = LabelSystemVersion.objects.create(
        label_system=system, number=next_version_number(system), file_format=document["file_format"],
        notes=f"imported from {file}", created_by=_user(user))
    groups = TagGroup.objects.bulk_create(
        [TagGroup(version=version, index=i) for i in range(len(document["groups"]))], batch_size=2000)
    Tag.objects.bulk_create(
        [Tag(version=version, group=group, position=position, **row)
         for group, rows in zip(groups, document["groups"]) for position, row in enumerate(rows)],
        batch_size=2000)
    if publish:
        version = version_publish(version=version, user=user)
    return version
