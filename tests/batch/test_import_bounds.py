"""Uploaded definitions the import page cannot read answer 422 with the form's error, never 500, and
nothing is written (no batch, nothing waiting in the session)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from batch.models import Batch

pytestmark = pytest.mark.django_db

IMPORT = reverse("batch:import")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def create(op_id: str = "a") -> str:
    return f'{{"id": "{op_id}", "type": "CREATE", "data": {{"workout": {{"name": "Legs"}}}}}}'


BAD_FILES = {
    "deep JSON": ("deep.json", '{"operations": [' + "[" * 50_000 + "]" * 50_000 + "]}", "nested deeper"),
    "huge integer": (
        "big.json",
        '{"operations": [{"id": "a", "type": "CREATE", "priority": ' + "7" * 6000 + ', "data": {}}]}',
        "digits",
    ),
    "escaped NUL": ("nul.json", '{"operations": [' + create("a\\u0000") + "]}", "NUL"),
    "lone surrogate": ("sur.json", '{"operations": [' + create("\\ud83d") + "]}", "surrogate"),
    "CSV field over 128 KB": ("big.csv", "id,type,data\na,CREATE," + "x" * 200_000 + "\n", "field"),
    "CSV cell with deep JSON": ("c.csv", "id,type,data\na,CREATE," + "[" * 5000 + "]" * 5000 + "\n", "row 2"),
    "CSV cell with a huge number": ("n.csv", "id,type,priority\na,CREATE," + "1" * 5000 + "\n", "row 2"),
    "CSV cell with an escaped surrogate": (
        "s.csv",
        'id,type,metadata\na,CREATE,"{""note"": ""\\udc00""}"\n',
        "surrogate",
    ),
}


@pytest.mark.parametrize("cause", list(BAD_FILES))
def test_unreadable_uploads_are_a_form_error_not_a_500(trainer_client, cause):
    name, content, words = BAD_FILES[cause]
    file = SimpleUploadedFile(name, content.encode(), content_type="application/octet-stream")
    response = trainer_client.post(IMPORT, {"team": "hawks", "action": "preview", "file": file})
    assert response.status_code == 422
    errors = " ".join(response.context["form"].errors.get("file", []))
    assert words.lower() in errors.lower(), errors
    assert Batch.objects.count() == 0
    assert "batch-import" not in trainer_client.session
