"""Helpers shared by the batch management commands."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import CommandError

from batch.models import Batch
from batch.selectors import batch_progress

EXIT_QUOTA = 4  # a quota refused the batch (batch/quotas.py); the message says which and until when


def get_batch(batch_id: int) -> Batch:
    try:
        return Batch.objects.select_related("team", "created_by").get(pk=batch_id)
    except Batch.DoesNotExist as exc:
        raise CommandError(f"no batch with id {batch_id}") from exc


def bar(done: float, width: int = 30) -> str:
    filled = int(width * done / 100)
    return "█" * filled + "░" * (width - filled)


def wait_for(batch_id: int, stdout: Any, *, poll: float = 0.5, live: bool | None = None) -> Batch:
    """Poll until the batch ends; draw a live bar on a TTY, occasional lines otherwise."""
    live = sys.stdout.isatty() if live is None else live
    last_line = ""
    while True:
        progress = batch_progress(batch_id=batch_id)
        b = progress.batch
        eta = f" ETA {progress.eta_seconds:.0f}s" if progress.eta_seconds else ""
        rate = f" {progress.throughput:.0f} ops/s" if progress.throughput else ""
        line = (
            f"[{bar(progress.percent)}] {progress.percent:5.1f}% {b.status:<22} ok {b.succeeded} "
            f"failed {b.failed} skipped {b.skipped} cancelled {b.cancelled}{rate}{eta}"
        )
        if live:
            stdout.write("\r" + line.ljust(len(last_line)), ending="")
            stdout.flush()
        elif line != last_line and b.is_final:
            stdout.write(line)
        last_line = line
        if b.is_final:
            if live:
                stdout.write("")
            return Batch.objects.get(pk=batch_id)
        time.sleep(poll)
