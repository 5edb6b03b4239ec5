"""RQ entry points for webhooks. Thin: they take ids and call the service (queued by
webhooks.queueing, which names them by their dotted path)."""

from __future__ import annotations

from webhooks.services import webhook_deliver


def deliver_job(delivery_id: int) -> str:
    return webhook_deliver(delivery_id=delivery_id)
