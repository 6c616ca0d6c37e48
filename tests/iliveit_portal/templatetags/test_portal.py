"""Times on every page: one format, in TIME_ZONE, the offset on hover."""

from datetime import UTC, datetime

from django.template import Context, Template

AT = datetime(2026, 12, 6, 12, 2, 9, tzinfo=UTC)


def render(text: str, **context) -> str:
    return Template("{% load portal %}" + text).render(Context(context))


def test_a_time_is_shown_in_the_portals_zone_with_its_offset_on_hover(settings):
    settings.TIME_ZONE = "Africa/Johannesburg"

    assert render("{{ at|when }}", at=AT) == (
        '<time datetime="2026-12-06T14:02:09+02:00" '
        'title="2026-12-06 14:02:09 +0200 (Africa/Johannesburg)">2026-12-06 14:02</time>'
    )


def test_a_timeline_shows_seconds_and_a_missing_time_a_dash(settings):
    settings.TIME_ZONE = "UTC"

    assert ">2026-12-06 12:02:09</time>" in render("{{ at|when_seconds }}", at=AT)
    assert render("{{ at|when }}", at=None) == "—"


def test_what_django_draws_itself_shows_the_same_format(settings):
    settings.TIME_ZONE = "UTC"

    assert render("{{ at }}", at=AT) == "2026-12-06 12:02"
