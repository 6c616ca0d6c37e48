"""The API's JSON parser: DRF's, with a cap on size and on nesting.

A body is read up to DATA_UPLOAD_MAX_MEMORY_SIZE and no further (413 past it), however it is
sent: DRF reads the request stream itself, so Django's own check on `request.body` does not
always apply. Nesting is capped because the JSON decoder, and every serializer and json.dumps
after it, recurse once per level: "[" * 100_000 would otherwise end in a RecursionError (500).
"""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

# Far more than any request body of this API needs (video template data is the deepest).
MAX_JSON_DEPTH = 32


class RequestTooLarge(APIException):
    # Here rather than in api.errors, which imports DRF's views, which import this module.
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes.")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = _read_capped(stream, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        try:
            document = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        if _deeper_than(document, MAX_JSON_DEPTH):
            raise _too_deep()
        return document


def _too_deep() -> ParseError:
    return ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")


def _read_capped(stream, limit: int | None) -> bytes:
    if limit is None:
        return stream.read()
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise RequestTooLarge(limit)
    return body


def _deeper_than(document, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels; without recursion."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
