"""The Celery application: queues ``cpu`` and ``gpu``, routed by task-name prefix (``cpu.*``, ``gpu.*``)."""

from __future__ import annotations

import logging
import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")

logger = logging.getLogger(__name__)

app = Celery("labelhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"], related_name="tasks")


class StaleJobReaper(bootsteps.StartStopStep):
    """Every worker looks for running jobs whose worker stopped beating and queues them again.

    Broker redelivery alone is not enough: a whole worker killed with SIGKILL leaves its message unacked until
    the broker's visibility timeout (days, so that long jobs are not run twice).
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker) -> None:
        from django.conf import settings

        interval = max(1.0, settings.LABELHUB_JOB_STALE_SECONDS / 4)
        self.tref = worker.timer.call_repeatedly(interval, self.reap, (), priority=10)

    def stop(self, worker) -> None:
        if self.tref is not None:
            self.tref.cancel()

    @staticmethod
    def reap() -> None:
        from django.db import close_old_connections

        from apps.jobs.services import job_requeue_stale

        try:
            requeued = job_requeue_stale()
            if requeued:
                logger.warning("queued again jobs whose worker was lost: %s", requeued)
        except Exception:
            logger.exception("stale-job reaper failed")
        finally:
            close_old_connections()


app.steps["worker"].add(StaleJobReaper)
