"""Taking in postbacks: store first, then apply through the status merge."""

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from iliveit import STAGES, MalformedStatus, StatusResult
from iliveit_portal import metrics as portal_metrics
from iliveit_portal.bulk import row_insert, rows_update
from messaging.models import Message, MessageState
from messaging.states import ADOPTS_ID
from postbacks.merge import MessageStatus, Stage, merge_status
from postbacks.models import EventSource, InboxKind, InboxState, MessageEvent, PostbackInbox
from postbacks.opt_outs import opt_out_bounces

logger = logging.getLogger(__name__)

# iLiveIt promises each postback within an hour of the change it reports.
PROMISED_WITHIN = timedelta(hours=1)
# The largest value MessageEvent.late_by_s (a PositiveIntegerField) holds on every database.
LATE_BY_MAX_S = 2_147_483_647


def postback_store(
    *,
    kind: str,
    body: bytes,
    truncated: bool,
    headers: dict,
    source_ip: str | None,
    ref: str = "",
    message: Message | None = None,
) -> PostbackInbox:
    """Commit the raw postback; nothing else may stand between iLiveIt and its 200.

    The webhook passes the ref from its signed URL and leaves finding the message to
    postbacks_apply; a caller that has the message may pass it instead.
    """
    row = PostbackInbox(
        ref=ref or (message.ref if message else ""),
        message=message,
        kind=kind,
        body=body,
        truncated=truncated,
        headers=headers,
        source_ip=source_ip,
    )
    row_insert(row)
    return row


def inbox_resolve(rows: list[PostbackInbox]) -> None:
    """Find the message of each row stored by ref alone (one query for all of them); a row
    whose message is gone keeps none."""
    refs = {row.ref for row in rows if row.message_id is None and row.ref}
    if not refs:
        return
    ids = dict(Message.objects.filter(ref__in=refs).values_list("ref", "pk"))
    for row in rows:
        if row.message_id is None and row.ref in ids:
            row.message_id = ids[row.ref]


def inbox_resolve_pending() -> int:
    """Link every stored postback not yet applied to its message, in one statement: what
    has been heard from iLiveIt about a message must count before it is applied (a message
    whose outcome is unknown is sent again only if nothing at all came on its URL)."""
    message = Message.objects.filter(ref=OuterRef("ref")).values("pk")[:1]
    unlinked = PostbackInbox.objects.filter(
        state__in=(InboxState.PENDING, InboxState.WAITING), message__isnull=True
    ).exclude(ref="")
    return unlinked.update(message_id=Subquery(message))


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


def events_known(message_ids) -> dict[int, set[tuple]]:
    """Each message's recorded (stage, code, stage time) reports."""
    known: dict[int, set[tuple]] = {pk: set() for pk in message_ids}
    rows = (
        MessageEvent.objects.filter(message_id__in=list(known))
        .values_list("message_id", "stage", "code", "stage_at")
        .order_by()
    )
    for message_id, *key in rows:
        known[message_id].add(tuple(key))
    return known


def _new_events(
    message: Message, result: StatusResult, known: set[tuple], *, source: str, now
) -> list[MessageEvent]:
    """An event for each stage report not already in `known` (which it extends). The caller
    holds the message's row lock, so the check cannot race."""
    events = []
    for name in STAGES:
        report = getattr(result, name)
        if report is None or (name, report.code, report.timestamp) in known:
            continue
        known.add((name, report.code, report.timestamp))
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
    return events


def _status_columns(message: Message) -> tuple:
    return tuple(getattr(message, column) for column in STATUS_FIELDS)


def _merge_into(
    message: Message, result: StatusResult, known: set[tuple], *, source: str, now
) -> tuple[list[MessageEvent], bool]:
    """Merge one StatusResult into a locked message in memory; answer the new events and
    whether the message changed (the caller saves both)."""
    before = _status_columns(message)
    if message.iliveit_id is None:
        message.iliveit_id = result.message_id
        message.submitted_at = message.submitted_at or now
    events = _new_events(message, result, known, source=source, now=now)
    _write_status(message, merge_status(status_of(message), result))
    if result.network:
        message.network = result.network[:64]
    changed = _status_columns(message) != before
    if changed:
        message.updated_at = now
    return events, changed


def _auto_pause(campaign_ids: set) -> None:
    # Delivery failures count towards a campaign's auto-pause as much as refused submits.
    from messaging.services import campaign_auto_pause

    for campaign_id in campaign_ids - {None}:
        campaign_auto_pause(campaign_id=campaign_id)


def status_apply(*, message: Message, result: StatusResult, source: str) -> bool:
    """Merge one StatusResult into a locked message and save it; answer whether anything was
    new. The caller holds the message row (select_for_update) inside a transaction; a poll
    touches updated_at even without news, so the message is not polled again at once."""
    now = timezone.now()
    was = message.state
    known = events_known([message.pk])[message.pk]
    events, _ = _merge_into(message, result, known, source=source, now=now)
    MessageEvent.objects.bulk_create(events)
    opt_out_bounces(events)
    message.save(update_fields=[*STATUS_FIELDS, "updated_at"])
    if message.state == MessageState.FAILED and was != MessageState.FAILED:
        _auto_pause({message.campaign_id})
    return bool(events)


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
    for text in texts:
        if reason := text_unstorable(text):
            raise MalformedStatus(f"a text field {reason}")


def text_unstorable(text: str) -> str:
    """Why a text that a postback's JSON decoded to cannot be stored in a text column, or "".

    PostgreSQL refuses both a NUL and a lone surrogate ("\\ud800", valid JSON but no Unicode
    character): the whole batch failed on one, and the row stayed pending.
    """
    if "\x00" in text:
        return "holds a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a lone surrogate, which is no character"
    return ""


def _parse(body: bytes) -> StatusResult:
    # The client's StatusResult is the one parser of the wire form, and its rules (an unknown
    # postback_type among them) are the webhook's; only what our columns cannot hold is added.
    result = StatusResult.from_body(body)
    _check_storable(result)
    return result


def inbox_finish(inbox: PostbackInbox, state: str, reason: str = "", *, save: bool = True) -> None:
    first_taken = inbox.state == InboxState.PENDING
    inbox.state = state
    inbox.reason = reason[:255]
    # A waiting row is not processed yet: the sweeper and the submit path look for it.
    inbox.processed_at = None if state == InboxState.WAITING else timezone.now()
    if save:
        inbox.save(update_fields=["message", "state", "reason", "processed_at"])
        # Rows settled one at a time (replies) are counted here; _apply_batch counts its own.
        transaction.on_commit(
            lambda: portal_metrics.postbacks_settled(received=int(first_taken), states=[state])
        )


def inbox_take(inbox_id: int) -> tuple[PostbackInbox, bool]:
    """Lock a stored postback inside the caller's transaction; answer it and whether it still
    needs applying (a row already settled, or cut off by size and quarantined here, does not)."""
    inbox = PostbackInbox.objects.select_for_update().get(pk=inbox_id)
    if inbox.state not in (InboxState.PENDING, InboxState.WAITING):
        return inbox, False
    inbox_resolve([inbox])
    if inbox.truncated:
        inbox_finish(inbox, InboxState.QUARANTINED, "body over the size limit")
        return inbox, False
    return inbox, True


def _parsed_rows(rows: list[PostbackInbox]) -> dict[int, StatusResult]:
    """Each row's StatusResult; a row that has none is quarantined (in memory) instead."""
    parsed = {}
    for row in rows:
        if row.message_id is None:
            # Signed by us, but its message is gone (or it never named one).
            inbox_finish(row, InboxState.QUARANTINED, "no message", save=False)
            continue
        if row.truncated:
            inbox_finish(row, InboxState.QUARANTINED, "body over the size limit", save=False)
            continue
        try:
            parsed[row.pk] = _parse(bytes(row.body))
        except MalformedStatus as error:
            inbox_finish(row, InboxState.QUARANTINED, str(error), save=False)
    return parsed


def _names_another(message: Message, result: StatusResult) -> bool:
    if message.iliveit_id is not None:
        return message.iliveit_id != result.message_id
    # Adopting a MessageID that another message holds would break the unique constraint on
    # every retry; the body names that other message.
    return Message.objects.filter(iliveit_id=result.message_id).exists()


def postbacks_apply(*, inbox_ids) -> dict[int, str]:
    """Apply these stored status postbacks; answer the new state of each row this call
    settled (rows already settled, or held by another worker, are left out)."""
    return _apply_batch(PostbackInbox.objects.filter(pk__in=list(inbox_ids)))


def postbacks_apply_next(*, batch: int, skip: frozenset[int] = frozenset()) -> int:
    """Apply the oldest pending status postbacks that no other worker holds, at most `batch`
    of them and none in `skip`; answer how many were taken."""
    pending = PostbackInbox.objects.filter(state=InboxState.PENDING).exclude(pk__in=skip)
    return len(_apply_batch(pending, limit=batch))


# What applying reads of an inbox row and writes back; the headers and the rest stay unread.
INBOX_APPLY_FIELDS = (
    "ref",
    "message",
    "kind",
    "state",
    "truncated",
    "body",
    "reason",
    "processed_at",
)


def _apply_batch(candidates, *, limit: int | None = None) -> dict[int, str]:
    """Lock the candidate rows (skipping those another worker holds) and apply them in one
    transaction.

    One transaction for a batch is what lets a worker keep up with iLiveIt's postbacks: the
    messages are locked in id order (so two batches cannot deadlock), their known events read
    in one query, and the messages, events and inbox rows written in one statement each.
    Skipping locked rows is what lets several workers drain the inbox side by side.
    """
    now = timezone.now()
    with transaction.atomic():
        rows = (
            candidates.select_for_update(skip_locked=True)
            .filter(kind=InboxKind.STATUS, state__in=(InboxState.PENDING, InboxState.WAITING))
            .only(*INBOX_APPLY_FIELDS)
            .order_by("pk")
        )
        rows = list(rows[:limit] if limit else rows)
        if not rows:
            # Most calls of a sending round's announce find nothing waiting: the rest of a
            # batch's queries and its metrics round trip cost a third of a sending worker.
            return {}
        first_taken = sum(row.state == InboxState.PENDING for row in rows)
        inbox_resolve(rows)
        parsed = _parsed_rows(rows)
        message_ids = {row.message_id for row in rows if row.pk in parsed}
        messages = (
            Message.objects.filter(pk__in=message_ids)
            .locked()
            .only("campaign_id", *STATUS_FIELDS, "updated_at")
        )
        messages = {message.pk: message for message in messages}
        known = events_known(messages)
        was = {pk: message.state for pk, message in messages.items()}
        events, changed = [], set()
        for row in rows:
            result = parsed.get(row.pk)
            if result is None:
                continue
            message = messages[row.message_id]
            if message.iliveit_id is None and message.state not in ADOPTS_ID:
                # A submission is in flight; its task applies this row once it knows the id.
                inbox_finish(row, InboxState.WAITING, save=False)
                continue
            if _names_another(message, result):
                logger.warning(
                    "postback for message %s names MessageID %r; kept as suspicious",
                    message.pk,
                    result.message_id,
                )
                reason = f"names MessageID {result.message_id[:100]}"
                inbox_finish(row, InboxState.SUSPICIOUS, reason, save=False)
                continue
            new, moved = _merge_into(
                message, result, known[message.pk], source=EventSource.POSTBACK, now=now
            )
            events += new
            if moved:
                changed.add(message.pk)
            inbox_finish(row, InboxState.APPLIED if new else InboxState.DUPLICATE, save=False)
        MessageEvent.objects.bulk_create(events)
        # In the batch's transaction: a bounce and the address's suppression commit together.
        opt_out_bounces(events)
        rows_update([messages[pk] for pk in sorted(changed)], [*STATUS_FIELDS, "updated_at"])
        rows_update(rows, ["message", "state", "reason", "processed_at"])
    # Counted once the batch committed: one round trip per batch, never on the webhook.
    portal_metrics.postbacks_settled(received=first_taken, states=[row.state for row in rows])
    _auto_pause(
        {
            messages[pk].campaign_id
            for pk in changed
            if messages[pk].state == MessageState.FAILED and was[pk] != MessageState.FAILED
        }
    )
    return {row.pk: row.state for row in rows}


def postback_apply(*, inbox_id: int) -> str:
    """Apply one stored status postback; answer the inbox row's state afterwards."""
    applied = postbacks_apply(inbox_ids=[inbox_id])
    if inbox_id in applied:
        return applied[inbox_id]
    return PostbackInbox.objects.values_list("state", flat=True).get(pk=inbox_id)


def postbacks_release_waiting(*, message_ids: list[int]) -> int:
    """Hand back to the drains the postbacks that arrived before these messages' MessageIDs
    were known; answer how many. Called by the sending worker once a round is settled, so the
    applying is left to the postbacks worker: done here, it was 14% of the sending worker's
    CPU (py-spy --gil), and a campaign's sending slowed to make room for it.

    A row another transaction holds is skipped, not waited for: the sweep's linking statement
    locks rows in no order, and a release waiting for one of them while holding another
    deadlocked with it (bench/pipeline.py; the sending task failed and its chunk's other
    messages waited for the sweeper). A row skipped stays waiting until a drain that holds it,
    or the next sweep, applies it: both take waiting rows whose message has its MessageID."""
    if connection.vendor != "postgresql":
        # SQLite has no row locks: a writer holds the whole database.
        return PostbackInbox.objects.filter(
            message_id__in=message_ids, state=InboxState.WAITING, kind=InboxKind.STATUS
        ).update(state=InboxState.PENDING)
    # Django refuses a locking subquery outside a transaction, and a transaction would cost
    # two more round trips on every sending round for what is almost always no row at all.
    table = PostbackInbox._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s WHERE id IN ("  # noqa: S608 - the table's own name
            f"SELECT id FROM {table} WHERE message_id = ANY(%s) AND state = %s AND kind = %s "
            "FOR NO KEY UPDATE SKIP LOCKED)",
            [InboxState.PENDING, list(message_ids), InboxState.WAITING, InboxKind.STATUS],
        )
        return cursor.rowcount
