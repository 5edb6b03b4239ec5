from __future__ import annotations

from typing import Any

import django_rq
from django.conf import settings
from django.core.management.base import BaseCommand
from rq.cron import CronScheduler

from automations.tasks import tick_job


class Command(BaseCommand):
    help = (
        "Run RQ's cron scheduler: enqueue the automation tick on the batch queue every "
        "AUTOMATION_TICK_SECONDS (the workers run it). Several of these are harmless: ticks are idempotent."
    )

    def handle(self, *args: Any, **opts: Any) -> None:
        connection = django_rq.get_connection(settings.RQ_QUEUE_NAME)
        cron = CronScheduler(connection=connection, logging_level="WARNING")
        cron.register(
            tick_job,
            queue_name=settings.RQ_QUEUE_NAME,
            interval=settings.AUTOMATION_TICK_SECONDS,
            job_timeout=300,
            result_ttl=600,
        )
        cron.start()
