"""Reviewers audit the flags of cleaning runs; their decisions become a new dataset version.

- ``models``: RunReviewer (who may see a run's queue), ReviewBatch / ReviewTask (work handed to reviewers,
  with optional N-way overlap), ReviewDecision (append-only audit log), ReviewApplication (the child version
  made from a run's decisions).
- ``services``: ``work`` (assign reviewers, draw batches), ``decisions`` (decide / bulk / undo; flag status
  follows: the reviewer's decision, or the majority with overlap), ``apply`` (the ``apply_review`` job).
- ``selectors``: the keyset queue (index ``review_task_queue``), neighbours, progress, agreement.
- ``job_kinds``: ``apply_review`` (cpu queue); body in ``workers/review.py``.
- ``thumbnails``: images served from the configured roots only, thumbnails cached on disk.
- ``views`` / ``urls`` (``/review/``), ``api`` (``/api/review-*``), ``static/review/review.js`` (shortcuts).
"""
