"""Audit rows for refusals that happen outside the services: login lockouts (django-axes)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.dispatch import receiver

from hockeyhub.audit import audit_record
from hockeyhub.models import AuditEvent


@receiver(user_locked_out, dispatch_uid="hockeyhub-audit-lockout")
def audit_lockout(
    sender: Any, *, request: Any, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    """Every refused login of a locked-out username/address pair leaves an audit row."""
    path = getattr(request, "path", "") or ""
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOGIN_LOCKED_OUT,
        object_type="auth.user",
        object_id=(username or "")[:40],
        channel="admin" if path.startswith("/admin/") else "web",
        purpose="login throttling",
        details={"username": (username or "")[:150], "ip": ip_address or ""},
    )
