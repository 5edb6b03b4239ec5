"""Request context (a request id on every log line and response, one access log line per request) and
the NUL-byte guard."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

log = structlog.get_logger("hockeyhub.request")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
QUIET_PATHS = ("/healthz", "/metrics")  # scraped every few seconds; their failures show in their output


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with HOCKEYHUB_PROXY_COUNT trusted proxies in front, the
    address the outermost trusted proxy saw (counted from the right of X-Forwarded-For, which a client
    can prepend to but not append to)."""
    proxies = settings.HOCKEYHUB_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if proxies <= 0:
        return remote
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if len(forwarded) >= proxies:
        return forwarded[-proxies]
    return forwarded[0] if forwarded else remote


def axes_client_ip(request: HttpRequest) -> str:
    """AXES_CLIENT_IP_CALLABLE: login throttling by the real client address behind the proxy."""
    return client_ip(request)


class RequestContextMiddleware:
    """Take X-Request-ID from the proxy when it is well formed, else make one; bind it for the logs,
    echo it on the response, and log the request when it ends."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        _tag_sentry(request_id)
        started = time.monotonic()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        if not request.path.startswith(QUIET_PATHS):
            user = getattr(request, "user", None)
            log.info(
                "request",
                method=request.method,
                # A view may hide a secret in its path (calendar feed tokens) behind `log_path`.
                path=getattr(request, "log_path", request.path),
                status=response.status_code,
                ms=round((time.monotonic() - started) * 1000, 1),
                user_id=user.pk if user is not None and user.is_authenticated else None,
                ip=client_ip(request),
            )
        structlog.contextvars.clear_contextvars()
        return response


def _tag_sentry(request_id: str) -> None:
    if not settings.SENTRY_DSN:
        return
    import sentry_sdk

    sentry_sdk.get_isolation_scope().set_tag("request_id", request_id)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(pairs: Iterable[tuple[str, list[str]]]) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in pairs)


class RefuseNulBytesMiddleware:
    """Answer 400 to a NUL byte in the path, the query string, a cookie or a form field.

    No browser sends one, PostgreSQL text cannot store one (the driver raises), and a value that
    reaches a query with one would answer 500. Refusing here is one rule for every view and the admin;
    forms still bound each field. Uploaded file contents are not looked at.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.refused(request):
            return HttpResponseBadRequest(
                "NUL bytes (%00) are not allowed in a request.", content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)

    @staticmethod
    def refused(request: HttpRequest) -> bool:
        if "\x00" in request.path_info or _has_nul(request.GET.lists()):
            return True
        if _has_nul((key, [value]) for key, value in request.COOKIES.items()):
            return True
        # A malformed multipart body raises MultiPartParserError here, which Django answers with 400.
        return (
            request.method == "POST" and request.content_type in FORM_TYPES and _has_nul(request.POST.lists())
        )


RQ_DASHBOARD_PATHS = ("/admin/rq/", "/admin/django_rq/")


class AdminLookupErrorsMiddleware:
    """Answer 404 or 400 where the admin pages raise on a value from the URL that names nothing.

    - The RQ dashboard (django-rq) looks a job, worker or scheduler up and raises instead of answering
      404: a job that finished and expired, a worker that stopped, the scheduler pages without
      rq-scheduler installed. Those are 404s.
    - Django's admin turns `?effective_date__year=99999999999999999999` (date hierarchy) into an
      OverflowError, and an autocomplete field given a non-number id (`?user=abc` on an add page, or
      posted) into "Field 'id' expected a number". Those are 400s.
    Only under /admin/ and only these errors; anything else still reaches the error page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        """The RQ dashboard indexes its list of queues with the number in the URL: range-check it first."""
        if not request.path.startswith(RQ_DASHBOARD_PATHS):
            return None
        from django.http import HttpResponseNotFound
        from django_rq.settings import get_queues_list

        count = len(get_queues_list())
        for name in ("queue_index", "scheduler_index", "connection_index"):
            index = kwargs.get(name)
            if isinstance(index, int) and not 0 <= index < count:
                return HttpResponseNotFound(
                    f"Not found: there are {count} queues, numbered from 0.",
                    content_type="text/plain; charset=utf-8",
                )
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.core.exceptions import ImproperlyConfigured
        from django.http import HttpResponseNotFound
        from rq.exceptions import NoSuchJobError

        if not request.path.startswith("/admin/"):
            return None
        text = str(exception)
        if request.path.startswith(RQ_DASHBOARD_PATHS) and (
            isinstance(exception, NoSuchJobError | ImproperlyConfigured)
            or (isinstance(exception, ValueError) and "RQ worker key" in text)
        ):
            return HttpResponseNotFound(f"Not found: {text}", content_type="text/plain; charset=utf-8")
        if isinstance(exception, OverflowError) or (
            isinstance(exception, ValueError) and text.startswith("Field '") and "expected a number" in text
        ):
            return HttpResponseBadRequest(
                f"Bad request: {text[:200]}", content_type="text/plain; charset=utf-8"
            )
        return None
