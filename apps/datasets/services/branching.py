"""Branch from an old version: a new dataset whose first version is a copy of the base, made once in SQL.

Versions of one dataset form a single line (a second child of a non-tip version is refused), so a branch
becomes a dataset of its own. Its v1 sees exactly what the base sees: images (same paths, sizes, checksums),
captions (same order) and tag assignments, with their caption links rewired to the copied captions. The copy
is three INSERT … SELECT statements; nothing passes through Python.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction

from ..models import DatasetVersion
from .versions import dataset_create, dataset_version_create, dataset_version_seal

VISIBLE = "{t}.added_in_seq <= %(seq)s AND ({t}.removed_in_seq IS NULL OR {t}.removed_in_seq > %(seq)s)"

COPY_IMAGES = """
INSERT INTO datasets_image (dataset_id, uri, added_in_seq, width, height, checksum)
SELECT %(new)s, uri, 1, width, height, checksum FROM datasets_image
WHERE dataset_id = %(old)s AND added_in_seq <= %(seq)s ORDER BY id
"""

COPY_CAPTIONS = f"""
INSERT INTO datasets_caption (dataset_id, image_id, text, source, box, added_in_seq)
SELECT %(new)s, ni.id, c.text, c.source, c.box, 1
FROM datasets_caption c
JOIN datasets_image oi ON oi.id = c.image_id
JOIN datasets_image ni ON ni.dataset_id = %(new)s AND ni.uri = oi.uri
WHERE c.dataset_id = %(old)s AND {VISIBLE.format(t="c")}
ORDER BY c.id
"""

# Captions are matched old → new by (image path, rank of the caption within its image), both in id order.
COPY_ASSIGNMENTS = f"""
WITH old_caption AS (
  SELECT c.id, oi.uri, ROW_NUMBER() OVER (PARTITION BY c.image_id ORDER BY c.id) AS rank
  FROM datasets_caption c JOIN datasets_image oi ON oi.id = c.image_id
  WHERE c.dataset_id = %(old)s AND {VISIBLE.format(t="c")}
), new_caption AS (
  SELECT c.id, ni.uri, ROW_NUMBER() OVER (PARTITION BY c.image_id ORDER BY c.id) AS rank
  FROM datasets_caption c JOIN datasets_image ni ON ni.id = c.image_id
  WHERE c.dataset_id = %(new)s
)
INSERT INTO datasets_tagassignment (dataset_id, image_id, tag_group_id, caption_id, source, score, added_in_seq)
SELECT %(new)s, ni.id, a.tag_group_id, nc.id, a.source, a.score, 1
FROM datasets_tagassignment a
JOIN datasets_image oi ON oi.id = a.image_id
JOIN datasets_image ni ON ni.dataset_id = %(new)s AND ni.uri = oi.uri
LEFT JOIN old_caption oc ON oc.id = a.caption_id
LEFT JOIN new_caption nc ON nc.uri = oc.uri AND nc.rank = oc.rank
WHERE a.dataset_id = %(old)s AND {VISIBLE.format(t="a")}
ORDER BY a.id
"""


@transaction.atomic
def dataset_version_branch(*, base: DatasetVersion, name: str, note: str = "",
                           user: AbstractBaseUser | None = None) -> DatasetVersion:
    """A new dataset ``name`` whose sealed v1 sees exactly what ``base`` sees (copied once)."""
    dataset = dataset_create(name=name, image_root=base.dataset.image_root,
                             description=f"branched from {base}", user=user)
    version = dataset_version_create(dataset=dataset, label_system_version=base.label_system_version,
                                     note=note or f"branched from {base}", user=user)
    params = {"new": dataset.pk, "old": base.dataset_id, "seq": base.seq}
    with connection.cursor() as cursor:
        for statement in (COPY_IMAGES, COPY_CAPTIONS, COPY_ASSIGNMENTS):
            cursor.execute(statement, params)
    return dataset_version_seal(version=version)
