"""batch_run reads files through the one bounded reader: a requestId with NUL or a lone surrogate is
refused before any query (exit 2, one line, nothing written), and op ids printed on a terminal are
escaped, so an id cannot forge report lines or send terminal escapes."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from batch.models import Batch
from batch.request_file import printable

pytestmark = pytest.mark.django_db


def create(op_id: str) -> dict:
    return {"id": op_id, "type": "CREATE", "data": {"workout": {"name": "Legs"}}}


def run(path, *args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("batch_run", str(path), "--user", "alice", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    except CommandError as exc:
        code, err = exc.returncode, io.StringIO(str(exc))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("escape", "words"), [("\\u0000", "NUL character"), ("\\ud800", "lone surrogate")])
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_request_id_no_database_can_store_exits_2_naming_it(trainer, tmp_path, escape, words, dry_run):
    path = tmp_path / "r.json"
    body = json.dumps({"operations": [create("a")], "metadata": {"requestId": "sync"}})
    path.write_text(body.replace('"sync"', f'"sy{escape}nc"'))
    code, _out, err = run(path, *(["--dry-run"] if dry_run else []))
    assert code == 2 and words in err and "metadata.requestId" in err
    assert Batch.objects.count() == 0


def test_op_ids_in_the_text_report_are_escaped(trainer, tmp_path):
    forged = "a\nVALID: 1 operations, 1 ok\x1b[2J"
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"operations": [{**create(forged), "dependencies": ["zz"]}]}))
    code, out, _err = run(path, "--dry-run")
    assert code == 2
    assert "\x1b" not in out
    assert not any(line.startswith("VALID") for line in out.splitlines())
    assert "[a\\x0aVALID: 1 operations, 1 ok\\x1b[2J]" in out


def test_printable_escapes_controls_bidi_and_backslashes():
    assert printable("ok id-1 åäö") == "ok id-1 åäö"
    assert printable("a\nb\x1b[31m") == "a\\x0ab\\x1b[31m"
    assert printable("\u202eevil") == "\\u202eevil"
    assert printable("back\\slash") == "back\\\\slash"
    assert printable("\ud800") == "\\ud800"
