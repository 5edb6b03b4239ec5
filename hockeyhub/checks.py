"""Deployment checks of our own, run by `manage.py check --deploy` next to Django's."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_operations(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings = []
    if not settings.METRICS_TOKEN:
        warnings.append(
            Warning(
                "METRICS_TOKEN is not set: /metrics is readable by anyone who can reach the app."
                if settings.METRICS_PUBLIC
                else "METRICS_TOKEN is not set: /metrics answers 401 to every scraper.",
                hint="Set METRICS_TOKEN and give Prometheus the same value as a bearer token.",
                id="hockeyhub.W001",
            )
        )
    if not os.environ.get("SECRET_KEY"):
        warnings.append(
            Warning(
                "SECRET_KEY is not set in the environment: this machine made its own (var/secret_key), so "
                "sessions and signed values will not work across machines or survive a new checkout.",
                hint="Set SECRET_KEY to one long random value shared by every web and worker process.",
                id="hockeyhub.W002",
            )
        )
    if not settings.HOCKEYHUB_HTTPS:
        warnings.append(
            Warning(
                "HOCKEYHUB_HTTPS is off: no HSTS, no HTTPS redirect, cookies not marked Secure.",
                hint="Serve through a TLS-terminating proxy that sets X-Forwarded-Proto, and set "
                "HOCKEYHUB_HTTPS=true (docs/operations.md).",
                id="hockeyhub.W003",
            )
        )
    return warnings
