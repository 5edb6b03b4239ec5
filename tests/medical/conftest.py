"""Medical test fixtures."""

from __future__ import annotations

import copy

import pytest
from django.template import TemplateDoesNotExist
from django.template.loader import get_template


@pytest.fixture
def base_template(settings, tmp_path):
    """Use the project's base.html, or a stand-in when the layout is not written yet."""
    try:
        get_template("base.html")
    except TemplateDoesNotExist:
        (tmp_path / "base.html").write_text(
            "<!doctype html><title>{% block title %}{% endblock %}</title>{% block content %}{% endblock %}"
        )
        templates = copy.deepcopy(settings.TEMPLATES)
        templates[0]["DIRS"] = [*templates[0]["DIRS"], tmp_path]
        settings.TEMPLATES = templates
