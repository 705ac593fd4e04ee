"""State changes of datasets, split by sub-area: versions (lines of versions and their rows), imports, export.

Import from the sub-modules (``apps.datasets.services.versions`` …); this package re-exports nothing so that
importing one area never pulls in another's dependencies (pyarrow, ijson).
"""
