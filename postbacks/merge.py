"""The status merge: one pure function from a message's status and a StatusResult to the
new status.

Postbacks come twice and out of order, so the merge must give the same answer whatever order
the same reports arrive in: each stage keeps its newest report, and the overall state only
moves forward along ORDER. A failure is terminal.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from iliveit import (
    BUILD_DONE,
    DELIVERED_OK,
    NETWORK_OK,
    PIPELINE_FAILURES,
    STAGES,
    StageStatus,
    StatusResult,
)
from messaging.states import ORDER, TERMINAL, MessageState


@dataclass(frozen=True)
class Stage:
    code: int
    description: str
    at: datetime | None


@dataclass(frozen=True)
class MessageStatus:
    state: str
    build: Stage | None = None
    archive: Stage | None = None
    submit: Stage | None = None
    sent: Stage | None = None
    delivered: Stage | None = None

    def stage(self, name: str) -> Stage | None:
        return getattr(self, name)


def is_failure(stage: str, code: int) -> bool:
    if stage in ("build", "archive", "submit"):
        # build 12 is RenderFarmFailed; every pipeline failure code fails any pipeline stage.
        return code in PIPELINE_FAILURES
    if stage == "sent":
        return code not in NETWORK_OK
    return code not in DELIVERED_OK


def _rank(stage: str, report: Stage) -> tuple:
    # Newer wins; at the same instant a failure wins, then the higher code, so that the same
    # set of reports merges to the same result in any order.
    moment = report.at.timestamp() if report.at else float("-inf")
    return (moment, is_failure(stage, report.code), report.code, report.description)


def _newer(stage: str, current: Stage | None, incoming: Stage) -> bool:
    return current is None or _rank(stage, incoming) > _rank(stage, current)


def state_of(status: MessageStatus) -> str:
    """The overall state the stages alone imply."""
    for name in STAGES:
        stage = status.stage(name)
        if stage is not None and is_failure(name, stage.code):
            return MessageState.FAILED
    if status.delivered is not None:
        return MessageState.DELIVERED
    if status.sent is not None:
        return MessageState.SENT
    if status.build is not None and status.build.code == BUILD_DONE:
        return MessageState.BUILT
    return MessageState.SUBMITTED


def _forward(current: str, implied: str) -> str:
    if current in TERMINAL:
        return current
    if implied in TERMINAL:
        return implied
    return max(current, implied, key=ORDER.index)


def _from_report(report: StageStatus) -> Stage:
    return Stage(code=report.code, description=report.description, at=report.timestamp)


def _implied(stage: str, code: int) -> str:
    """The overall state one stage report implies on its own."""
    return state_of(MessageStatus(state=MessageState.SUBMITTED, **{stage: Stage(code, "", None)}))


def merge_status(current: MessageStatus, result: StatusResult) -> MessageStatus:
    changes = {}
    state = current.state
    for name in STAGES:
        report = getattr(result, name)
        if report is None:
            continue
        incoming = _from_report(report)
        if _newer(name, current.stage(name), incoming):
            changes[name] = incoming
        # The state follows every report, not only the newest of each stage: a failure or a
        # finished build that is older than the stage's newest report still happened, and
        # folding each report in makes the result the same in any arrival order.
        state = _forward(state, _implied(name, report.code))
    return replace(current, **changes, state=state)
