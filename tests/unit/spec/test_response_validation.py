"""The suite-wide response check (tests/spec_validation.py) catches what the spec does
not declare: these tests are its own proof, so they check responses by hand."""

from __future__ import annotations

import pytest
from django.http import JsonResponse
from django.test import Client, RequestFactory
from rest_framework.response import Response

from api.rest.problems import problem_response
from api.views import operations
from tests import spec_validation
from tests.spec_validation import ResponseNotInSpec, validate_exchange

pytestmark = [pytest.mark.django_db, pytest.mark.unchecked_responses]


def test_a_declared_response_passes() -> None:
    request = RequestFactory().get("/api/health/")

    validate_exchange(request, JsonResponse({"status": "ok"}))


def test_an_undeclared_status_fails() -> None:
    request = RequestFactory().get("/api/health/")

    with pytest.raises(ResponseNotInSpec, match="418"):
        validate_exchange(request, JsonResponse({"status": "ok"}, status=418))


def test_a_body_of_the_wrong_shape_fails() -> None:
    request = RequestFactory().get("/api/health/")

    with pytest.raises(ResponseNotInSpec):
        validate_exchange(request, JsonResponse({"state": "ok"}))


def test_a_problem_code_the_operation_does_not_list_fails() -> None:
    request = RequestFactory().post("/api/events/1/register/")
    response = problem_response(409, "feedback_exists", "A code of another operation.")

    with pytest.raises(ResponseNotInSpec):
        validate_exchange(request, response)


def test_an_unknown_path_must_answer_the_404_problem() -> None:
    request = RequestFactory().get("/api/nowhere/")

    validate_exchange(request, problem_response(404, "not_found", "No resource."))
    with pytest.raises(ResponseNotInSpec):
        validate_exchange(request, JsonResponse({}, status=200))


def test_the_wiring_fails_the_test_that_provoked_an_undeclared_status(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The autouse fixture, not only the function: a view answering 418 fails the call."""
    monkeypatch.setattr(
        operations.HealthView, "get", lambda self, request: Response({"x": 1}, status=418)
    )
    spec_validation.check_every_response(monkeypatch)

    with pytest.raises(ResponseNotInSpec, match="418"):
        Client().get("/api/health/")
