"""The beat's sweep: applying what lost drains left behind, settling unknown outcomes by what
was heard, then messaging's own round. It lives in postbacks, above messaging, because it
judges messages by the postbacks stored for them."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from iliveit_portal.health import beat_seen
from messaging.models import Message, MessageState
from messaging.services import messages_sweep
from postbacks.drain import postbacks_sweep
from postbacks.models import PostbackInbox
from postbacks.services import inbox_resolve_pending


def portal_sweep() -> dict[str, int]:
    """One sweep round (beat, every SWEEP_INTERVAL_S); answer counts by what was done."""
    beat_seen()
    # Postbacks first: one that adopts a MessageID settles a message the rest of the round
    # would otherwise re-queue.
    swept = postbacks_sweep()
    swept["uncertain_requeued"] = messages_requeue_unheard()
    return {**swept, **messages_sweep()}


def messages_requeue_unheard() -> int:
    """Queue again the messages whose outcome is unknown and about which nothing at all was
    heard within RECONCILE_UNCERTAIN_AFTER_S: iLiveIt never accepted them."""
    # Postbacks the drains have not reached yet still count as heard.
    inbox_resolve_pending()
    now = timezone.now()
    # Any postback on its own URL proves it was accepted. NOT EXISTS rather than a join, so
    # that the state and MessageID are checked again on a row a postback adopts meanwhile
    # (see messaging.services.submit._claim).
    heard = PostbackInbox.objects.filter(message_id=OuterRef("pk"))
    return Message.objects.filter(
        ~Exists(heard),
        state=MessageState.UNCERTAIN,
        iliveit_id__isnull=True,
        # Queued again, a resend would go out as a new message instead; it stays unknown.
        resent_from__isnull=True,
        updated_at__lt=now - timedelta(seconds=settings.RECONCILE_UNCERTAIN_AFTER_S),
    ).update(state=MessageState.QUEUED, next_attempt_at=None, updated_at=now)
