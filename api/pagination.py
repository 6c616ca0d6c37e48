"""Cursor pages ordered by id, newest first: stable while rows are added, no OFFSET, no COUNT."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

MAX_PAGE_SIZE = 200


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # The position goes straight into an id comparison; a forged one must not reach SQL.
        if cursor is not None and cursor.position is not None:
            try:
                int(cursor.position)
            except ValueError:
                raise NotFound(self.invalid_cursor_message) from None
        return cursor
