"""Field validators shared by the compose forms and the API's serializers.

Each one wraps a rule of the iLiveIt client's own validation (iliveit/validation.py),
which every send passes through, so a page, the API and the client refuse the same values.
"""

from datetime import date

from django.core.exceptions import ValidationError

from iliveit.validation import header_text_is_safe
from messaging.placeholders import PlaceholderError, placeholders_check


def validate_header_text(value: str) -> None:
    """Subjects, sender names and reply-to addresses become mail and MMS headers, where a line
    break would start a header of the sender's choosing ("Bcc: ...")."""
    if not header_text_is_safe(value):
        raise ValidationError(
            "Line breaks and control characters are not allowed.", code="header_unsafe"
        )


def validate_placeholders(value: str) -> None:
    """Content with placeholders ({{ first_name }}) must compile in the placeholder engine,
    which refuses tags, dotted names and every filter but default; the error names the line."""
    try:
        placeholders_check(value)
    except PlaceholderError as error:
        raise ValidationError(str(error), code="placeholder") from None


# A filter day becomes a range of aware datetimes from its midnight to the next day's: at the
# calendar's ends that is a date Python cannot hold (the day after 9999-12-31, or 0001-01-01
# moved to UTC from east of Greenwich). Campaigns live well inside these bounds.
EARLIEST_FILTER_DAY = date(1900, 1, 1)
LATEST_FILTER_DAY = date(9998, 12, 31)


def validate_filter_day(day: date) -> None:
    if not EARLIEST_FILTER_DAY <= day <= LATEST_FILTER_DAY:
        raise ValidationError(
            f"Choose a day from {EARLIEST_FILTER_DAY.year} to {LATEST_FILTER_DAY.year}.",
            code="day_out_of_range",
        )
