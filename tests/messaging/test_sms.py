import pytest

from messaging.sms import GSM7_BASIC, GSM7_EXTENSION, SegmentCount, gsm_alphabet, sms_segments


def test_it_counts_nothing_for_an_empty_text():
    assert sms_segments("") == SegmentCount(characters=0, segments=0, encoding="GSM-7")


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_it_splits_gsm_text_at_160_then_153(length, segments):
    count = sms_segments("a" * length)
    assert count == SegmentCount(characters=length, segments=segments, encoding="GSM-7")


@pytest.mark.parametrize(
    ("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_it_splits_ucs2_text_at_70_then_67(length, segments):
    count = sms_segments("ж" * length)
    assert count == SegmentCount(characters=length, segments=segments, encoding="UCS-2")


def test_extension_characters_count_twice():
    assert sms_segments("€" * 80) == SegmentCount(characters=160, segments=1, encoding="GSM-7")
    assert sms_segments("€" * 81) == SegmentCount(characters=162, segments=2, encoding="GSM-7")
    assert sms_segments("[x]").characters == 5


def test_an_escape_pair_is_not_split_between_parts():
    # 306 septets would fit two parts of 153, but the € cannot straddle the first boundary.
    text = "a" * 152 + "€" + "a" * 152
    assert sms_segments(text) == SegmentCount(characters=306, segments=3, encoding="GSM-7")


def test_one_character_outside_gsm_makes_the_whole_text_ucs2():
    count = sms_segments("Hello ç")  # lower-case c-cedilla is not in GSM 03.38
    assert count == SegmentCount(characters=7, segments=1, encoding="UCS-2")
    assert sms_segments("Curly “quotes”").encoding == "UCS-2"


def test_an_emoji_takes_two_ucs2_units():
    assert sms_segments("😀") == SegmentCount(characters=2, segments=1, encoding="UCS-2")
    assert sms_segments("😀" * 35).segments == 1
    assert sms_segments("😀" * 36).segments == 2


def test_accented_letters_in_the_gsm_alphabet_stay_gsm():
    count = sms_segments("Café à Zürich, Ñandú? ¿Sí!")
    assert count.encoding == "UCS-2"  # "í" is not GSM
    assert sms_segments("Café à Zürich, Ñandu").encoding == "GSM-7"


def test_line_breaks_count_as_one_character():
    assert sms_segments("a\nb") == SegmentCount(characters=3, segments=1, encoding="GSM-7")


def test_every_gsm_character_is_gsm():
    assert sms_segments(GSM7_BASIC).encoding == "GSM-7"
    assert sms_segments(GSM7_EXTENSION).characters == 2 * len(GSM7_EXTENSION)


def test_the_page_gets_the_same_alphabet_and_limits():
    alphabet = gsm_alphabet()
    assert alphabet["basic"] == GSM7_BASIC
    assert alphabet["extension"] == GSM7_EXTENSION
    assert alphabet["limits"] == {"GSM-7": (160, 153), "UCS-2": (70, 67)}
