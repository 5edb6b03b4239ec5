"""The batch fixtures (submit a request, run it in-process), for tests that put a rule through a batch."""

from tests.batch.conftest import rq_queue, run_batches, submit  # noqa: F401 (fixtures)
