"""postbacks' answers to what messaging announces (messaging/signals.py); connected in
PostbacksConfig.ready."""

from messaging.signals import submissions_answered
from postbacks.services import postbacks_apply_waiting


def apply_waiting_postbacks(sender, *, message_ids: list[int], **kwargs) -> None:
    postbacks_apply_waiting(message_ids=message_ids)


def connect() -> None:
    submissions_answered.connect(apply_waiting_postbacks, dispatch_uid="postbacks.apply_waiting")
