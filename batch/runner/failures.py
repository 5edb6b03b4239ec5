"""What a failure costs: transient faults retried with backoff, internal errors and crashed runners
described for people, and a chunk that cannot run failed as a whole."""

from __future__ import annotations

import logging
import random
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from batch.errors import ErrorCode, ItemError
from batch.models import Batch, BatchChunk, BatchItem
from batch.runner.claims import Claim
from batch.runner.progress import add_counts

log = logging.getLogger("batch")

# SQLSTATEs worth another attempt: serialization failure, deadlock, lock timeout, connection trouble.
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "08000", "08003", "08006", "57P01"}


class ConnectionLost(Exception):
    """The runner's database session is gone, and with it its slot's advisory lock: the runner must not
    go on under a new session (it would run unlocked, beside the runner a reconciler starts)."""


# The session ended on the server's side (terminated, shut down) or the connection broke.
SESSION_ENDED_SQLSTATES = {"57P01", "57P02", "57P03"}


def connection_lost(exc: BaseException) -> bool:
    """True when exc means this process's database session is gone (not merely a failed statement)."""
    if isinstance(exc, ConnectionLost):
        return True
    cause = exc.__cause__ or exc
    sqlstate = getattr(cause, "sqlstate", None) or ""
    if sqlstate in SESSION_ENDED_SQLSTATES or sqlstate.startswith("08"):
        return True
    if isinstance(exc, InterfaceError | OperationalError):
        raw = connection.connection
        return raw is None or bool(getattr(raw, "closed", False) or getattr(raw, "broken", False))
    return False


def is_transient(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate in TRANSIENT_SQLSTATES


def transient_exhausted(exc: DatabaseError, failures: int, *, suggestion: str) -> dict[str, Any]:
    """The error of work given up after `failures` transient database faults, the last one `exc`."""
    return ItemError(
        code=ErrorCode.TRANSIENT_EXHAUSTED,
        message=f"the database stayed busy after {failures} attempts: {str(exc).splitlines()[0]}",
        details={"attempts": failures, "sqlstate": getattr(exc.__cause__, "sqlstate", None)},
        recoverable=True,
        suggested_action=suggestion,
    ).as_dict()


def retry_transient(*, batch_id: int, claim: Claim, exc: DatabaseError) -> None:
    """Record the transient failure; past the batch's retry budget fail the chunk, else back off."""
    failures = claim.transient_failures + 1
    BatchChunk.objects.filter(pk=claim.chunk_id).update(transient_failures=failures)
    batch = Batch.objects.only("options").get(pk=batch_id)
    allowed = batch.options.get("retry_attempts", 3) if batch.options.get("retry_failed_operations") else 0
    if failures > allowed:
        log.warning(
            "batch %s chunk %s: giving up after %s attempts: %s", batch_id, claim.chunk_id, failures, exc
        )
        error = transient_exhausted(
            exc, failures, suggestion="Retry the failed items when the conflicting work has finished."
        )
        fail_chunk(batch_id=batch_id, chunk_id=claim.chunk_id, error=error, attempts=claim.attempt)
        return
    delay = backoff_seconds(failures)
    log.info(
        "batch %s chunk %s: transient %s, retry %s in %.2fs",
        batch_id,
        claim.chunk_id,
        getattr(exc.__cause__, "sqlstate", ""),
        failures,
        delay,
    )
    time.sleep(delay)


def error_reference() -> str:
    """A short id that appears both in the item's error and in the log line with the traceback."""
    return uuid.uuid4().hex[:12]


def internal_error(exc: BaseException, ref: str) -> dict[str, Any]:
    return ItemError(
        code=ErrorCode.INTERNAL,
        message=f"an internal error stopped this item ({type(exc).__name__}; reference {ref})",
        details={"reference": ref, "exception": type(exc).__name__},
        recoverable=False,
        suggested_action=f"Report reference {ref} to your administrator; the rest of the batch went on.",
    ).as_dict()


def crashed_error(claim: Claim) -> dict[str, Any]:
    return ItemError(
        code=ErrorCode.RUNNER_CRASHED,
        message=f"the worker running this item's chunk died {claim.crashes} times (out of memory or killed)",
        details={"crashes": claim.crashes, "chunk": claim.chunk_id},
        recoverable=False,
        suggested_action="Split the operation into smaller requests or report it to your administrator.",
    ).as_dict()


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter: base * 2^(attempt-1), scaled by a random 0.5-1.0."""
    base = settings.BATCH_RETRY_BASE_DELAY_MS / 1000
    return base * (2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def fail_chunk(*, batch_id: int, chunk_id: int, error: dict[str, Any], attempts: int) -> None:
    """End a chunk that cannot run (retries exhausted, runner crashes, a bug): fail its pending items."""
    with transaction.atomic():
        chunk = BatchChunk.objects.select_for_update().get(pk=chunk_id)
        if chunk.status != BatchChunk.Status.PENDING:
            return
        items = BatchItem.objects.filter(chunk_id=chunk_id, status=BatchItem.Status.PENDING)
        count = items.update(
            status=BatchItem.Status.FAILED, error=error, attempts=attempts, finished_at=timezone.now()
        )
        BatchChunk.objects.filter(pk=chunk_id).update(
            status=BatchChunk.Status.DONE, attempts=attempts, finished_at=timezone.now()
        )
        add_counts(batch_id, [BatchItem.Status.FAILED] * count, chunks_done=1)
