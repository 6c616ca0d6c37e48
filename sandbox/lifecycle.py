"""A message's way through the pipeline, one stage per step, with postbacks at each change.

`plan_lifecycle` decides the whole story at acceptance (a pure function of the message, its
magic recipient and the step); `Lifecycle` puts each change on the scheduler and, when it falls
due, stores it and hands the postback to the dispatcher.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.magic import TEMPLATE_ERROR_BUILD_TEMPLATE, Magic
from sandbox.postbacks import REPLY, PostbackDispatcher
from sandbox.replies import reply_packet
from sandbox.scheduler import Scheduler
from sandbox.status import PIPELINE_CODES, POSTBACK_TYPE_OF_STAGE, Stage, rfc3339, utcnow
from sandbox.store import Message, Store
from sandbox.validation import ARCHIVE_ACTION

# Submission failures that only an MMS (or a video sent as MMS) can hit.
MMS_ONLY_SUBMIT_FAILURES: dict[Magic | None, int] = {
    Magic.NOT_MMS: 9,
    Magic.SCRUB_FAILS: 8,
    Magic.NOT_MMS_PROVISIONED: 18,
}
ANY_SUBMIT_FAILURES: dict[Magic | None, int] = {
    Magic.NO_NETWORK: 11,
    Magic.INVALID: 16,
}
DELIVERY_OUTCOMES: dict[Magic | None, tuple[int, str]] = {
    Magic.DELIVERY_FAILS: (2, "Delivery failed"),
    Magic.BOUNCE: (2, "Bounced"),
    Magic.ASSUMED_DELIVERED: (12, "Assumed Delivered"),
}
REPLY_TEXT = "STOP"


@dataclass(frozen=True)
class StageChange:
    due: datetime
    stage: str  # build | archive | submit | sent | delivered
    code: int
    description: str


@dataclass(frozen=True)
class Plan:
    changes: tuple[StageChange, ...]
    reply_at: datetime | None = None


def plan_lifecycle(message: Message, step_seconds: float) -> Plan:
    sub = message.submission
    step = timedelta(seconds=step_seconds)
    changes: list[StageChange] = []

    def change(steps: int, stage: str, code: int, description: str | None = None) -> None:
        due = message.starts_at + steps * step
        changes.append(StageChange(due, stage, code, description or PIPELINE_CODES[code]))

    first = 0
    if sub.kind == "video":
        change(0, "build", 13)
        if sub.template == TEMPLATE_ERROR_BUILD_TEMPLATE:
            change(1, "build", 10)
            return Plan(tuple(changes))
        if message.magic is Magic.BUILD_FAILS:
            change(1, "build", 12)
            return Plan(tuple(changes))
        change(1, "build", 14)
        first = 2  # the built message then starts its own lifecycle, one step later

    change(first, "submit", 1)
    change(first + 1, "archive", 4)
    if sub.action == ARCHIVE_ACTION:
        return Plan(tuple(changes))

    submit_failure = ANY_SUBMIT_FAILURES.get(message.magic)
    if sub.message_type == "mms":
        submit_failure = MMS_ONLY_SUBMIT_FAILURES.get(message.magic, submit_failure)
    submit_at = message.starts_at + (first + 2) * step
    if sub.submit_not_after and submit_at > sub.submit_not_after:
        change(first + 2, "submit", 3, "Send window expired")
        return Plan(tuple(changes))
    if submit_failure:
        change(first + 2, "submit", submit_failure)
        return Plan(tuple(changes))
    change(first + 2, "submit", 2)

    if message.magic is Magic.SENT_FAILS:
        change(first + 3, "sent", 2, "Network rejected")
        return Plan(tuple(changes))
    change(first + 3, "sent", 1, "Sent")

    code, description = DELIVERY_OUTCOMES.get(message.magic, (1, "Delivered"))
    change(first + 4, "delivered", code, description)
    reply_at = None
    if message.magic is Magic.REPLIES:
        reply_at = message.starts_at + (first + 5) * step
    return Plan(tuple(changes), reply_at)


class Lifecycle:
    def __init__(self, store: Store, scheduler: Scheduler, dispatcher: PostbackDispatcher) -> None:
        self._store = store
        self._scheduler = scheduler
        self._dispatcher = dispatcher

    def start(self, message: Message, step_seconds: float) -> None:
        plan = plan_lifecycle(message, step_seconds)
        now = utcnow()
        last = len(plan.changes) - 1
        for index, change in enumerate(plan.changes):
            apply = functools.partial(self._apply, message, change, index == last)
            self._scheduler.call_later((change.due - now).total_seconds(), apply)
        if plan.reply_at is not None:
            reply = functools.partial(self._reply_if_present, message, REPLY_TEXT)
            self._scheduler.call_later((plan.reply_at - now).total_seconds(), reply)

    def send_reply(self, message: Message, text: str) -> None:
        self._dispatcher.post(
            message_id=message.message_id,
            postback_type=REPLY,
            url=message.submission.postback_reply_url,
            body=reply_packet(message, text),
        )

    def _reply_if_present(self, message: Message, text: str) -> None:
        if message.submission.postback_reply_url and self._store.get(message.message_id):
            self.send_reply(message, text)

    def _apply(self, message: Message, change: StageChange, is_last: bool) -> None:
        stage = Stage(change.code, change.description, rfc3339(utcnow()))
        status = self._store.set_stage(message.message_id, change.stage, stage, last=is_last)
        if status is None:
            return  # reset since the message was accepted
        sub = message.submission
        postback_type = POSTBACK_TYPE_OF_STAGE[change.stage]
        wanted = postback_type in sub.postback_status_types and sub.postback_status_url
        if wanted and message.magic is not Magic.SILENT:
            self._dispatcher.post(
                message_id=message.message_id,
                postback_type=postback_type,
                url=sub.postback_status_url,
                body={**status, "postback_type": postback_type},
                copies=2 if message.duplicate_postbacks else 1,
                hold=message.reorder_postbacks,
            )
        if is_last:
            self._dispatcher.release(message.message_id)
