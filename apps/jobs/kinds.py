"""Registry of job kinds: which task runs a kind, on which queue, how its parameters are validated, who may launch.

Apps declare their kinds in ``apps/<area>/job_kinds.py`` with ``register``; the web process only knows task
*names* and enqueues by name, so it never imports the task code (or torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from rest_framework import serializers


@dataclass(frozen=True)
class JobKind:
    name: str
    queue: str  # "cpu" or "gpu"
    params: type[serializers.Serializer]
    label: str = ""
    description: str = ""
    # Besides jobs.add_job, the permission this kind needs (e.g. training.add_trainingrun), so that the generic
    # jobs page and API cannot launch what the area's own pages would refuse.
    permission: str | None = None

    @property
    def task_name(self) -> str:
        return f"{self.queue}.{self.name}"

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        """Validated parameters; errors become one ValidationError listing every bad field."""
        serializer = self.params(data=params)
        if not serializer.is_valid():
            messages = {field: [str(e) for e in errors] for field, errors in serializer.errors.items()}
            raise ValidationError(messages)
        return dict(serializer.validated_data)


_REGISTRY: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    if kind.queue not in {"cpu", "gpu"}:
        raise ValueError(f"job kind {kind.name!r}: queue must be 'cpu' or 'gpu', not {kind.queue!r}")
    _REGISTRY[kind.name] = kind
    return kind


def get_kind(name: str) -> JobKind:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ValidationError(f"unknown job kind {name!r} (known kinds: {known})") from None


def all_kinds() -> list[JobKind]:
    return sorted(_REGISTRY.values(), key=lambda k: k.name)
