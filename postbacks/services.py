"""Taking in postbacks: store first, then apply through the status merge."""

import json
import logging
from datetime import timedelta

from django.db import models, transaction
from django.utils import timezone

from messaging.iliveit import MalformedStatus, PostbackType, StatusResult
from messaging.models import Message, MessageState
from postbacks.merge import STAGES, MessageStatus, Stage, merge_status
from postbacks.models import EventSource, InboxKind, InboxState, MessageEvent, PostbackInbox

logger = logging.getLogger(__name__)

# iLiveIt promises each postback within an hour of the change it reports.
PROMISED_WITHIN = timedelta(hours=1)
POSTBACK_TYPES = frozenset(str(kind) for kind in PostbackType)
# The largest value MessageEvent.late_by_s (a PositiveIntegerField) holds on every database.
LATE_BY_MAX_S = 2_147_483_647


def postback_store(
    *,
    message: Message,
    kind: str,
    body: bytes,
    truncated: bool,
    headers: dict,
    source_ip: str | None,
) -> PostbackInbox:
    """Commit the raw postback; nothing else may stand between iLiveIt and its 200."""
    return PostbackInbox.objects.create(
        message=message,
        kind=kind,
        body=body,
        truncated=truncated,
        headers=headers,
        source_ip=source_ip,
    )


def status_of(message: Message) -> MessageStatus:
    stages = {}
    for name in STAGES:
        code = getattr(message, f"{name}_code")
        if code is not None:
            stages[name] = Stage(
                code=code,
                description=getattr(message, f"{name}_description"),
                at=getattr(message, f"{name}_at"),
            )
    return MessageStatus(state=message.state, **stages)


STATUS_FIELDS = [
    "state",
    "network",
    "iliveit_id",
    "submitted_at",
    *(f"{name}_{suffix}" for name in STAGES for suffix in ("code", "description", "at")),
]


def _write_status(message: Message, status: MessageStatus) -> None:
    message.state = status.state
    for name in STAGES:
        stage = status.stage(name)
        if stage is not None:
            setattr(message, f"{name}_code", stage.code)
            setattr(message, f"{name}_description", stage.description[:255])
            setattr(message, f"{name}_at", stage.at)


def _record_events(message: Message, result: StatusResult, *, source: str, now) -> int:
    """Store each stage report as an event unless it is already known; answer how many were
    new. The caller holds the message's row lock, so the check cannot race."""
    known = set(
        MessageEvent.objects.filter(message=message).values_list("stage", "code", "stage_at")
    )
    events = []
    for name in STAGES:
        report = getattr(result, name)
        if report is None or (name, report.code, report.timestamp) in known:
            continue
        late = 0
        if source == EventSource.POSTBACK and report.timestamp is not None:
            late = max(0, int((now - report.timestamp - PROMISED_WITHIN).total_seconds()))
            # A stage dated decades back (a bad clock, or "0001-01-02") would overflow the
            # column and fail the whole apply on every sweep (PostgreSQL refuses it).
            late = min(late, LATE_BY_MAX_S)
        events.append(
            MessageEvent(
                message=message,
                stage=name,
                code=report.code,
                description=report.description[:255],
                stage_at=report.timestamp,
                source=source,
                late_by_s=late,
            )
        )
    MessageEvent.objects.bulk_create(events)
    return len(events)


def status_apply(*, message: Message, result: StatusResult, source: str) -> bool:
    """Merge one StatusResult into a locked message; answer whether anything was new.

    The caller holds the message row (select_for_update) inside a transaction.
    """
    now = timezone.now()
    if message.iliveit_id is None:
        message.iliveit_id = result.message_id
        message.submitted_at = message.submitted_at or now
    new_events = _record_events(message, result, source=source, now=now)
    was = message.state
    _write_status(message, merge_status(status_of(message), result))
    if result.network:
        message.network = result.network[:64]
    message.save(update_fields=[*STATUS_FIELDS, "updated_at"])
    if message.state == MessageState.FAILED and was != MessageState.FAILED:
        # Delivery failures count towards a campaign's auto-pause as much as refused submits.
        from messaging.services import campaign_auto_pause

        campaign_auto_pause(campaign_id=message.campaign_id)
    return new_events > 0


# What the Message and MessageEvent columns can hold (SmallIntegerField codes, a 128-character
# MessageID). A value beyond them would fail the row's save on every sweep (PostgreSQL refuses
# it; SQLite would store it), so such a body is quarantined instead.
CODE_RANGE = range(-32768, 32768)
MESSAGE_ID_MAX = 128


def _check_storable(result: StatusResult) -> None:
    if len(result.message_id) > MESSAGE_ID_MAX:
        raise MalformedStatus(f"message_id: longer than {MESSAGE_ID_MAX} characters")
    texts = [result.message_id, result.network]
    for name in STAGES:
        report = getattr(result, name)
        if report is None:
            continue
        if report.code not in CODE_RANGE:
            raise MalformedStatus(f"{name}_status: code {report.code} out of range")
        texts.append(report.description)
    if any("\x00" in text for text in texts):
        raise MalformedStatus("a text field holds a NUL character")


def _parse(body: bytes) -> StatusResult:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        # RecursionError: nesting deeper than the JSON decoder can follow.
        raise MalformedStatus(f"body is not JSON: {error}") from None
    result = StatusResult.from_json(document)
    # Keys compared as StatusResult reads them, so that "PostbackType" (Go case) counts too.
    raw_type = next(
        (v for k, v in document.items() if k.replace("_", "").lower() == "postbacktype"), None
    )
    if raw_type is not None and str(raw_type).strip().lower() not in POSTBACK_TYPES:
        raise MalformedStatus(f"postback_type: unknown type {raw_type!r}")
    _check_storable(result)
    return result


def inbox_finish(inbox: PostbackInbox, state: str, reason: str = "") -> None:
    inbox.state = state
    inbox.reason = reason[:255]
    inbox.processed_at = timezone.now()
    inbox.save(update_fields=["state", "reason", "processed_at"])


# States in which the message has no MessageID and no request in flight: a postback on its
# own URL proves iLiveIt accepted it, so the MessageID is adopted (the reconciliation of an
# unknown outcome, and of a message re-queued after one).
ADOPTS_ID = frozenset({MessageState.QUEUED, MessageState.UNCERTAIN})


def inbox_take(inbox_id: int) -> tuple[PostbackInbox, bool]:
    """Lock a stored postback inside the caller's transaction; answer it and whether it still
    needs applying (a row already settled, or cut off by size and quarantined here, does not)."""
    inbox = PostbackInbox.objects.select_for_update().get(pk=inbox_id)
    if inbox.state not in (InboxState.PENDING, InboxState.WAITING):
        return inbox, False
    if inbox.truncated:
        inbox_finish(inbox, InboxState.QUARANTINED, "body over the size limit")
        return inbox, False
    return inbox, True


def postback_apply(*, inbox_id: int) -> str:
    """Apply one stored status postback; answer the inbox row's new state."""
    with transaction.atomic():
        inbox, to_apply = inbox_take(inbox_id)
        if not to_apply:
            return inbox.state
        try:
            result = _parse(bytes(inbox.body))
        except MalformedStatus as error:
            inbox_finish(inbox, InboxState.QUARANTINED, str(error))
            return inbox.state
        message = Message.objects.select_for_update().get(pk=inbox.message_id)
        if message.iliveit_id is None and message.state not in ADOPTS_ID:
            # A submission is in flight; its task applies this row once it knows the id.
            inbox_finish(inbox, InboxState.WAITING)
            inbox.processed_at = None
            inbox.save(update_fields=["processed_at"])
            return inbox.state
        if message.iliveit_id is not None:
            names_another = message.iliveit_id != result.message_id
        else:
            # Adopting a MessageID that another message holds would break the unique
            # constraint on every retry; the body names that other message.
            names_another = Message.objects.filter(iliveit_id=result.message_id).exists()
        if names_another:
            logger.warning(
                "postback for message %s names MessageID %r; kept as suspicious",
                message.pk,
                result.message_id,
            )
            inbox_finish(inbox, InboxState.SUSPICIOUS, f"names MessageID {result.message_id[:100]}")
            return inbox.state
        is_new = status_apply(message=message, result=result, source=EventSource.POSTBACK)
        inbox_finish(inbox, InboxState.APPLIED if is_new else InboxState.DUPLICATE)
        return inbox.state


def postbacks_apply_waiting(*, message_ids: list[int]) -> None:
    """Apply the postbacks that arrived before these messages' MessageIDs were known."""
    waiting = PostbackInbox.objects.filter(
        message_id__in=message_ids, state=InboxState.WAITING, kind=InboxKind.STATUS
    ).values_list("pk", flat=True)
    for inbox_id in list(waiting):
        postback_apply(inbox_id=inbox_id)


def postbacks_sweep(*, older_than_s: float = 10.0) -> dict[str, int]:
    """Apply stored postbacks that were not applied: a crash after the 200, or a message whose
    MessageID has since become known."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    # Replies too: a reply stored but not applied before a crash is pending like a status.
    pending = PostbackInbox.objects.filter(state=InboxState.PENDING, received_at__lt=cutoff)
    waiting = PostbackInbox.objects.filter(state=InboxState.WAITING, kind=InboxKind.STATUS).filter(
        models.Q(message__iliveit_id__isnull=False) | models.Q(message__state__in=ADOPTS_ID)
    )
    from postbacks.replies import reply_apply  # it builds on this module

    apply = {InboxKind.STATUS: postback_apply, InboxKind.REPLY: reply_apply}
    applied = 0
    for inbox_id, kind in [
        *pending.values_list("pk", "kind")[:5000],
        *waiting.values_list("pk", "kind")[:5000],
    ]:
        try:
            apply[kind](inbox_id=inbox_id)
            applied += 1
        except Exception:
            logger.exception("postback %s could not be applied", inbox_id)
    return {"postbacks_applied": applied}
