"""Celery tasks: thin wrappers that load ids and call the services.

Workers run with acks_late, so a task lost with its worker runs again; every service here is
safe to run twice because each submission must first win its claim on the message row.
"""

from celery import shared_task

from messaging.services import (
    campaign_queued_ids,
    campaign_scrub_run,
    message_submit,
    messages_statistics_refresh,
    messages_submit,
)

# Messages per dispatch task: enough to spread the per-task costs (a chunk's load, its broker
# round trips, its answered postbacks' lookup), few enough that the last chunks of a campaign
# still spread over every worker. A pause stops a chunk at its next round of claims.
CHUNK = 50


@shared_task(acks_late=True, ignore_result=True)
def submit_message(message_id: int) -> str:
    outcome = message_submit(message_id=message_id)
    if outcome.retry_in:
        # The row stays `queued` with next_attempt_at; this is only the reminder.
        submit_message.apply_async((message_id,), countdown=outcome.retry_in)
    return outcome.state


@shared_task(acks_late=True, ignore_result=True)
def submit_messages(message_ids: list[int]) -> int:
    outcomes = messages_submit(message_ids=message_ids)
    for message_id, outcome in outcomes.items():
        if outcome.retry_in:
            submit_message.apply_async((message_id,), countdown=outcome.retry_in)
    return len(outcomes)


@shared_task(acks_late=True, ignore_result=True)
def dispatch_campaign(campaign_id: int) -> int:
    """Hint every queued message of a campaign to the workers, a chunk per task."""
    messages_statistics_refresh()
    count = 0
    chunk: list[int] = []
    for message_id in campaign_queued_ids(campaign_id=campaign_id).iterator(chunk_size=2000):
        chunk.append(message_id)
        if len(chunk) == CHUNK:
            submit_messages.delay(chunk)
            count, chunk = count + len(chunk), []
    if chunk:
        submit_messages.delay(chunk)
    return count + len(chunk)


@shared_task(acks_late=True, ignore_result=True)
def scrub_campaign(campaign_id: int) -> str:
    """Check a campaign's handsets; a rerun asks only about those not answered yet."""
    return campaign_scrub_run(campaign_id=campaign_id).state
