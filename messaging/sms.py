"""How long an SMS is on the air: its characters and the number of parts a network sends.

A text that fits the GSM 03.38 alphabet goes as 7-bit characters: 160 in one SMS, or 153 per
part once it has to be split (the rest of each part is the concatenation header). One
character outside it (an emoji, a curly quote) turns the whole text into UCS-2: 70 in one
SMS, 67 per part. The extension table (€, [, ] ...) costs two GSM characters each, because it is
sent as an escape followed by the character. compose.js counts the same way, from the same
alphabet (passed to the page as JSON), so the live count and this one agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"

GSM7 = "GSM-7"
UCS2 = "UCS-2"
Encoding = Literal["GSM-7", "UCS-2"]

# Characters in a single SMS, and per part of a concatenated one.
LIMITS: dict[str, tuple[int, int]] = {GSM7: (160, 153), UCS2: (70, 67)}

_BASIC = frozenset(GSM7_BASIC)
_EXTENSION = frozenset(GSM7_EXTENSION)


@dataclass(frozen=True)
class SegmentCount:
    characters: int  # in the encoding's units: GSM septets, or UTF-16 code units
    segments: int
    encoding: Encoding

    @property
    def single_limit(self) -> int:
        return LIMITS[self.encoding][0]


def sms_segments(text: str) -> SegmentCount:
    if all(character in _BASIC or character in _EXTENSION for character in text):
        encoding: Encoding = GSM7
        costs = [2 if character in _EXTENSION else 1 for character in text]
    else:
        encoding = UCS2
        # Characters beyond the Basic Multilingual Plane (most emoji) take a surrogate pair.
        costs = [2 if ord(character) > 0xFFFF else 1 for character in text]
    single, per_part = LIMITS[encoding]
    return SegmentCount(
        characters=sum(costs), segments=_segments(costs, single, per_part), encoding=encoding
    )


def _segments(costs: list[int], single: int, per_part: int) -> int:
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    # An escape pair or a surrogate pair is never split across two parts, so a part may end
    # one unit short; packing character by character counts that.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            segments += 1
            used = 0
        used += cost
    return segments


def gsm_alphabet() -> dict[str, object]:
    """What compose.js needs to count like sms_segments (rendered with json_script)."""
    return {"basic": GSM7_BASIC, "extension": GSM7_EXTENSION, "limits": LIMITS}
