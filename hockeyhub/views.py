"""Operational endpoints (/metrics, /healthz) and the app's own error pages."""

from __future__ import annotations

import hmac
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hockeyhub.metrics import REGISTRY

HEALTH_TIMEOUT_SECONDS = 2


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format: only `Authorization: Bearer <METRICS_TOKEN>` may read it, or anyone with
    METRICS_PUBLIC=true and no token set; with neither, nobody (401 saying what to set)."""
    token = settings.METRICS_TOKEN
    if not token and not settings.METRICS_PUBLIC:
        response = HttpResponse(
            "Metrics are closed: set METRICS_TOKEN (and send it as a bearer token), "
            "or METRICS_PUBLIC=true to serve them to anyone.\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def _timed(check: Any) -> dict[str, Any]:
    """Run one check; report ok/fail, its latency, and on failure only the error's class (no messages:
    they can carry host names or credentials)."""
    started = time.monotonic()
    try:
        details = check() or {}
    except Exception as exc:  # noqa: BLE001 - a health check reports failures, it does not raise them
        return {
            "status": "fail",
            "error": type(exc).__name__,
            "ms": round((time.monotonic() - started) * 1000, 1),
        }
    status = details.pop("status", "ok")
    return {"status": status, "ms": round((time.monotonic() - started) * 1000, 1), **details}


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _health_redis() -> Any:
    """A client with short timeouts: a health check must answer even when Redis does not."""
    from redis import Redis

    return Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=HEALTH_TIMEOUT_SECONDS,
        socket_timeout=HEALTH_TIMEOUT_SECONDS,
    )


def _check_redis() -> None:
    client = _health_redis()
    try:
        client.ping()
    finally:
        client.close()


def _check_workers() -> dict[str, Any]:
    """Workers counted by their heartbeats (hockeyhub.heartbeat), not RQ's registry: right again within
    one heartbeat after Redis lost its data."""
    from hockeyhub.heartbeat import live_workers

    client = _health_redis()
    try:
        live = live_workers(client)
    finally:
        client.close()
    wanted = settings.HEALTHZ_MIN_WORKERS
    return {"status": "ok" if live >= wanted else "fail", "live": live, "required": wanted}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, Redis and live RQ workers, each with its status: 200 when all are ok, else 503."""
    checks = {
        "database": _timed(_check_database),
        "redis": _timed(_check_redis),
        "workers": _timed(_check_workers),
    }
    healthy = all(check["status"] == "ok" for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page: a standalone template rendered without context processors (the database may be
    what failed), showing only the request id to quote."""
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({"request_id": getattr(request, "request_id", "")}))
