"""What the OpenAPI schema says beyond what drf-spectacular reads from the views: the token
scheme, the Idempotency-Key header and the error answers."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from api.idempotency import HEADER, MAX_KEY_LENGTH
from api.serializers.errors import ErrorSerializer


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API token: `Authorization: Bearer ilv_…` (`Token ilv_…` works too). "
                "Make one with `manage.py apitoken create`."
            ),
        }


IDEMPOTENCY_KEY = OpenApiParameter(
    name=HEADER,
    type={
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[\\x20-\\x7e]+$",
    },
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        f"Up to {MAX_KEY_LENGTH} printable ASCII characters, unique per request you mean. "
        "A retry with the same key and body acts once and gets the first answer again "
        "(with `Idempotent-Replayed: true`); the same key with another body answers 422; "
        "while the first is running, 409. Keys are kept 24 hours."
    ),
)

_DESCRIPTIONS = {
    400: "Invalid input; `error.fields` names each bad field.",
    401: "No valid token or session.",
    403: "Your role may not do this.",
    404: "No such object among those your application grants let you see.",
    409: "The object's state refuses it, or the same Idempotency-Key is still in progress.",
    415: "The body is not JSON.",
    422: "The Idempotency-Key was used with a different request.",
    429: "Rate limit reached; see Retry-After.",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error answers in the one error shape, for extend_schema's `responses`."""
    common = (401, 403, 429)
    return {
        status: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[status])
        for status in sorted({*common, *statuses})
    }
