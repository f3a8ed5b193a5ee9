"""Page-number pagination whose cost does not grow with the table.

Counting every row a list could show costs as much as reading them all: at a million appeals
the COUNT alone outweighs the page. Up to `PAGINATION_EXACT_COUNT_LIMIT` rows (default 1,000)
the count is exact; above it, the count is the planner's estimate for the same query (EXPLAIN,
no rows read) and the API says so with `count_exact: false`. Pages keep working either way; a
page past the real end is an empty last page, not an error.
"""

import json
from functools import cached_property

from django.conf import settings
from django.core.paginator import EmptyPage, Page
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


def _planner_estimate(queryset) -> int | None:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


class _Page(Page):
    def has_next(self) -> bool:
        if self.paginator.count_exact:
            return super().has_next()
        # Past an estimate, a full page is the only sign that more rows follow.
        return len(self.object_list) == self.paginator.per_page


class CappedCountPaginator(DjangoPaginator):
    """Exact counts up to a limit, the planner's estimate above it (see the module docstring)."""

    count_exact = True

    @cached_property
    def count(self) -> int:
        limit = getattr(settings, "PAGINATION_EXACT_COUNT_LIMIT", 1000)
        queryset = self.object_list
        if not hasattr(queryset, "query"):
            return len(queryset)
        seen = queryset.order_by()[: limit + 1].count()
        if seen <= limit:
            return seen
        estimate = _planner_estimate(queryset)
        self.count_exact = False
        return max(estimate or 0, seen)

    def _get_page(self, *args, **kwargs):
        return _Page(*args, **kwargs)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.count_exact and top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self.object_list[bottom:top], number, self)

    def validate_number(self, number):
        # An estimated count can overshoot: a page past the real end is empty, not a 404.
        try:
            return super().validate_number(number)
        except EmptyPage:
            if self.count_exact:
                raise
            return int(number)


class Pagination(PageNumberPagination):
    django_paginator_class = CappedCountPaginator
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_paginated_response(self, data):
        return Response({
            "count": self.page.paginator.count,
            "count_exact": self.page.paginator.count_exact,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_exact"] = {
            "type": "boolean",
            "description": "False when `count` is the database's estimate (more rows than PAGINATION_EXACT_COUNT_LIMIT).",
        }
        schema["required"] = [*schema.get("required", []), "count_exact"]
        return schema

    def get_page_size(self, request):
        """A page_size that is not a whole number from 1 is refused (400), not silently ignored;
        above max_page_size it is capped."""
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: [_("Enter a whole number from 1.")]})
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters
