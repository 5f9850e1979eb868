"""Strict query strings: a parameter the operation does not take, or one it takes once
sent twice, is a 400 naming it, never a silent misreading.

``?hots=1`` used to list every event (the filter is ``host``), and
``?ordering=-title&ordering=start_time`` sorted by the last value only. The parameters
an operation takes are the ones the spec lists for it, which drf-spectacular derives
from the same filter set and paginator this reads; tests send every listed parameter
(accepted) and an unlisted one (refused) to every operation.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework.exceptions import ErrorDetail, MethodNotAllowed, ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from api.rest.pagination import CursorPagination, PageNumberPagination

# Parameters that may be repeated, each value adding to the list (as `a,b` does).
REPEATABLE = frozenset({"ordering"})


class UnknownParameter(ValidationError):
    problem_code = "unknown_parameter"


class RepeatedParameter(ValidationError):
    problem_code = "repeated_parameter"


def check_query_string(query: QueryDict, accepted: frozenset[str]) -> None:
    """Raise UnknownParameter or RepeatedParameter for what ``accepted`` does not allow."""
    unknown = sorted(name for name in query if name not in accepted)
    if unknown:
        raise UnknownParameter(
            {
                name: [
                    ErrorDetail(
                        f"Unknown query parameter {name!r}"
                        + (
                            f"; this operation takes {', '.join(sorted(accepted))}."
                            if accepted
                            else "."
                        ),
                        code=UnknownParameter.problem_code,
                    )
                ]
                for name in unknown
            }
        )
    repeated = sorted(
        name for name, values in query.lists() if len(values) > 1 and name not in REPEATABLE
    )
    if repeated:
        raise RepeatedParameter(
            {
                name: [
                    ErrorDetail(f"{name} may be given once.", code=RepeatedParameter.problem_code)
                ]
                for name in repeated
            }
        )


# For API views: a method they do not take is a 405 first, and the query string holds
# only the operation's parameters. Checked where the other input is (after
# authentication, the lookup, permissions and throttles), so the documented order of
# answers stands: for a detail route after ``get_object``, otherwise once the request is
# admitted. Views listing something name the actions that do in ``list_actions``. (A
# comment, not a docstring: drf-spectacular would make it every operation's description.)
class StrictRequests(APIView):
    list_actions: frozenset[str] = frozenset({"list"})

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # A method the view does not take is a 405 before anything else: not a 401 for
        # want of credentials it would not use, nor a 400 for its query string.
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method or "")
        super().initial(request, *args, **kwargs)
        lookup = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", None)
        if lookup not in kwargs:
            self.check_query_string()

    def get_object(self) -> Any:
        instance = super().get_object()  # type: ignore[misc]
        self.check_query_string()
        return instance

    def check_query_string(self) -> None:
        check_query_string(self.request.query_params, self.accepted_query_parameters())

    def accepted_query_parameters(self) -> frozenset[str]:
        if self.request.method not in ("GET", "HEAD"):
            return frozenset()
        action = getattr(self, "action", None)
        if action is not None and action not in self.list_actions:
            return frozenset()
        accepted: set[str] = set()
        paginator = getattr(self, "paginator", None)
        if isinstance(paginator, PageNumberPagination):
            accepted |= {paginator.page_query_param, str(paginator.page_size_query_param)}
        elif isinstance(paginator, CursorPagination):
            accepted |= {paginator.cursor_query_param, str(paginator.page_size_query_param)}
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None:
            accepted |= set(filterset_class.base_filters)
        return frozenset(accepted)
