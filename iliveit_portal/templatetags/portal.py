"""The portal's one way of showing a time: `{{ value|when }}`.

Every page shows times the same way, in TIME_ZONE: "2026-12-06 14:02", with the full time, its
offset and the zone's name on hover, and a machine-readable <time datetime>. `when_seconds`
adds the seconds, for timelines where the order within a minute matters."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

FORMAT = "%Y-%m-%d %H:%M"
FORMAT_SECONDS = "%Y-%m-%d %H:%M:%S"


def local_time(value: datetime) -> datetime:
    """`value` in the portal's TIME_ZONE (a naive one is taken to be in it already)."""
    return timezone.localtime(value) if timezone.is_aware(value) else value


def time_text(value: datetime, *, seconds: bool = False) -> str:
    """The text the pages show for `value`, for a message or a CSV cell as well."""
    return local_time(value).strftime(FORMAT_SECONDS if seconds else FORMAT)


@register.filter
def when(value: datetime | None, seconds: bool = False) -> str:
    if value is None or value == "":
        return "—"
    local = local_time(value)
    zone = timezone.get_current_timezone_name()
    return format_html(
        '<time datetime="{}" title="{} ({})">{}</time>',
        local.isoformat(timespec="seconds"),
        local.strftime("%Y-%m-%d %H:%M:%S %z"),
        zone,
        time_text(local, seconds=seconds),
    )


@register.filter
def when_seconds(value: datetime | None) -> str:
    return when(value, seconds=True)
