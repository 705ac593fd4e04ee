"""Errors of the dataset store that tell the user what to do next."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class SealedVersionError(ValidationError):
    """A change to a sealed (immutable) dataset version was refused."""

    def __init__(self, version: object) -> None:
        super().__init__(f"dataset version {version} is sealed and cannot change; create a child version instead",
                         code="sealed")


class BranchingError(ValidationError):
    """A child of a version that already has one: versions form a single line."""


class ImportValidationError(ValidationError):
    """Malformed input records; ``errors`` holds the located problems (file, line, field, reason)."""

    def __init__(self, errors: list, total: int) -> None:
        self.errors = errors
        self.total = total
        first = errors[0] if errors else "no details"
        more = f" (and {total - 1} more)" if total > 1 else ""
        super().__init__(f"{total} malformed record(s); first: {first}{more}", code="invalid_records")
