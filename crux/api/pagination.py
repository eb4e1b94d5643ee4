"""Page-number pagination, with the total counted in the page's query."""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from rest_framework import pagination


class Pagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 500


TOTAL = "crux_window_total"

# SQLite and PostgreSQL take LIMIT and OFFSET as signed 64-bit integers; past that a query
# fails (a 500) where the page is simply out of range: no table holds that many rows.
MAX_ROW = 2**63 - 1


class WindowCountPaginator(Paginator):
    """Fetches a page and the total in one query: ``COUNT(*) OVER ()`` on each row of the page.

    Django's paginator asks the database twice (a ``COUNT`` then the rows); on a busy list the
    second round trip and the second compiled query are a good part of the cost. Only a page
    past the end (no rows) still counts on its own, to tell "empty" from "out of range".
    """

    def page(self, number: Any) -> Page:
        number = self._page_number(number)
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > MAX_ROW:
            raise EmptyPage(self.error_messages["no_results"])
        if not isinstance(self.object_list, QuerySet):
            raise TypeError("WindowCountPaginator pages a queryset (it counts in SQL)")
        counted = self.object_list.annotate(**{TOTAL: Window(Count("*"))})
        rows = list(counted[bottom : bottom + self.per_page])
        if rows:
            first = rows[0]
            total = first[TOTAL] if isinstance(first, dict) else getattr(first, TOTAL)
            self.__dict__["count"] = total  # Paginator.count is a cached property
            for row in rows:
                if isinstance(row, dict):
                    del row[TOTAL]
        return Page(rows, self.validate_number(number), self)

    def _page_number(self, number: Any) -> int:
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class WindowCountPagination(Pagination):
    django_paginator_class = WindowCountPaginator
