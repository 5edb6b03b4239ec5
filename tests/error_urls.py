"""The project's URLconf plus one view that fails with secrets in its error (tests/test_serving.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from hockeyhub.urls import handler500
from hockeyhub.urls import urlpatterns as project_urlpatterns


def explode(request):
    # An error message that quotes configuration, as a careless driver error might.
    raise RuntimeError(
        f"could not connect with {settings.DATABASE_URL} / {settings.REDIS_URL} using {settings.SECRET_KEY}"
    )


def forbidden(request):
    raise PermissionDenied("internal detail: role check in batch.actions")


def suspicious(request):
    raise SuspiciousOperation("internal detail: malformed signature")


def plain_error(request):
    raise RuntimeError("an ordinary bug")


urlpatterns = [
    path("explode/", explode),
    path("bug/", plain_error),
    path("forbidden/", forbidden),
    path("suspicious/", suspicious),
    *project_urlpatterns,
]

__all__ = ["handler500", "urlpatterns"]
