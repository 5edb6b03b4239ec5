"""Write the append-only audit trail. Call inside the transaction of the action being audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hockeyhub.models import AuditEvent


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    team: Any = None,
    channel: str,
    purpose: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row; `obj` fills object_type/object_id from a model instance."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_username=getattr(user, "username", "") or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        team=team,
        channel=channel,
        purpose=purpose,
        details=details or {},
    )


@dataclass(frozen=True)
class Auditor:
    """Who acts, for which team, through which channel: the triple one service call's audit rows share.

    Made once per call (`audit = Auditor(actor=user, team=team, channel=channel)`), then called with
    what happened: `audit(AuditEvent.Action.WEBHOOK_CREATED, endpoint, details={...})`.
    """

    actor: Any
    team: Any
    channel: str

    def __call__(
        self, action: str, obj: Any = None, *, purpose: str = "", details: dict[str, Any] | None = None
    ) -> AuditEvent:
        """Append one audit row for `action` on `obj` (see audit_record)."""
        return audit_record(
            actor=self.actor,
            action=action,
            obj=obj,
            team=self.team,
            channel=self.channel,
            purpose=purpose,
            details=details,
        )
