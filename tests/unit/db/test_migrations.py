"""The migrations describe the models: a field, index or constraint changed in
api/models.py without its migration would exist in the code and never in a database."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


# makemigrations reads the applied migrations to check their history is consistent.
@pytest.mark.django_db
def test_the_models_have_no_changes_without_a_migration() -> None:
    out = StringIO()

    try:
        call_command("makemigrations", "api", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"api/models.py differs from api/migrations/:\n{out.getvalue()}")

    assert "No changes detected" in out.getvalue()
