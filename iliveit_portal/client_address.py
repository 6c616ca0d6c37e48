"""The address of the client behind a request: one answer for every place that needs it
(sign-in throttling, the API's throttle, the postback log, /metrics).

Behind a proxy (BEHIND_PROXY) every request comes from the proxy's own address, and the
client's is in X-Forwarded-For, to which each proxy appends the address it got the request
from. Entries further left are whatever the client chose to send, so only the one
TRUSTED_PROXY_COUNT hops from the right is believed: the one our outermost proxy wrote.
Without BEHIND_PROXY (TRUSTED_PROXY_COUNT is then 0) the header is ignored.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not hops or not forwarded:
        return peer
    entries = forwarded.split(",")
    if len(entries) < hops:
        # It did not pass through every proxy, so no entry is one of theirs.
        return peer
    try:
        return str(ipaddress.ip_address(entries[-hops].strip()))
    except ValueError:  # not an address our proxy would write (a port, say): trust nothing
        return peer
