"""A real HTTP receiver on 127.0.0.1 for webhook tests (http.server in a thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.batch.conftest import rq_queue  # noqa: F401 (the batch queue, emptied around each test)


class Receiver:
    """Records every POST (headers, body) and answers with the next status from `answers` (then 200)."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers.items()), body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver is down")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/hockeyhub"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def webhook_queue(transactional_db):
    from webhooks.queueing import queue

    q = queue()
    q.empty()
    yield q
    q.empty()


@pytest.fixture
def workers(rq_queue, webhook_queue):  # noqa: F811
    """Real `batch_worker` processes (they serve the batch and webhook queues, with the scheduler)."""
    from rq.scheduler import RQScheduler

    from tests.batch.conftest import WorkerProcesses

    # A worker killed by an earlier test leaves its scheduler lock for a minute, and a new worker only
    # tries to take it every two minutes: clear it, so this test's worker schedules retries at once.
    for q in (rq_queue, webhook_queue):
        q.connection.delete(RQScheduler.get_locking_key(q.name))

    procs = WorkerProcesses()
    yield procs
    procs.stop_all()
