"""The opt-out list: recorded once, audited, looked up for a whole list at once."""

from datetime import UTC, datetime

import pytest

from audit.models import AuditAction, AuditEntry
from messaging import optouts
from messaging.models import OptOut, OptOutSource
from messaging.optouts import (
    opt_out_reason,
    opt_out_record,
    opt_out_remove,
    opt_outs_record_many,
    opted_out,
)
from tests.support.queries import insert_batches

pytestmark = pytest.mark.django_db


def test_an_opt_out_is_recorded_once_and_audited(application, admin_staff):
    entry, new = opt_out_record(
        application=application,
        recipient="27821000001",
        source=OptOutSource.MANUAL,
        user=admin_staff,
    )
    again, new_again = opt_out_record(
        application=application, recipient="27821000001", source=OptOutSource.REPLY, reason="STOP"
    )

    assert (new, new_again) == (True, False)
    assert again == entry and again.source == OptOutSource.MANUAL
    audit = AuditEntry.objects.get(action=AuditAction.OPT_OUT_ADD)
    assert audit.actor == admin_staff and audit.detail["source"] == "manual"


def test_opting_back_in_removes_the_entry_and_is_audited(application):
    entry, _ = opt_out_record(application=application, recipient="27821000001", source="reply")

    opt_out_remove(opt_out=entry, reason="START")

    assert not OptOut.objects.exists()
    assert AuditEntry.objects.get(action=AuditAction.OPT_OUT_REMOVE).detail["reason"] == "START"


def test_a_list_is_looked_up_at_once_and_only_for_its_application(
    application, other_application, django_assert_max_num_queries
):
    opt_out_record(application=application, recipient="27821000001", source="reply")
    opt_out_record(application=other_application, recipient="27821000002", source="reply")
    recipients = [f"278210{n:05d}" for n in range(3000)]

    with django_assert_max_num_queries(1):
        found = opted_out(application_id=application.pk, recipients=recipients)

    assert list(found) == ["27821000001"]
    assert opt_out_reason(found["27821000001"]).startswith("opted out on 20")
    assert opt_out_reason(found["27821000001"]).endswith("(Reply)")


def test_many_are_recorded_at_once_each_audited(
    application, composer, django_assert_max_num_queries
):
    opt_out_record(application=application, recipient="27821000001", source="reply")
    recipients = [f"278210{n:05d}" for n in range(1, 1201)]

    # Lookup, inserts in batches and audit entries in batches: never a query per recipient.
    inserts = insert_batches(OptOut, 1199) + insert_batches(AuditEntry, 1199)
    with django_assert_max_num_queries(8 + inserts):
        added, already = opt_outs_record_many(
            application=application,
            recipients=recipients,
            source=OptOutSource.IMPORT,
            reason="imported from list.csv",
            user=composer,
        )

    assert (added, already) == (1199, 1)
    assert OptOut.objects.filter(application=application).count() == 1200
    new = OptOut.objects.filter(source=OptOutSource.IMPORT)
    assert set(new.values_list("created_by", flat=True)) == {composer.pk}
    audits = AuditEntry.objects.filter(action=AuditAction.OPT_OUT_ADD, actor=composer)
    assert audits.count() == 1199
    assert set(audits.values_list("target_id", flat=True)) == {
        str(pk) for pk in new.values_list("pk", flat=True)
    }
    assert audits.first().detail == {"source": "import", "reason": "imported from list.csv"}


def test_recording_many_looks_again_when_one_opted_out_meanwhile(application, monkeypatch):
    real_lookup = optouts.opted_out
    calls = []

    def racing_lookup(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            # A STOP reply lands between this lookup and the insert.
            found = real_lookup(**kwargs)
            opt_out_record(application=application, recipient="27821000002", source="reply")
            return found
        return real_lookup(**kwargs)

    monkeypatch.setattr(optouts, "opted_out", racing_lookup)

    added, already = opt_outs_record_many(
        application=application, recipients=["27821000001", "27821000002"], source="import"
    )

    assert (added, already) == (1, 1)
    assert OptOut.objects.get(recipient="27821000002").source == OptOutSource.REPLY


def test_the_reason_dates_an_opt_out_in_the_portals_zone(application, settings):
    settings.TIME_ZONE = "Africa/Johannesburg"
    entry = opt_out_record(application=application, recipient="27821000001", source="reply")[0]
    # 23:30 UTC is 01:30 the next day in Johannesburg, the date staff know it by.
    entry.created_at = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)

    assert opt_out_reason(entry) == "opted out on 2026-12-06 (Reply)"
