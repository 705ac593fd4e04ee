"""What a snapshot writer receives: one image of a dataset version with its captions and tag assignments."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExportAssignment:
    tag_index: int
    source: str
    score: float | None
    caption_pos: int | None  # index into ExportItem.captions of the caption it was parsed from


@dataclass
class ExportItem:
    image_id: int
    uri: str
    width: int | None = None
    height: int | None = None
    captions: list[str] = field(default_factory=list)
    assignments: list[ExportAssignment] = field(default_factory=list)

    @property
    def union_label_id(self) -> list[int]:
        return sorted({a.tag_index for a in self.assignments})

    @property
    def parse_label_id(self) -> list[list[int]]:
        per_caption: list[set[int]] = [set() for _ in self.captions]
        for a in self.assignments:
            if a.caption_pos is not None:
                per_caption[a.caption_pos].add(a.tag_index)
        return [sorted(tags) for tags in per_caption]

    def ram_record(self) -> dict[str, object]:
        """The RAM training JSON record (spec §12) of this image."""
        return {"image_path": self.uri, "caption": self.captions, "union_label_id": self.union_label_id,
                "parse_label_id": self.parse_label_id}
