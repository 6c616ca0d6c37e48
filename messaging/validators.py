"""Field validators shared by the compose forms and the API's serializers.

Each one wraps a rule of the iLiveIt client's own validation (messaging/iliveit/validation.py),
which every send passes through, so a page, the API and the client refuse the same values.
"""

from django.core.exceptions import ValidationError

from messaging.iliveit.validation import header_text_is_safe


def validate_header_text(value: str) -> None:
    """Subjects, sender names and reply-to addresses become mail and MMS headers, where a line
    break would start a header of the sender's choosing ("Bcc: ...")."""
    if not header_text_is_safe(value):
        raise ValidationError(
            "Line breaks and control characters are not allowed.", code="header_unsafe"
        )
