"""`python -m tests.batch.faulty_worker [batch_worker args]`: a batch_worker that knows the faulty types."""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hockeyhub.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from tests.batch.faulty_executors import register_faulty

    register_faulty()
    call_command("batch_worker", *sys.argv[1:])
