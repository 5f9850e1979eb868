from __future__ import annotations

import json
from typing import Any

from django.core.paginator import InvalidPage, Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.request import Request

from api.ids import BEYOND_ANY_COUNT, MAX_ID

# Any larger number means "more than there can be": it is not converted, so a
# thousand-digit value costs nothing.
HUGE = BEYOND_ANY_COUNT


def _positive_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not raw.strip("0"):
        raise ValidationError({name: [f"{name} must be a whole number of 1 or more."]})
    digits = raw.lstrip("0")
    return HUGE if len(digits) > len(str(HUGE)) else int(digits)


class PageSize:
    """Pages of 20 by default; page_size above 100 means 100, below 1 is refused."""

    # Typed as DRF's paginators declare them, which this sets for both.
    page_size: int | None = 20
    max_page_size: int | None = 100
    page_size_query_param: str | None = "page_size"

    def get_page_size(self, request: Request) -> int:
        requested = _positive_int(request, str(self.page_size_query_param))
        if requested is None:
            return int(self.page_size or 0)
        return min(requested, int(self.max_page_size or requested))

    def page_size_parameter(self) -> dict[str, Any]:
        return {
            "name": self.page_size_query_param,
            "required": False,
            "in": "query",
            "description": (
                f"Results per page (default {self.page_size}); values above "
                f"{self.max_page_size} mean {self.max_page_size}."
            ),
            "schema": {"type": "integer", "minimum": 1},
        }


class PageNumberPagination(PageSize, pagination.PageNumberPagination):
    """Pages of 20 by default; page_size above 100 means 100, below 1 is refused."""

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        page_size = self.get_page_size(request)
        page_number = _positive_int(request, self.page_query_param) or 1
        paginator = self.make_paginator(queryset, page_size, page_number)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as error:
            raise NotFound(f"Page {page_number} does not exist.") from error
        self.request = request
        return list(self.page)

    def make_paginator(self, queryset: Any, page_size: int, page_number: int) -> Paginator:
        return self.django_paginator_class(queryset, page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1. A page past the last one is a 404.",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                },
            },
            self.page_size_parameter(),
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # DRF's version carries example links to http://api.example.org/accounts/; the
        # examples per list live in api.rest.openapi.add_page_link_examples, which knows the path.
        page_link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "How many results there are on all pages together.",
                    "example": 87,
                },
                "next": {
                    **page_link,
                    "description": "The absolute URL of the next page, with the same query; "
                    "null on the last page.",
                },
                "previous": {
                    **page_link,
                    "description": "The absolute URL of the previous page, with the same "
                    "query; null on the first page.",
                },
                "results": schema,
            },
        }


MAX_RESULTS = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most ``limit + 1`` rows; a larger count is PostgreSQL's estimate."""

    object_list: QuerySet[Any, Any]

    def __init__(self, object_list: QuerySet[Any], per_page: int, *, limit: int) -> None:
        super().__init__(object_list, per_page)
        self.limit = limit

    @cached_property
    def count(self) -> int:
        matching = self.object_list.order_by().values("pk")
        connection = connections[matching.db]
        # The query is compiled once for both statements; QuerySet.count() on a slice
        # compiles a nested aggregation that costs more than running it (bench/).
        sql, params = matching.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql} LIMIT {self.limit + 1}) AS m", params)
            counted = int(cursor.fetchone()[0])
            if counted <= self.limit:
                return counted
            if connection.vendor != "postgresql":
                return matching.count()
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return max(counted, int(plan[0]["Plan"]["Plan Rows"]))

    def page(self, number: int | str) -> Page:
        number = self.validate_number(number)
        if number == 1:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        # OFFSET computes the select list of every row it skips (for events, two
        # subqueries each): the page's keys are found first, so it is computed for the
        # page's rows alone. In one statement, still.
        keys = self.object_list.values("pk")[bottom:top]
        return Page(self.object_list.filter(pk__in=keys), number, self)


class CappedPageNumberPagination(PageNumberPagination):
    """For lists that grow with a whole table (events): the cost of a page stays flat.

    An exact COUNT and a deep OFFSET both read every row before the page; at a million
    events that is most of a request (python -m bench --scale). So the results are counted
    exactly up to MAX_RESULTS and estimated beyond, and only pages within the first
    MAX_RESULTS results are served. Lists bounded by nature, such as one event's
    participants, keep the plain pagination.
    """

    max_results = MAX_RESULTS

    def make_paginator(self, queryset: Any, page_size: int, page_number: int) -> Paginator:
        paginator = CappedCountPaginator(queryset, page_size, limit=self.max_results)
        # A page past the end of a short list stays a 404 (Paginator.page raises it);
        # only a query with more results than are served is told to narrow itself.
        beyond = (page_number - 1) * page_size >= self.max_results
        if beyond and paginator.count > self.max_results:
            message = (
                f"Only the first {self.max_results:,} results of a query are served; "
                "narrow it with filters (e.g. start_time_after the last start_time you saw)."
            )
            raise ValidationError(
                {self.page_query_param: [ErrorDetail(message, code="page_too_deep")]}
            )
        return paginator

    def get_next_link(self) -> str | None:
        if self.page is None or self.page.end_index() >= self.max_results:
            return None
        return super().get_next_link()

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        parameters[0]["description"] = (
            f"Page number, from 1. A page past the last one is a 404. Only the first "
            f"{self.max_results:,} results of a query are served: when it has more, a page "
            "starting after them is a 400 (code page_too_deep). Narrow the query with filters "
            "instead, e.g. start_time_after the start_time of the last event you saw."
        )
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        properties["count"] = {
            **properties["count"],
            "description": f"How many results there are on all pages together: exact up to "
            f"{self.max_results:,}; above that an estimate from the database's statistics "
            f"(never below {self.max_results + 1:,}), because counting every match would cost "
            "more than serving the page.",
        }
        properties["next"] = {
            **properties["next"],
            "description": f"{properties['next']['description']} Also null on the page that "
            f"holds the {self.max_results:,}th result: later pages are not served.",
        }
        return response


CURSOR_MAX_LENGTH = 200


class CursorPagination(PageSize, pagination.CursorPagination):
    """Newest first by id, for logs that grow while they are read: a cursor page never
    repeats or skips a row when new ones arrive, where page numbers would shift."""

    ordering = "-id"
    invalid_cursor_message = "This cursor is not one the API gave out."

    def decode_cursor(self, request: Request) -> Any:
        # DRF answers a bad cursor with 404; it is a bad parameter, so a 400 naming it.
        raw = request.query_params.get(self.cursor_query_param)
        # DRF reads an empty cursor as none; the spec's bounds are the server's.
        if raw is not None and not 1 <= len(raw) <= CURSOR_MAX_LENGTH:
            raise self._invalid()
        try:
            cursor = super().decode_cursor(request)
        except NotFound as error:
            raise self._invalid() from error
        # The position is an id the API wrote; any other (p=abc, twenty digits) would
        # reach the query and the database as it stands.
        position = None if cursor is None or cursor.position is None else str(cursor.position)
        if position is not None and not (
            position.isascii()
            and position.isdigit()
            and len(position) <= len(str(MAX_ID))
            and 1 <= int(position) <= MAX_ID
        ):
            raise self._invalid()
        return cursor

    def _invalid(self) -> ValidationError:
        return ValidationError(
            {self.cursor_query_param: [ErrorDetail(self.invalid_cursor_message, "invalid")]}
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: taken from a `next` or `previous` link, "
                "never built by hand. Absent: the newest page.",
                "schema": {"type": "string", "minLength": 1, "maxLength": CURSOR_MAX_LENGTH},
            },
            self.page_size_parameter(),
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        page_link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    **page_link,
                    "description": "The absolute URL of the next (older) page; null on the last.",
                },
                "previous": {
                    **page_link,
                    "description": "The absolute URL of the previous (newer) page; null on "
                    "the first.",
                },
                "results": schema,
            },
        }
