"""Saving helpers of the compose pages that are worth checking on their own."""

import pytest

from messaging.compose import attachment_display_name


@pytest.mark.parametrize(
    ("uploaded", "shown"),
    [
        ("terms.pdf", "terms.pdf"),
        ("C:\\Users\\ann\\terms.pdf", "terms.pdf"),
        ("terms\r\nBcc: x@y.z.pdf", "termsBcc: x@y.z.pdf"),
        ("terms\u2028\u2029\x85\x1c\x7f.pdf", "terms.pdf"),
        ("\t\n", "attachment"),
    ],
)
def test_an_attachment_name_keeps_no_character_that_could_break_its_header(uploaded, shown):
    assert attachment_display_name(uploaded) == shown
