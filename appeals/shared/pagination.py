"""Page-number pagination whose cost does not grow with the table.

Counting every row a list could show costs as much as reading them all: at a million appeals
the COUNT alone outweighs the page. Up to `PAGINATION_EXACT_COUNT_LIMIT` rows (default 1,000)
the count is exact; above it, the count is the planner's estimate for the same query (EXPLAIN,
no rows read) and the API says so with `count_exact: false`. Pages keep working either way; a
page past the real end is an empty last page, not an error.

An estimate is remembered for PAGINATION_ESTIMATE_SECONDS (default 10 s) per query in the
process, so paging through a big list does not count and explain it again on every request;
an exact count (a short list) is never remembered.
"""

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from functools import cached_property

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, InvalidPage, Page
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

_estimates: OrderedDict = OrderedDict()  # (db, limit, sql, params) -> (monotonic deadline, estimate)
_estimates_lock = threading.Lock()
_ESTIMATES_KEPT = 256


def _remembered_estimate(key) -> int | None:
    with _estimates_lock:
        entry = _estimates.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del _estimates[key]
            return None
        return entry[1]


def _remember_estimate(key, estimate: int) -> None:
    ttl = getattr(settings, "PAGINATION_ESTIMATE_SECONDS", 10)
    if ttl <= 0:
        return
    with _estimates_lock:
        _estimates[key] = (time.monotonic() + ttl, estimate)
        _estimates.move_to_end(key)
        while len(_estimates) > _ESTIMATES_KEPT:
            _estimates.popitem(last=False)


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


class _Slice(Sequence):
    """paginator.queryset[bottom:top], read on first use."""

    def __init__(self, paginator, bottom: int, top: int):
        self.paginator, self.bottom, self.top = paginator, bottom, top

    @cached_property
    def _items(self) -> list:
        return list(self.paginator.queryset[self.bottom : self.top])

    def __getitem__(self, index):
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)


class CappedCountPaginator(DjangoPaginator):
    """Exact counts up to a limit, the planner's estimate above it (see the module docstring)."""

    count_exact = True

    def __init__(self, object_list, per_page, *args, count_key: tuple | None = None, **kwargs):
        # object_list: a queryset, a list, or a zero-argument callable that builds the queryset,
        # called only when it is needed (a count not remembered, a deep page's ids).
        # count_key: a key that determines the list's query completely (as prepared_values' memo
        # does); a remembered estimate is then found without compiling (or building) the query.
        super().__init__(object_list, per_page, *args, **kwargs)
        self.count_key = count_key

    @cached_property
    def queryset(self):
        return self.object_list() if callable(self.object_list) else self.object_list

    @cached_property
    def count(self) -> int:
        limit = getattr(settings, "PAGINATION_EXACT_COUNT_LIMIT", 1000)
        if self.count_key is not None:
            key = (limit, "key", self.count_key)
        else:
            queryset = self.queryset
            if not hasattr(queryset, "query"):
                return len(queryset)
            try:
                sql, params = queryset.order_by().query.sql_with_params()
            except EmptyResultSet:  # a filter that can match nothing (no tenant, an empty search)
                return 0
            key = (queryset.db, limit, sql, tuple(map(str, params)))
        remembered = _remembered_estimate(key)
        if remembered is not None:
            self.count_exact = False
            return remembered
        queryset = self.queryset
        if not hasattr(queryset, "query"):
            return len(queryset)
        seen = queryset.order_by()[: limit + 1].count()
        if seen <= limit:
            return seen
        estimate = max(_planner_estimate(queryset) or 0, seen)
        self.count_exact = False
        _remember_estimate(key, estimate)
        return estimate

    def _get_page(self, *args, **kwargs):
        return _Page(*args, **kwargs)

    def page(self, number):
        """The page, with `bottom` and `top`: the slice of the list it shows. Its object_list is
        the queryset's slice, built when first read (never, when the caller reads the rows of
        the same slice another way)."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.count_exact and top + self.orphans >= self.count:
            top = self.count
        page = self._get_page(_Slice(self, bottom, top), number, self)
        page.bottom, page.top = bottom, top
        return page

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

    def page_of(self, queryset, request, view=None, *, count_key: tuple | None = None) -> Page:
        """DRF's paginate_queryset without reading the page: the Page, its object_list a lazy
        slice, so the caller may read the same slice (`page.bottom`, `page.top`) of another
        queryset instead. `queryset` and `count_key`: see CappedCountPaginator."""
        self.request = request
        paginator = self.django_paginator_class(queryset, self.get_page_size(request), count_key=count_key)
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise NotFound(self.invalid_page_message.format(page_number=page_number, message=str(exc))) from None
        return self.page

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
