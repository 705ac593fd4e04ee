"""Task body of the review job kind: a thin wrapper around the review services."""

from __future__ import annotations

from typing import Any

from .base import JobContext


def run_apply_review(ctx: JobContext) -> dict[str, Any]:
    from apps.review.services.apply import review_apply_run

    return review_apply_run(ctx)
