"""Task bodies of the datasets job kinds: thin wrappers around the datasets services."""

from __future__ import annotations

from typing import Any

from .base import JobContext


def run_import_dataset(ctx: JobContext) -> dict[str, Any]:
    from apps.datasets.services.imports import dataset_import_run

    return dataset_import_run(ctx)


def run_export_snapshot(ctx: JobContext) -> dict[str, Any]:
    from apps.datasets.services.export import snapshot_export_run

    return snapshot_export_run(ctx)


def run_parse_version(ctx: JobContext) -> dict[str, Any]:
    from apps.datasets.services.parsing import dataset_version_parse_run

    return dataset_version_parse_run(ctx)


def run_measure_images(ctx: JobContext) -> dict[str, Any]:
    from apps.datasets.services.images import images_measure_run

    return images_measure_run(ctx)
