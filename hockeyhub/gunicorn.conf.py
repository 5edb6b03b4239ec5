"""gunicorn settings for `bin/run` (and production): `gunicorn -c hockeyhub/gunicorn.conf.py`.

Sized for a 2-core machine that also runs PostgreSQL, Redis and the RQ workers: 2 worker processes
with 4 threads each (gthread). Pages are short and I/O-bound (PostgreSQL), and htmx polls progress every
second, so threads give concurrency cheaply; two processes keep one slow request or a crash from
stalling everything. Rule of thumb on bigger machines: WEB_CONCURRENCY = cores, WEB_THREADS = 4, and
keep workers × threads ≤ PostgreSQL connections set aside for the web.
"""

from __future__ import annotations

import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))  # a page over 30 s is a bug; batches run on workers
graceful_timeout = 20
keepalive = 5
max_requests = 2000  # recycle workers now and then: bounds slow leaks
max_requests_jitter = 200
# The proxy in front (nginx, a load balancer) is the only one allowed to say the scheme is https.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
reload = os.environ.get("DEBUG", "").lower() in {"1", "true", "yes", "on"}
# Requests are logged by hockeyhub.middleware (with their request id); gunicorn logs only its own events,
# in the same JSON format.
accesslog = None
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "hockeyhub.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
