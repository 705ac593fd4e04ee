"""Streaming readers of caption/tag corpora and writers of snapshot formats; no database access here."""
