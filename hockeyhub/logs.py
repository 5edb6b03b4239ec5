"""Structured logs: one JSON object per line, for every logger (ours, Django's, RQ's, gunicorn's).

Context bound with `structlog.contextvars.bind_contextvars` (request_id by the request middleware,
batch_id / slot / chunk_id / job_id by the runner, batch_id by the batch views) is merged into every
line, including lines from plain `logging` calls. Secrets never reach the output: the configured
SECRET_KEY, connection URLs, the Sentry DSN and the metrics token are replaced, and so is the password
part of any URL. Importable without Django settings (gunicorn loads it before Django starts).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog

REDACTED = "[redacted]"
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*):(?P<password>[^@/\s]+)@", re.IGNORECASE)
SECRET_SETTINGS = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SENTRY_DSN", "METRICS_TOKEN")
MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words


def _configured_values() -> Iterable[str]:
    """The secret values in force: Django's settings when configured, else the environment."""
    try:
        from django.conf import settings

        if settings.configured:
            yield from (str(getattr(settings, name, "") or "") for name in SECRET_SETTINGS)
    except Exception:  # noqa: BLE001 - logging must work before and without Django
        pass
    yield from (os.environ.get(name, "") for name in SECRET_SETTINGS)


def secret_values() -> list[str]:
    """Whole secret strings and the credentials inside URLs, longest first."""
    values: set[str] = set()
    for value in _configured_values():
        if len(value) < MIN_SECRET_LENGTH:
            continue
        values.add(value)
        password = urlsplit(value).password if "://" in value else None
        if password and len(password) >= MIN_SECRET_LENGTH:
            values.update({password, unquote(password)})
    return sorted(values, key=len, reverse=True)


def scrub(text: str, secrets: list[str] | None = None) -> str:
    """Return `text` with every secret value and every URL password replaced."""
    for secret in secret_values() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return URL_PASSWORD.sub(lambda m: f"{m['head']}:{REDACTED}@", text)


def scrub_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: scrub_value(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_value(v, secrets) for v in value]
    return value


def redact_secrets(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: scrub every string in the event, exceptions included (run it last)."""
    secrets = secret_values()
    return {key: scrub_value(value, secrets) for key, value in event_dict.items()}


SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
]


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """The formatter for every handler: JSON (default) or `LOG_FORMAT=console` for a terminal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        console = os.environ.get("LOG_FORMAT", "json").lower() == "console"
        renderer = (
            structlog.dev.ConsoleRenderer(colors=False) if console else structlog.processors.JSONRenderer()
        )
        super().__init__(
            *args,
            foreign_pre_chain=[*SHARED_PROCESSORS, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_secrets,
                renderer,
            ],
            **kwargs,
        )


def configure_structlog() -> None:
    """Route structlog loggers through the stdlib handlers configured in LOGGING."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def logging_config(*, level: str = "INFO", batch_level: str = "INFO") -> dict[str, Any]:
    """The LOGGING dict: everything to stderr through JsonFormatter."""
    handler = {"class": "logging.StreamHandler", "formatter": "json"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # The request middleware logs every request with its status; Django's own 4xx warnings
            # would repeat it. Errors (500s with their traceback) still come through.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
            "django.db.backends": {"level": "INFO"},
            "batch": {"level": batch_level},
            "rq.worker": {"level": "INFO"},
            "axes.apps": {"level": "WARNING"},  # its start-up banner on every manage.py command
        },
    }


def bound(**context: Any) -> Any:
    """Bind context for the lines logged inside a `with` block (structlog.contextvars.bound_contextvars)."""
    return structlog.contextvars.bound_contextvars(**context)
