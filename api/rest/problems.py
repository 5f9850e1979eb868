"""The one error shape every failure is rendered in, wired once in settings.

Errors are RFC 9457 problem details extended with a stable ``code`` and, for 400, a
list of field errors. Services raise ``api.exceptions``; the handler turns them, DRF's
own exceptions, oversized bodies and database failures into that shape, and Django's
error views (handler400/404/500, the CSRF failure view) answer in it too, so no view
ever builds an error body by hand.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from api.exceptions import Conflict, RequestTooLarge, ServiceUnavailable

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(
    status_code: int, code: str, detail: str, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(
    status_code: int, code: str, detail: str, errors: list[dict[str, str]] | None = None
) -> JsonResponse:
    """A problem response for code that runs outside DRF views (middleware, URL misses)."""
    return JsonResponse(
        problem(status_code, code, detail, errors),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def field_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested error detail into ``[{field, code, message}]``."""
    if isinstance(detail, dict):
        flattened = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flattened.extend(field_errors(value, name))
        return flattened
    if isinstance(detail, list):
        flattened = []
        for index, value in enumerate(detail):
            nested = isinstance(value, (dict, list))
            flattened.extend(field_errors(value, f"{prefix}.{index}" if nested else prefix))
        return flattened
    return [
        {
            "field": prefix or "non_field_errors",
            "code": getattr(detail, "code", "invalid"),
            "message": str(detail),
        }
    ]


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge.over_limit()
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError("The request could not be understood.")
    if isinstance(exc, IntegrityError):
        # Services translate the races they expect; anything else that a constraint
        # refuses is still the client's conflict with the current state, not a crash.
        logger.warning("Unmapped integrity error: %s", exc)
        return Conflict()
    if isinstance(exc, DataError):
        return exceptions.ValidationError("A value is out of the range the database accepts.")
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("Database unavailable: %s", exc)
        return ServiceUnavailable()
    if isinstance(exc, RedisError):
        # Only the login and registration limits use Redis; they fail closed rather
        # than let guesses through unlimited.
        logger.error("Redis unavailable: %s", exc)
        return ServiceUnavailable()
    return None


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    api_exception = _as_api_exception(exc)
    if api_exception is None:
        return None

    headers: dict[str, str] = {}
    auth_header = getattr(api_exception, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(api_exception, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(max(1, int(-(-wait // 1))))

    detail = api_exception.detail
    if isinstance(api_exception, exceptions.ValidationError):
        errors = field_errors(detail)
        message = (
            errors[0]["message"] if len(errors) == 1 else f"{len(errors)} errors in the request."
        )
        # Query-string errors (api.rest.query) name their own code; other input is invalid.
        code = getattr(api_exception, "problem_code", "invalid")
        body = problem(api_exception.status_code, code, message, errors)
    elif isinstance(detail, dict):
        # simplejwt's token errors carry {"detail", "code", "messages"}.
        body = problem(
            api_exception.status_code,
            str(detail.get("code", api_exception.default_code)),
            str(detail.get("detail", api_exception.default_detail)),
        )
    else:
        body = problem(
            api_exception.status_code,
            str(getattr(detail, "code", api_exception.default_code)),
            str(detail),
        )

    set_rollback()
    return Response(
        body,
        status=api_exception.status_code,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem_response(400, "parse_error", "The request could not be understood.")


@csrf_exempt
def not_found_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    detail = "No resource at this address."
    if _exists(request.path + "/"):
        detail += f" Did you mean {request.path}/ (with a trailing slash)?"
    return problem_response(404, "not_found", detail)


def _exists(path: str) -> bool:
    """Whether ``path`` is a real address, not one the catch-all 404 answers."""
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.func is not not_found_view


def csrf_failure_view(request: HttpRequest, reason: str = "") -> JsonResponse:
    return problem_response(403, "permission_denied", "CSRF verification failed.")


def server_error_view(request: HttpRequest) -> JsonResponse:
    return problem_response(500, "server_error", "An unexpected error occurred.")
