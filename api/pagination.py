from __future__ import annotations

from typing import Any

from django.core.paginator import InvalidPage
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

# Any larger number means "more than there can be": it is not converted, so a
# thousand-digit value costs nothing.
HUGE = 10**18


def _positive_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not raw.strip("0"):
        raise ValidationError({name: [f"{name} must be a whole number of 1 or more."]})
    digits = raw.lstrip("0")
    return HUGE if len(digits) > len(str(HUGE)) else int(digits)


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of 20 by default; page_size above 100 means 100, below 1 is refused."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        requested = _positive_int(request, self.page_size_query_param)
        if requested is None:
            return self.page_size
        return min(requested, self.max_page_size)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        page_size = self.get_page_size(request)
        page_number = _positive_int(request, self.page_query_param) or 1
        paginator = self.django_paginator_class(queryset, page_size)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as error:
            raise NotFound(f"Page {page_number} does not exist.") from error
        self.request = request
        return list(self.page)

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
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Results per page (default {self.page_size}); values above "
                    f"{self.max_page_size} mean {self.max_page_size}."
                ),
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                },
            },
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # DRF's version carries example links to http://api.example.org/accounts/; the
        # examples per list live in api.schema.add_page_link_examples, which knows the path.
        page_link = {"type": "string", "nullable": True, "format": "uri"}
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
