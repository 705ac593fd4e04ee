"""Errors of the label system that carry enough to tell the user what to fix."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class PublishedVersionError(ValidationError):
    """A change to a published (immutable) label system version was refused."""

    def __init__(self, version: Any) -> None:
        self.version = version
        super().__init__(
            f"Label system version {version} is published and cannot be changed; "
            "create a draft copy (a new version) and edit that instead.",
            code="published",
        )


class LabelFileError(ValidationError):
    """A RAM label file is malformed: says which file, which line (1-based, 0 = whole file) and why."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {reason}", code="label_file")
