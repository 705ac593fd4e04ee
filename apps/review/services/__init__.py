"""State changes of review, by sub-area: ``work`` (reviewers and batches), ``decisions`` (decide, bulk,
undo; flag status follows), ``apply`` (the ``apply_review`` job that writes the child dataset version).

Import from the sub-modules; every function is one transaction and records what it did.
"""
