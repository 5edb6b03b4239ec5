"""Writes for webhooks: endpoints, events on batch ends, signed deliveries with retries, redelivery."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import logging
import secrets
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from hockeyhub import metrics
from hockeyhub.audit import Auditor
from hockeyhub.errors import Refused
from hockeyhub.models import AuditEvent
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint
from webhooks.queueing import enqueue_delivery
from webhooks.ssrf import UnsafeTarget, check_url, pinned_connection
from workouts.models import Membership, Team
from workouts.selectors import role_in_team

log = logging.getLogger("batch")

MANAGE_ROLES = {Membership.Role.TRAINER, Membership.Role.MEDIC, Membership.Role.STAFF}
RESPONSE_EXCERPT = 300


class WebhookRefused(Refused):
    """An endpoint cannot be created as asked; `field` (the URL unless said) and `message` say why."""

    def __init__(self, message: str, *, field: str = "url") -> None:
        super().__init__(message, field=field)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_may_manage(*, user: Any, team: Team) -> None:
    if role_in_team(user=user, team=team) not in MANAGE_ROLES:
        raise PermissionDenied(f"You do not work in team {team.slug}.")


def webhook_endpoint_create(
    *, user: Any, team: Team, url: str, events: list[str], description: str = "", channel: str = "web"
) -> WebhookEndpoint:
    """Register an endpoint for the team's batch events; the returned object carries the secret.

    Raises WebhookRefused (bad or internal URL, unknown event, URL already registered) and
    PermissionDenied.
    """
    check_may_manage(user=user, team=team)
    url = (url or "").strip()
    if not url or len(url) > 500:
        raise WebhookRefused("a URL of at most 500 characters is required")
    try:
        check_url(url)
    except UnsafeTarget as exc:
        raise WebhookRefused(exc.message) from None
    unknown = [e for e in events if e not in Event.values]
    if unknown or not events:
        raise WebhookRefused(f"events must be a non-empty list of: {', '.join(Event.values)}", field="events")
    with transaction.atomic(durable=True):
        if WebhookEndpoint.objects.filter(team=team, url=url).exists():
            raise WebhookRefused("this URL is already registered for the team")
        endpoint = WebhookEndpoint.objects.create(
            team=team,
            url=url,
            events=sorted(set(events)),
            description=(description or "")[:200],
            secret=new_secret(),
            created_by=user,
        )
        audit = Auditor(actor=user, team=team, channel=channel)
        audit(AuditEvent.Action.WEBHOOK_CREATED, endpoint, details={"url": url, "events": endpoint.events})
    return endpoint


def webhook_endpoint_delete(*, user: Any, endpoint: WebhookEndpoint, channel: str = "web") -> None:
    check_may_manage(user=user, team=endpoint.team)
    with transaction.atomic(durable=True):
        audit = Auditor(actor=user, team=endpoint.team, channel=channel)
        audit(AuditEvent.Action.WEBHOOK_DELETED, endpoint, details={"url": endpoint.url})
        endpoint.delete()


# --- events ----------------------------------------------------------------------------------------

STATUS_EVENTS = {
    "COMPLETED": Event.BATCH_COMPLETED,
    "COMPLETED_WITH_ERRORS": Event.BATCH_COMPLETED,
    "FAILED": Event.BATCH_FAILED,
    "ROLLED_BACK": Event.BATCH_FAILED,
    "CANCELLED": Event.BATCH_CANCELLED,
    "UNDONE": Event.BATCH_UNDONE,
}


def event_payload(batch: Any, event: str) -> dict[str, Any]:
    """The Standard Webhooks body: {type, timestamp, data} with the batch's summary."""
    return {
        "type": event,
        "timestamp": timezone.now().isoformat(),
        "data": {
            "id": batch.pk,
            "team": batch.team.slug,
            "status": batch.status,
            "kind": batch.kind,
            "description": batch.description,
            "requestId": batch.request_id or None,
            "summary": batch.counts(),
            "finishedAt": batch.finished_at.isoformat() if batch.finished_at else None,
            "undoDeadline": batch.undo_deadline.isoformat() if batch.undo_deadline else None,
            "undoOf": batch.undo_of_id,
            "retryOf": batch.retry_of_id,
            # The summary, never the items: a 100,000-item batch's results are read from these.
            "links": {
                "results": f"/api/v1/batches/{batch.pk}/results",
                "export": f"/api/v1/batches/{batch.pk}/export?what=results",
                "web": reverse("batch:detail", args=[batch.pk]),
            },
        },
    }


def webhook_batch_event(*, batch: Any) -> list[int]:
    """Queue the event for a batch's final status to every endpoint that wants it.

    Call inside the transaction that set the status: deliveries are rows written with it, and jobs go
    to RQ on commit. Endpoints subscribed to the event get it; the endpoint named by the batch's
    metadata.callbackUrl gets it whatever it subscribed to.
    """
    event = STATUS_EVENTS.get(batch.status)
    if event is None:
        return []
    callback = (batch.metadata or {}).get("callbackUrl")
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(team_id=batch.team_id).only("id", "url", "events")
        if event in e.events or (callback and e.url == callback)
    ]
    if not endpoints:
        return []
    payload = event_payload(batch, event)
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=e, batch=batch, event=event, msg_id=f"msg_{uuid.uuid4().hex}", payload=payload
            )
            for e in endpoints
        ]
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: [enqueue_delivery(delivery_id=pk) for pk in ids])
    return ids


def webhook_event_send(*, team: Any, event: str, data: dict[str, Any]) -> list[int]:
    """Queue an event that is not a batch's end ({type, timestamp, data}: `calendar.sync_failed`,
    `automation.failed`) to the team's endpoints subscribed to it. Call inside the transaction that
    records what happened; jobs go to RQ on commit."""
    endpoints = [
        e for e in WebhookEndpoint.objects.filter(team=team).only("id", "events") if event in e.events
    ]
    if not endpoints:
        return []
    payload = {"type": event, "timestamp": timezone.now().isoformat(), "data": {"team": team.slug, **data}}
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=e, event=event, msg_id=f"msg_{uuid.uuid4().hex}", payload=payload)
            for e in endpoints
        ]
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: [enqueue_delivery(delivery_id=pk) for pk in ids])
    return ids


def webhook_deliveries_recover(*, limit: int = 1000) -> int:
    """Queue every pending delivery that is due, found in the delivery log (PostgreSQL), not in RQ's
    schedule, which a Redis loss empties. Return how many were queued.

    A delivery is due when its next try's time has passed, or, never tried, when it is older than a
    minute (its first job should have run by then). A due delivery that still has its job queued gets
    a second one; the claim in webhook_deliver lets only one of them send.
    """
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        .filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at__isnull=True, created_at__lte=now - dt.timedelta(minutes=1))
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        enqueue_delivery(delivery_id=pk)
    if due:
        log.info("webhook recovery: queued %s due deliveries", len(due))
    return len(due)


# --- delivery --------------------------------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: base × 4^(n-1) (5 s … ~6 h by default)."""
    return settings.WEBHOOK_RETRY_BASE_SECONDS * 4 ** (attempts - 1)


def send_signed(*, url: str, secret: str, msg_id: str, body: str) -> tuple[int | None, str]:
    """POST a signed body to the URL (no redirects followed); return (HTTP status or None, error)."""
    try:
        target = check_url(url)
    except UnsafeTarget as exc:
        return None, f"refused: {exc.message}"
    now = dt.datetime.now(tz=dt.UTC)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "HockeyHub-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
    }
    conn = pinned_connection(target, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        conn.request("POST", target.path, body=body.encode(), headers=headers)
        response = conn.getresponse()
        excerpt = response.read(RESPONSE_EXCERPT).decode(errors="replace")
        return response.status, "" if 200 <= response.status < 300 else excerpt
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:RESPONSE_EXCERPT]
    finally:
        conn.close()


def webhook_deliver(*, delivery_id: int) -> str:
    """Try one delivery once; on failure schedule the next try (exponential backoff) within 24 hours.

    The HTTP call happens outside any transaction; the outcome is written after it.
    """
    # Claim the try in PostgreSQL: only a pending delivery that is due, and the claim moves it out of
    # "due" for a lease, so a second job for it (from webhook_recover after a Redis loss) does nothing.
    # RQ's scheduler keeps whole seconds, so a retry's job may start a moment early: a few seconds of
    # slack, far below the lease.
    claimed_at = timezone.now()
    lease = dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
        .filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=claimed_at + dt.timedelta(seconds=5))
        )
        .update(next_attempt_at=claimed_at + lease)
    )
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if not claimed or delivery is None:
        return "nothing to do"
    body = json.dumps(delivery.payload, separators=(",", ":"))
    started = time.monotonic()
    status, error = send_signed(
        url=delivery.endpoint.url, secret=delivery.endpoint.secret, msg_id=delivery.msg_id, body=body
    )
    now = timezone.now()
    entry = {
        "at": now.isoformat(),
        "status": status,
        "error": error,
        "ms": round(1000 * (time.monotonic() - started)),
    }
    delivery.attempts += 1
    delivery.log = [*delivery.log, entry][-50:]
    delivery.response_status = status
    if status is not None and 200 <= status < 300:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        outcome = "delivered"
    else:
        _count_failure(status=status, error=error)
        delay = retry_delay(delivery.attempts)
        deadline = delivery.created_at + dt.timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
        if now + dt.timedelta(seconds=delay) > deadline or error.startswith("refused:"):
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
            outcome = "gave up"
            metrics.webhook_failure(reason="gave_up")  # the last try failed: nothing more is sent
        else:
            delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
            outcome = f"retry in {delay:g}s"
    delivery.save(
        update_fields=["attempts", "log", "response_status", "status", "delivered_at", "next_attempt_at"]
    )
    if delivery.next_attempt_at is not None:
        enqueue_delivery(delivery_id=delivery.pk, delay=(delivery.next_attempt_at - now).total_seconds())
    log.info("webhook %s %s to %s: %s", delivery.msg_id, delivery.event, delivery.endpoint.url, outcome)
    return outcome


def _count_failure(*, status: int | None, error: str) -> None:
    """Count a failed attempt in hockeyhub_webhook_failures_total{reason} (shared by all processes)."""
    if error.startswith("refused:"):
        reason = "refused"
    elif status is None:
        reason = "timeout" if "timeout" in error.lower() or "timed out" in error.lower() else "connection"
    elif 400 <= status < 500:
        reason = "http_4xx"
    elif status >= 500:
        reason = "http_5xx"
    else:
        reason = "http_other"  # 1xx/3xx: redirects are not followed
    metrics.webhook_failure(reason=reason)


def webhook_redeliver(*, delivery: WebhookDelivery, user: Any) -> WebhookDelivery:
    """Send an event again as a new delivery with a new webhook-id (the old one keeps its log)."""
    check_may_manage(user=user, team=delivery.endpoint.team)
    with transaction.atomic(durable=True):
        again = WebhookDelivery.objects.create(
            endpoint=delivery.endpoint,
            batch_id=delivery.batch_id,
            event=delivery.event,
            msg_id=f"msg_{uuid.uuid4().hex}",
            payload={**delivery.payload, "timestamp": timezone.now().isoformat()},
        )
        transaction.on_commit(lambda: enqueue_delivery(delivery_id=again.pk))
    return again
