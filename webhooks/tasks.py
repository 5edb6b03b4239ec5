"""RQ entry points for webhooks. Thin: they take ids and call the service."""

from __future__ import annotations

import django_rq
from django.conf import settings

from webhooks.services import webhook_deliver


def deliver_job(delivery_id: int) -> str:
    return webhook_deliver(delivery_id=delivery_id)


def queue() -> django_rq.queues.DjangoRQ:
    return django_rq.get_queue(settings.WEBHOOK_QUEUE_NAME)
