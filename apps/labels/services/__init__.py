"""Writes of the label system, one transaction each (import, versions, merges/splits, proposals)."""

from .document import document_bytes, label_system_import_document, version_document
from .groups import (
    compact_group_indices,
    tag_group_normalize,
    tag_group_set_primary,
    tag_group_split,
    tag_groups_delete,
    tag_groups_merge,
    tag_update,
    tags_delete,
)
from .importing import LabelFiles, label_system_import
from .proposals import merge_proposals_accept, merge_proposals_reject, merge_proposals_suggest
from .versions import version_create_draft, version_publish
from .wordnet import wordnet_for_site

__all__ = [
    "LabelFiles",
    "compact_group_indices",
    "document_bytes",
    "label_system_import",
    "label_system_import_document",
    "merge_proposals_accept",
    "merge_proposals_reject",
    "merge_proposals_suggest",
    "tag_group_normalize",
    "tag_group_set_primary",
    "tag_group_split",
    "tag_groups_delete",
    "tag_groups_merge",
    "tag_update",
    "tags_delete",
    "version_create_draft",
    "version_document",
    "version_publish",
    "wordnet_for_site",
]
