"""Claiming a chunk: a session advisory lock per chunk, and the try counted before the work starts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

CHUNK_NAMESPACE = 0x4843  # (namespace, chunk id) is a claimed chunk
# How many ready chunks a claim looks at: enough to get past those other runners of the batch hold.
CLAIM_WINDOW = 32


@dataclass(frozen=True)
class Claim:
    chunk_id: int
    attempt: int  # this try's number, counting every earlier try (crashed or transient)
    transient_failures: int

    @property
    def crashes(self) -> int:
        """Earlier tries that neither committed nor recorded a transient failure: their runner died."""
        return self.attempt - 1 - self.transient_failures


def claim_chunk(batch_id: int) -> Claim | str:
    """Claim the first free ready chunk and record the try; return a Claim, "wait" or "empty".

    The claim is a session advisory lock on the chunk (it dies with the runner's connection), so the
    try can be counted in its own committed statement before the work starts; the work transaction
    then row-locks the chunk and re-checks it is still pending. Queries: 3 (+1 per held chunk skipped).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM batch_batchchunk WHERE batch_id = %s AND status = 'PENDING' AND level = "
            "(SELECT min(level) FROM batch_batchchunk WHERE batch_id = %s AND status = 'PENDING') "
            "ORDER BY seq LIMIT %s",
            [batch_id, batch_id, CLAIM_WINDOW],
        )
        candidates = [row[0] for row in cursor.fetchall()]
        if not candidates:
            return "empty"
        for chunk_id in candidates:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CHUNK_NAMESPACE, chunk_key(chunk_id)])
            if not cursor.fetchone()[0]:
                continue
            cursor.execute(
                "UPDATE batch_batchchunk SET attempts = attempts + 1 WHERE id = %s AND status = 'PENDING' "
                "RETURNING attempts, transient_failures",
                [chunk_id],
            )
            row = cursor.fetchone()
            if row is None:  # finished between the look-up and the lock
                release_chunk(chunk_id)
                continue
            return Claim(chunk_id=chunk_id, attempt=row[0], transient_failures=row[1])
    return "wait"


def release_chunk(chunk_id: int) -> None:
    if connection.connection is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [CHUNK_NAMESPACE, chunk_key(chunk_id)])


def chunk_key(chunk_id: int) -> int:
    """The lock key must fit an int4; a rare collision only makes a free chunk look held for a moment."""
    return chunk_id % 2**31


def items_in_claimed_chunks(batch_id: int) -> int:
    """Return how many of the batch's pending operations sit in chunks a runner holds right now.

    Exact, not an estimate: the claims are the advisory locks above, which PostgreSQL lists in
    pg_locks (a two-key lock shows its keys as classid/objid, objsubid 2) while their session lives.
    One query.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(c.item_count), 0) FROM batch_batchchunk c JOIN pg_locks l "
            "ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = %s "
            "AND l.objid = (c.id %% 2147483648) "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "WHERE c.batch_id = %s AND c.status = 'PENDING'",
            [CHUNK_NAMESPACE, batch_id],
        )
        return int(cursor.fetchone()[0])
