"""Print the JSON Schema of the exchange format (the request batch_run, the modal and the API accept)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from batch.exchange import request_json_schema


class Command(BaseCommand):
    help = "Print the JSON Schema of a batch request (the exchange format), generated from its models."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--compact", action="store_true", help="One line instead of indented JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        schema = request_json_schema()
        self.stdout.write(json.dumps(schema, indent=None if opts["compact"] else 2, ensure_ascii=False))
