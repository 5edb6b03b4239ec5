"""Give each pytest-xdist worker its own Redis database and queue names (loaded with `-p`, see pyproject).

pytest-django already gives each xdist worker its own test database (test_<name>_gw0, …). Redis is
shared, so without this two workers would take each other's RQ jobs and share metric and quota keys.
This runs when pytest loads the plugin, before Django reads its settings, so the app and every worker
process a test starts (they inherit the environment) see the same isolated names.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16  # Redis's default `databases`


def isolate(environ: dict[str, str]) -> None:
    worker = environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    number = int(worker.removeprefix("gw"))
    environ["RQ_QUEUE_NAME"] = f"{environ.get('RQ_QUEUE_NAME', 'hockeyhub-test')}-{worker}"
    url = environ.get("REDIS_URL")
    if url:
        parts = urlsplit(url)
        base = int(parts.path.strip("/") or 0)
        database = (base + 1 + number) % REDIS_DATABASES
        environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{database}"))


isolate(os.environ)  # type: ignore[arg-type]
