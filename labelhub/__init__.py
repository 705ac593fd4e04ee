"""labelhub Django project.

The Celery app is imported here so that ``celery.current_app`` is labelhub's app in every process (the web
process enqueues by task name through it and never imports task code or torch).
"""

from .celery import app as celery_app

__all__ = ["celery_app"]
