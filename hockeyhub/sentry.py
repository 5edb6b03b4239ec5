"""Error reporting through sentry-sdk, on only when SENTRY_DSN is set (see settings)."""

from __future__ import annotations

from typing import Any

from hockeyhub.logs import scrub_value, secret_values


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """before_send: the same secret scrubbing as the logs, over the whole event (messages, exception
    values, local variables, breadcrumbs)."""
    return scrub_value(event, secret_values())


def sentry_init(*, dsn: str, environment: str, release: str | None, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), RqIntegration()],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,  # no user emails, IPs or cookies; the user id is enough to follow up
        before_send=scrub_event,
        before_send_transaction=scrub_event,
    )
