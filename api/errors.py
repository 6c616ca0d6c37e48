"""Every API error in one shape:

    {"error": {"code": "...", "message": "...", "fields": {"field": ["..."]}}}

`code` is stable for programs, `message` is for people, and `fields` (validation errors only)
names each bad input, nested ones with dots ("slides.0.text", "recipients.3").
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.exceptions import APIException, ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from api.parsers import RequestTooLarge

logger = logging.getLogger(__name__)

NON_FIELD_KEYS = ("non_field_errors", "detail")


class Conflict(APIException):
    """The request is valid but the object's state refuses it (a service's CampaignError)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the object's current state."
    default_code = "conflict"


class IdempotencyInProgress(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "A request with this Idempotency-Key is still in progress; retry it in a moment."
    )
    default_code = "idempotency_in_progress"


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request."
    default_code = "idempotency_key_reused"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    error: dict = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def api_exception_handler(exc, context):
    # As DRF's handler does, so that the code below sees the API exception it answers with.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django's own check, wherever something read request.body.
        exc = RequestTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    response = exception_handler(exc, context)
    if response is None:
        # A bug: logged with its traceback for us, answered in the same shape for the client
        # (and never with the exception's text, which may name internals).
        logger.error("API %s failed", context["request"].path, exc_info=exc)
        set_rollback()
        return Response(
            error_body("server_error", "The server failed to answer; try again later."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, ValidationError):
        response.data = _validation_body(exc.detail)
    else:
        detail = getattr(exc, "detail", None)
        code = _first_code(detail) or getattr(exc, "default_code", "error")
        response.data = error_body(code, _text(detail) or str(exc))
    return response


def _validation_body(detail) -> dict:
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    _flatten(detail, "", fields, general)
    message = " ".join(general) if general else "The request has invalid fields."
    return error_body("invalid", message, fields)


def _flatten(detail, path: str, fields: dict[str, list[str]], general: list[str]) -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            if not path and key in NON_FIELD_KEYS:
                _flatten(value, "", {}, general)
                continue
            _flatten(value, f"{path}.{key}" if path else str(key), fields, general)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            if path:
                fields.setdefault(path, []).extend(str(item) for item in detail)
            else:
                general.extend(str(item) for item in detail)
            return
        for index, item in enumerate(detail):
            if item:  # list validation gives {} for the items that were fine
                _flatten(item, f"{path}.{index}" if path else str(index), fields, general)
    elif path:
        fields.setdefault(path, []).append(str(detail))
    else:
        general.append(str(detail))


def _first_code(detail) -> str:
    if isinstance(detail, ErrorDetail):
        return detail.code or ""
    if isinstance(detail, dict):
        detail = list(detail.values())
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return ""


def _text(detail) -> str:
    if isinstance(detail, dict):
        return " ".join(_text(value) for value in detail.values())
    if isinstance(detail, list):
        return " ".join(_text(item) for item in detail)
    return str(detail) if detail is not None else ""


@csrf_exempt  # it changes nothing; a POST to a wrong URL must still get the JSON 404
def api_not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any /api/v1/ URL that names no endpoint: JSON like every other API error, not a page."""
    return JsonResponse(
        error_body("not_found", f"No API endpoint at {request.path}."),
        status=status.HTTP_404_NOT_FOUND,
    )
