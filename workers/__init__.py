"""Celery tasks: the only bridge between the Django apps and ``ram_model``."""
