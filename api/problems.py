"""RFC 9457 problem details: every error under /api/ is application/problem+json, never HTML.

`problem()` builds the response; `install_handlers()` maps the domain's exceptions onto it, and
`ApiProblemMiddleware` catches whatever still escapes (unknown URLs, 405s, crashes) under /api/.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api.selectors import TokenRejected
from batch.actions import BatchActionDenied, BatchActionRefused
from batch.errors import IdempotencyConflict, InvalidRequest, RequestProblem
from batch.quotas import QuotaExceeded

log = logging.getLogger("batch")

CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"


def problem_type(code: str) -> str:
    """A stable, non-dereferenced URI per problem code (RFC 9457 §3.1.1 allows tag: URIs)."""
    return f"tag:hockeyhub,2026:problem:{code.lower().replace('_', '-')}"


def problem(
    request: HttpRequest | None,
    status: int,
    *,
    code: str,
    detail: str,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if request is not None:
        body["instance"] = request.path
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = HttpResponse(json.dumps(body, default=str), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class ApiProblem(Exception):
    """Raise from API code for a problem that is not a domain exception (bad cursor, bad body…)."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra
        super().__init__(detail)


def field_error(field: str | None, code: str, message: str, **extra: Any) -> dict[str, Any]:
    """One entry of a problem's `errors`: what is wrong with which input (no batch operation named)."""
    return {"operationId": None, "field": field, "code": code, "message": message, **extra}


def refusal(status: int, code: str, message: str, *, field: str | None) -> ApiProblem:
    """A problem about one input, named in `errors` as well, so a client can mark the field."""
    return ApiProblem(status, code, message, errors=[field_error(field, code, message)])


def request_problems(problems: list[RequestProblem]) -> list[dict[str, Any]]:
    return [p.as_dict() for p in problems]


def _loc_field(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload", "filters")]
    return ".".join(parts)


def install_handlers(api: Any) -> None:
    """Register one handler per exception the views let through."""

    def add(exc: type[BaseException], fn: Callable[[HttpRequest, Any], HttpResponse]) -> None:
        api.add_exception_handler(exc, fn)

    add(
        ValidationError,
        lambda r, exc: problem(
            r,
            400,
            code="BAD_REQUEST",
            detail="Some parameters are invalid.",
            errors=[
                field_error(
                    _loc_field(e.get("loc", ())),
                    "VALIDATION_ERROR",
                    e.get("msg", "invalid"),
                    severity="error",
                )
                for e in exc.errors
            ],
        ),
    )
    add(
        AuthenticationError,
        lambda r, exc: problem(
            r,
            401,
            code="UNAUTHENTICATED",
            detail="Send Authorization: Bearer <token>, or use a logged-in session with its CSRF token.",
            headers={"WWW-Authenticate": 'Bearer realm="hockeyhub"'},
        ),
    )
    add(
        TokenRejected,
        lambda r, exc: problem(
            r,
            401,
            code="TOKEN_REJECTED",
            detail=exc.message,
            headers={"WWW-Authenticate": 'Bearer realm="hockeyhub", error="invalid_token"'},
        ),
    )
    add(Http404, lambda r, exc: problem(r, 404, code="NOT_FOUND", detail=str(exc) or "Not found."))
    add(
        BatchActionDenied,
        lambda r, exc: problem(r, 403, code="PERMISSION_DENIED", detail=exc.message),
    )
    add(
        PermissionDenied,
        lambda r, exc: problem(r, 403, code="PERMISSION_DENIED", detail=str(exc) or "Permission denied."),
    )
    add(
        BatchActionRefused,
        lambda r, exc: problem(r, 409, code="ACTION_REFUSED", detail=exc.message),
    )
    add(
        IdempotencyConflict,
        lambda r, exc: problem(
            r,
            409,
            code="IDEMPOTENCY_CONFLICT",
            detail=str(exc),
            batchId=exc.batch.pk if exc.batch is not None else None,
            requestId=exc.request_id,
        ),
    )
    add(InvalidRequest, lambda r, exc: invalid_request(r, exc.problems))
    add(ApiProblem, lambda r, exc: problem(r, exc.status, code=exc.code, detail=exc.detail, **exc.extra))
    add(HttpError, http_error)
    add(
        RequestDataTooBig,
        lambda r, exc: problem(
            r,
            413,
            code="BODY_TOO_LARGE",
            detail=f"The body exceeds {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} KiB; only batch "
            "requests (POST /batches and /batches/validate) may be larger.",
        ),
    )
    add(QuotaExceeded, quota_exceeded)
    add(Exception, server_error)


def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # django-ninja wraps what its body parser (api.body.BoundedParser) raises as "Cannot parse request
    # body": answer the parser's own problem, which says what is wrong.
    cause = exc.__cause__
    if isinstance(cause, ApiProblem):
        return problem(request, cause.status, code=cause.code, detail=cause.detail, **cause.extra)
    return problem(
        request,
        exc.status_code,
        code="CSRF_FAILED" if "CSRF" in str(exc) else "HTTP_ERROR",
        detail=str(exc),
    )


def invalid_request(request: HttpRequest, problems: list[RequestProblem]) -> HttpResponse:
    """422 with one entry per problem (operation id and field); 403 when the only problems are access."""
    codes = {p.code for p in problems}
    status = 403 if codes == {"PERMISSION_DENIED"} else 422
    first = problems[0] if problems else None
    return problem(
        request,
        status,
        code="PERMISSION_DENIED" if status == 403 else "INVALID_REQUEST",
        detail=(str(first) if len(problems) == 1 else f"{len(problems)} problems; see errors.")
        if first
        else "The request is invalid.",
        errors=request_problems(problems),
        validationErrors=request_problems(problems),  # the guide's name for the same list
    )


def quota_exceeded(request: HttpRequest, exc: QuotaExceeded) -> HttpResponse:
    retry_after = max(1, math.ceil(exc.retry_after))
    return problem(
        request,
        429,
        code="QUOTA_EXCEEDED",
        detail=exc.message,
        headers={"Retry-After": str(retry_after)},
        retryAfter=retry_after,
        quota=exc.quota,
        limit=exc.limit,
        current=exc.current,
        requested=exc.requested,
    )


def server_error(request: HttpRequest, exc: BaseException) -> HttpResponse:
    log.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return problem(
        request,
        500,
        code="INTERNAL_ERROR",
        detail="Something went wrong on our side; it was logged. Try again, or contact the club's admin.",
    )


class ApiProblemMiddleware:
    """Under /api/: turn non-JSON error responses (404 page, 405, a refusal by another middleware such as
    NUL bytes or a bad Host) and crashes into problems. It sits near the top of MIDDLEWARE so that the
    answers of the middleware inside it pass through it too."""

    SKIP_HEADERS = {"content-type", "content-length"}

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        content_type = response.get("Content-Type", "")
        if "json" in content_type:
            return response
        status = response.status_code
        detail = {
            404: "No such endpoint; see /api/v1/openapi.json.",
            405: "Method not allowed here; see /api/v1/openapi.json.",
        }.get(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error")
        text = b"" if response.streaming else response.content
        if content_type.startswith("text/plain") and 0 < len(text) <= 300 and status not in (404, 405):
            detail = text.decode(errors="replace").strip()
        code = {
            400: "BAD_REQUEST",
            404: "NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            403: "PERMISSION_DENIED",
        }.get(status, "HTTP_ERROR")
        # Keep what the inner middleware added (request id, security headers, Allow, Retry-After).
        headers = {k: v for k, v in response.items() if k.lower() not in self.SKIP_HEADERS}
        return problem(request, status, code=code, detail=detail, headers=headers)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exc, Http404):
            return problem(request, 404, code="NOT_FOUND", detail=str(exc) or "Not found.")
        return server_error(request, exc)
