"""The checked-in spec is the contract: it must be exactly what the code generates."""

from __future__ import annotations

import difflib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

SPEC = Path(__file__).resolve().parents[3] / "spec" / "openapi.yaml"
REGENERATE = (
    "nox -s spec   (or: DJANGO_DEBUG=1 .venv/bin/python manage.py spectacular "
    "--file spec/openapi.yaml --validate --fail-on-warn)"
)


def test_checked_in_spec_matches_the_generated_one(tmp_path: Path) -> None:
    generated_path = tmp_path / "openapi.yaml"
    call_command(
        "spectacular",
        "--file",
        str(generated_path),
        "--validate",
        "--fail-on-warn",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    generated = generated_path.read_text()
    checked_in = SPEC.read_text()
    if generated != checked_in:
        diff = "".join(
            difflib.unified_diff(
                checked_in.splitlines(keepends=True),
                generated.splitlines(keepends=True),
                "spec/openapi.yaml (checked in)",
                "generated from the code",
                n=2,
            )
        )
        pytest.fail(f"spec/openapi.yaml is stale. Regenerate it with:\n  {REGENERATE}\n\n{diff}")


def test_schema_endpoint_serves_the_checked_in_file(api_client) -> None:
    response = api_client.get("/api/schema/")

    assert response.status_code == 200
    assert response.content == SPEC.read_bytes()


def test_docs_are_served_without_the_internet(api_client) -> None:
    response = api_client.get("/api/docs/")

    assert response.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist" in response.content


def test_docs_assets_are_served_by_the_app_itself(api_client) -> None:
    response = api_client.get(
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    )

    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
