"""The state sets and provider codes that raw SQL repeats agree with the Python ones.

Migrations are history and keep their own literal copies (messaging/states.py,
iliveit/codes.py), so these tests read the SQL and index conditions the migrations
and models actually install and compare what they quote with the live definitions.
"""

import importlib
import re

from iliveit import DELIVERED_OK, NETWORK_OK, PIPELINE_FAILURES, STAGES
from messaging.models import Message
from messaging.states import AWAITING_REPORT, FINAL, MessageState
from postbacks.models import EventSource
from reports.dashboard import FAILURE_STAGES, SERIES

awaiting_report_migration = importlib.import_module(
    "messaging.migrations.0002_message_awaiting_report"
)
rollups_migration = importlib.import_module("messaging.migrations.0004_campaign_rollups")
event_counts_migration = importlib.import_module("postbacks.migrations.0004_campaign_event_counts")


def condition_states(index) -> list[str]:
    return next(value for key, value in index.condition.children if key == "state__in")


def rollup_sql() -> str:
    """The roll-up triggers' SQL as migration 0004 installs it, on both databases."""
    return "\n".join([rollups_migration._postgres_body(), *rollups_migration._sqlite_install()])


def event_count_sql() -> str:
    return "\n".join(
        [event_counts_migration._postgres_install(), *event_counts_migration.SQLITE_INSTALL]
    )


def test_awaiting_report_is_every_state_but_the_final_ones():
    assert set(AWAITING_REPORT) == set(MessageState.values) - FINAL


def test_the_awaiting_report_index_of_the_model_names_awaiting_report():
    (index,) = [i for i in Message._meta.indexes if i.name == "message_awaiting_report"]

    assert condition_states(index) == list(AWAITING_REPORT)


def test_the_awaiting_report_index_of_the_migration_names_awaiting_report():
    (operation,) = awaiting_report_migration.Migration.operations

    # In the same order: reconciliation's query must match the index condition word for word.
    assert condition_states(operation.index) == list(AWAITING_REPORT)


def test_the_failure_rollup_counts_failed_messages():
    assert set(re.findall(r"\bstate = '(\w+)'", rollup_sql())) == {MessageState.FAILED}


def test_the_failure_rollup_knows_the_pipeline_failure_codes():
    codes = {int(code) for code in rollups_migration.PIPELINE_FAILURES.split(",")}

    assert codes == PIPELINE_FAILURES
    for stage in ("build", "archive", "submit"):
        assert f"WHEN {stage}_code IN ({rollups_migration.PIPELINE_FAILURES})" in rollup_sql()


def test_the_failure_rollup_knows_the_network_success_codes():
    sent_ok = re.search(r"WHEN sent_code <> (\d+) THEN", rollups_migration.FAILING_STAGE)
    delivered_ok = re.search(
        r"WHEN delivered_code NOT IN \(([\d, ]+)\)", rollups_migration.FAILING_STAGE
    )

    assert {int(sent_ok[1])} == NETWORK_OK
    assert {int(code) for code in delivered_ok[1].split(",")} == DELIVERED_OK


def test_the_failure_rollup_names_the_stages_as_the_dashboard_does():
    failing_stage = rollups_migration.FAILING_STAGE
    named = [
        *re.findall(r"THEN '(\w+)'", failing_stage),
        *re.findall(r"ELSE '(\w+)'", failing_stage),
    ]

    assert rollups_migration.STAGES == STAGES
    assert re.findall(r"WHEN (\w+)_code", failing_stage) == list(STAGES)
    assert named == list(FAILURE_STAGES)


def test_the_minute_rollup_counts_the_dashboard_series_stages():
    assert set(re.findall(r"'(\w+)' AS stage", rollup_sql())) == set(SERIES)


def test_the_event_counts_count_polled_events():
    assert set(re.findall(r"\bsource = '(\w+)'", event_count_sql())) == {EventSource.POLL}
