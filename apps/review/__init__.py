"""Reviewers audit the flags of cleaning runs; their decisions become a new dataset version.

- ``models``: RunReviewer (who may see a run's queue), ReviewBatch / ReviewTask (work handed to reviewers,
  with optional N-way overlap), ReviewDecision (append-only audit log), ReviewApplication (the child version
  made from a run's decisions).
- ``services`` / ``selectors``: assign work, decide / undo / bulk-decide, agreement figures, apply a review.
"""
