"""Model rows to API dicts (camelCase). Each presenter of a list costs a constant number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import reverse

from batch.actions import Offers, batch_offers
from batch.models import Batch, BatchItem
from batch.request import options_to_exchange
from batch.runner.claims import items_in_claimed_chunks
from batch.selectors import Progress, current_operation, item_names
from medical.selectors import RestrictionSummary, player_medical_status
from workouts.models import Player


def batch_links(batch_id: int) -> dict[str, str]:
    base = f"/api/v1/batches/{batch_id}"
    return {
        "self": base,
        "results": f"{base}/results",
        "export": f"{base}/export",
        "web": reverse("batch:detail", args=[batch_id]),
    }


def progress_dict(batch: Batch, *, with_current: bool) -> dict[str, Any]:
    progress = Progress(batch)
    processed = batch.processed
    remaining = progress.remaining
    in_progress = (
        min(remaining, items_in_claimed_chunks(batch.pk))
        if batch.status in (Batch.Status.RUNNING, Batch.Status.CANCELLING, Batch.Status.ROLLING_BACK)
        else 0
    )
    return {
        **batch.counts(),
        "completed": processed,
        "remaining": remaining,
        "inProgress": in_progress,
        # After a cancel: the share that ran, not the share that reached an outcome (that is 100).
        "percentComplete": progress.percent_shown,
        "successRate": round(batch.succeeded / processed, 4) if processed else None,
        "currentOperation": current_operation(batch=batch) if with_current else None,
        "throughputPerSecond": progress.throughput,
        "etaSeconds": progress.eta_seconds,
        "estimatedTimeRemaining": progress.eta_seconds,
        "chunks": {"done": batch.done_chunks, "total": batch.total_chunks},
    }


def batches_dicts(batches: Sequence[Batch]) -> list[dict[str, Any]]:
    """A page of batches with what each offers (a constant number of queries)."""
    offers = batch_offers(batches)
    return [batch_dict(b, offers=offers[b.pk]) for b in batches]


def batch_dict(batch: Batch, *, with_current: bool = False, offers: Offers | None = None) -> dict[str, Any]:
    """Needs team and created_by selected."""
    offers = offers or batch_offers([batch])[batch.pk]
    return {
        "id": batch.pk,
        "team": batch.team.slug,
        "kind": batch.kind,
        "status": batch.status,
        "description": batch.description,
        "source": batch.source,
        "requestId": batch.request_id or None,
        "createdBy": batch.created_by.get_username(),
        "createdAt": batch.created_at,
        "queuedAt": batch.queued_at,
        "startedAt": batch.started_at,
        "finishedAt": batch.finished_at,
        "undoDeadline": batch.undo_deadline,
        "undoAvailable": offers.undo,
        "offers": {
            "undo": offers.undo,
            "forceUndo": offers.force_undo,
            "retry": offers.retry,
            "resume": offers.resume,
        },
        "undoOf": batch.undo_of_id,
        "retryOf": batch.retry_of_id,
        "resumeOf": batch.resume_of_id,
        "options": options_to_exchange(batch.options or {}),
        "metadata": batch.metadata or {},
        "estimate": batch.estimate or {},
        "error": batch.error or None,
        "warnings": (batch.metadata or {}).get("requestWarnings", []),
        "progress": progress_dict(batch, with_current=with_current),
        "links": batch_links(batch.pk),
    }


def results_dicts(items: Sequence[BatchItem], *, team_id: int) -> list[dict[str, Any]]:
    """Items with their target {type, id, name, date}: a constant number of queries per page."""
    names = item_names(items, team_id=team_id)
    out = []
    for item in items:
        target = names[item.op_id].target
        out.append(
            {
                "id": item.op_id,
                "seq": item.seq,
                "type": item.type,
                "status": item.status,
                "priority": item.priority,
                "dependencies": list(item.dependencies or []),
                "attempts": item.attempts,
                "durationMs": item.duration_ms,
                "finishedAt": item.finished_at,
                "target": None
                if target.kind == "none"
                else {
                    **target.as_dict(),
                    "type": target.kind,
                    "player": target.player or None,
                    "gone": target.gone,
                },
                "result": item.result if isinstance(item.result, dict) else None,
                "error": item.error or None,
                "warnings": list(item.warnings or []),
                "metadata": getattr(item, "metadata", None) or None,
                "data": item.data if isinstance(item.data, dict) else None,
            }
        )
    return out


def players_dicts(rows: Sequence[Player]) -> list[dict[str, Any]]:
    status = player_medical_status(list(rows))
    return [
        {
            "id": p.pk,
            "firstName": p.first_name,
            "lastName": p.last_name,
            "jerseyNumber": p.jersey_number,
            "position": p.position,
            "availability": p.availability,
            "dailyLoadLimit": p.daily_load_limit,
            "medicalStatus": status[p.pk],
        }
        for p in rows
    ]


def restriction_dict(r: RestrictionSummary, *, with_notes: bool) -> dict[str, Any]:
    out = {
        "id": r.id,
        "playerId": r.player_id,
        "playerName": r.player_name,
        "jerseyNumber": r.jersey_number,
        "title": r.title,
        "severity": r.severity,
        "status": r.status,
        "bodyParts": list(r.body_parts),
        "movementPatterns": list(r.movement_patterns),
        "exerciseCategories": list(r.exercise_categories),
        "maxExertion": r.max_exertion,
        "noContact": r.no_contact,
        "requiresSupervision": r.requires_supervision,
        "effectiveDate": r.effective_date,
        "expiryDate": r.expiry_date,
        "inEffect": r.in_effect,
    }
    if with_notes:
        out["clinicalNotes"] = r.clinical_notes
    return out
