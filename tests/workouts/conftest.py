"""The engine's fixtures, for tests of domain rules that run a batch to see them applied."""

from tests.batch.conftest import rq_queue, run_batches, submit  # noqa: F401
