"""The public unsubscribe page: where `{{ unsubscribe_url }}` in an email leads. No sign-in.

GET only shows whom the link unsubscribes from what and asks for confirmation: mail filters
and link scanners follow every link in an email, and must not opt anyone out. POST opts out,
through messaging.optouts (audited, source "unsubscribe"); posting again changes nothing.
The link is signed (messaging/unsubscribe_links.py), so a forged or altered one answers 404,
as does one whose application is gone. Django's CSRF check stays on: the form carries the
token and its cookie, which need no session.
"""

from __future__ import annotations

import hashlib
import logging

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from iliveit_portal.client_address import client_address
from messaging.models import Application, OptOut, OptOutSource
from messaging.optouts import opt_out_record
from messaging.unsubscribe_links import unsubscribe_token_read

logger = logging.getLogger(__name__)

# Confirmations one client address may post in THROTTLE_WINDOW_S. A person needs one; the
# limit only stops a script from hammering the page (a signed link cannot be guessed, so
# this guards the database, not the list). Generous, since many people share an office NAT.
POSTS_ALLOWED = 30
THROTTLE_WINDOW_S = 600


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = unsubscribe_token_read(token)
    if found is None:
        raise Http404("This unsubscribe link is not valid.")
    application_id, recipient = found
    application = Application.objects.filter(pk=application_id).first()
    if application is None:
        raise Http404("This unsubscribe link is not valid.")
    context = {"application_name": application.name, "recipient": recipient_masked(recipient)}
    if request.method == "POST":
        if _throttled(request):
            return render(request, "messaging/unsubscribe_throttled.html", context, status=429)
        opt_out_record(
            application=application,
            recipient=recipient,
            source=OptOutSource.UNSUBSCRIBE,
            reason="unsubscribe link",
        )
        return render(request, "messaging/unsubscribe.html", {**context, "done": True})
    already = OptOut.objects.filter(application=application, recipient=recipient).exists()
    response = render(request, "messaging/unsubscribe.html", {**context, "already": already})
    # Not for search engines, should a link ever be posted somewhere public.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def recipient_masked(recipient: str) -> str:
    """Enough of the recipient for its owner to recognise, too little for anyone else who
    sees the page over their shoulder or in a forwarded email: "th••••@example.com",
    "+2782•••••567"."""
    if "@" in recipient:
        local, domain = recipient.rsplit("@", 1)
        shown = 1 if len(local) <= 3 else 2
        return f"{local[:shown]}{'•' * max(3, min(len(local) - shown, 8))}@{domain}"
    if len(recipient) < 8:
        return "•" * len(recipient)
    return f"+{recipient[:4]}{'•' * (len(recipient) - 7)}{recipient[-3:]}"


def throttle_key(address: str) -> str:
    # Hashed: the cache is shared, and an address is personal data.
    return "unsubscribe-posts:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def _throttled(request: HttpRequest) -> bool:
    key = throttle_key(client_address(request))
    try:
        # add() starts the window on the first post; incr() does not extend it.
        cache.add(key, 0, timeout=THROTTLE_WINDOW_S)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, timeout=THROTTLE_WINDOW_S)
            count = 1
    except Exception:
        # Without the cache (Redis down) the opt-out still counts more than the throttle.
        logger.warning("unsubscribe throttle unavailable", exc_info=True)
        return False
    return count > POSTS_ALLOWED
