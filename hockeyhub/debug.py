"""What the DEBUG error page may show."""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter


class SettingsFilter(SafeExceptionReporterFilter):
    """Django's filter, also hiding settings named like a URL or a DSN (DATABASE_URL, REDIS_URL, the URL in
    RQ_QUEUES, SENTRY_DSN): connection strings carry hosts and passwords, even on a developer's screen."""

    hidden_settings = re.compile("API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|DSN", flags=re.I)
