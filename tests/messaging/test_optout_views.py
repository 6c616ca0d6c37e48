"""The staff opt-out pages: viewers read, composers add, import and export, admins remove;
an application not granted answers 404; every change is audited."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEntry
from messaging.models import OptOut, OptOutSource
from messaging.optouts import opt_out_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(application):
    entry, _ = opt_out_record(
        application=application, recipient="27821234567", source=OptOutSource.REPLY, reason="STOP"
    )
    return entry


@pytest.fixture
def as_user(client):
    def log_in(user):
        client.force_login(user)
        return client

    return log_in


def urls(application, entry=None) -> dict[str, str]:
    found = {
        "applications": reverse("optouts:applications"),
        "list": reverse("optouts:list", args=[application.pk]),
        "add": reverse("optouts:add", args=[application.pk]),
        "import": reverse("optouts:import", args=[application.pk]),
        "export": reverse("optouts:export", args=[application.pk]),
    }
    if entry is not None:
        found["remove"] = reverse("optouts:remove", args=[application.pk, entry.pk])
    return found


def upload(text: str, name: str = "stop-list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def page_messages(client, response) -> list[str]:
    return [str(message) for message in client.get(response.url).context["messages"]]


# --- who may do what ------------------------------------------------------------------------------


def test_signing_in_is_needed(client, application):
    response = client.get(urls(application)["list"])

    assert response.status_code == 302 and "/login/" in response.url


def test_staff_without_a_role_are_refused(as_user, make_staff, application):
    client = as_user(make_staff("nobody", applications=[application]))

    assert client.get(urls(application)["applications"]).status_code == 403
    assert client.get(urls(application)["list"]).status_code == 403


def test_a_viewer_reads_the_list_but_changes_nothing(as_user, viewer, application, entry):
    client = as_user(viewer)
    page = urls(application, entry)

    response = client.get(page["list"])

    html = response.content.decode()
    assert response.status_code == 200
    assert entry.recipient in html and "Reply" in html and "STOP" in html
    assert page["add"] not in html and page["import"] not in html
    assert page["export"] not in html and page["remove"] not in html
    assert client.post(page["add"], {"recipient": "0821234568"}).status_code == 403
    assert client.post(page["import"], {"file": upload("0821234568")}).status_code == 403
    assert client.get(page["export"]).status_code == 403
    assert client.get(page["remove"]).status_code == 403
    assert client.post(page["remove"]).status_code == 403
    assert OptOut.objects.count() == 1


def test_the_navigation_leads_to_the_granted_applications(
    as_user, viewer, application, other_application
):
    client = as_user(viewer)

    campaigns = client.get(reverse("reports:campaign_list")).content.decode()
    listing = client.get(urls(application)["applications"]).content.decode()

    assert f'href="{urls(application)["applications"]}"' in campaigns
    assert urls(application)["list"] in listing
    assert urls(other_application)["list"] not in listing


def test_an_application_not_granted_answers_404(as_user, outsider, application, entry):
    client = as_user(outsider)  # a composer, of another application
    page = urls(application, entry)

    for name in ("list", "export"):
        assert client.get(page[name]).status_code == 404, name
    assert client.post(page["add"], {"recipient": "0821234568"}).status_code == 404
    assert client.post(page["import"], {"file": upload("0821234568")}).status_code == 404
    assert OptOut.objects.count() == 1


def test_an_admin_removes_an_entry_after_confirming(as_user, admin_staff, application, entry):
    client = as_user(admin_staff)
    page = urls(application, entry)

    confirm = client.get(page["remove"])
    assert confirm.status_code == 200 and entry.recipient in confirm.content.decode()
    assert OptOut.objects.filter(pk=entry.pk).exists()  # asking changes nothing

    response = client.post(page["remove"])

    assert response.status_code == 302
    assert not OptOut.objects.filter(pk=entry.pk).exists()
    audit = AuditEntry.objects.get(action=AuditAction.OPT_OUT_REMOVE)
    assert audit.actor == admin_staff and audit.target_id == str(entry.pk)
    assert "no longer opted out" in page_messages(client, response)[0]


def test_a_composer_cannot_remove(as_user, composer, application, entry):
    client = as_user(composer)

    assert client.post(urls(application, entry)["remove"]).status_code == 403
    assert OptOut.objects.filter(pk=entry.pk).exists()


def test_an_entry_is_removed_only_under_its_own_application(
    as_user, admin_staff, application, other_application, entry
):
    wrong = reverse("optouts:remove", args=[other_application.pk, entry.pk])

    assert as_user(admin_staff).post(wrong).status_code == 404
    assert OptOut.objects.filter(pk=entry.pk).exists()


# --- adding by hand -------------------------------------------------------------------------------


def test_a_composer_adds_a_number_normalised(as_user, composer, application):
    client = as_user(composer)

    response = client.post(urls(application)["add"], {"recipient": "082 123 4568"})

    assert response.status_code == 302
    entry = OptOut.objects.get()
    assert (entry.recipient, entry.source, entry.created_by) == (
        "27821234568",
        OptOutSource.MANUAL,
        composer,
    )
    audit = AuditEntry.objects.get(action=AuditAction.OPT_OUT_ADD)
    assert audit.actor == composer and audit.detail["source"] == "manual"
    assert page_messages(client, response) == ["27821234568 is opted out of Alpha."]


def test_an_address_is_added_as_an_email(as_user, composer, application):
    as_user(composer).post(urls(application)["add"], {"recipient": " Thandi@Example.COM "})

    assert OptOut.objects.get().recipient == "Thandi@example.com"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "This field is required."),
        ("12", "not a"),
        ("thandi@", "not a valid email address"),
    ],
)
def test_an_invalid_recipient_is_a_form_error(as_user, composer, application, value, reason):
    response = as_user(composer).post(urls(application)["add"], {"recipient": value})

    assert response.status_code == 400
    assert any(reason in line for line in response.context["errors"])
    assert response.context["errors"][0].startswith("Recipient: ")
    assert not OptOut.objects.exists()


def test_adding_one_already_on_the_list_says_since_when(as_user, composer, application, entry):
    client = as_user(composer)

    response = client.post(urls(application)["add"], {"recipient": "0821234567"})

    assert OptOut.objects.get() == entry
    assert "already on the list: opted out on" in page_messages(client, response)[0]
    assert not AuditEntry.objects.filter(actor=composer).exists()


# --- importing and exporting ----------------------------------------------------------------------


def test_a_composer_imports_a_csv_and_sees_what_became_of_each_row(
    as_user, composer, application, entry
):
    text = (
        "name,email,mobile\n"
        "Ann,,0821234567\n"  # already on the list (entry)
        "Ben,,082 123 4569\n"
        "Cas,,0821234569\n"  # the same number again
        "Dee,,12345\n"
        "Eve,,thandi@example.com\n"
    )

    response = as_user(composer).post(urls(application)["import"], {"file": upload(text)})

    assert response.status_code == 200
    result = response.context["import_result"]
    assert (result["added"], result["already"]) == (2, 1)
    assert result["parsed"].duplicates == 1
    assert [(row.line, row.value) for row in result["parsed"].rejected] == [(5, "12345")]
    added = OptOut.objects.filter(source=OptOutSource.IMPORT)
    assert sorted(added.values_list("recipient", flat=True)) == [
        "27821234569",
        "thandi@example.com",
    ]
    assert set(added.values_list("created_by", flat=True)) == {composer.pk}
    assert added.first().reason == "imported from stop-list.csv"
    audits = AuditEntry.objects.filter(action=AuditAction.OPT_OUT_ADD, actor=composer)
    assert sorted(audits.values_list("target_id", flat=True)) == sorted(
        str(pk) for pk in added.values_list("pk", flat=True)
    )
    html = response.content.decode()
    assert "2 added" in html and "1 already on the list" in html and "1 rejected" in html


def test_a_file_that_cannot_be_read_is_a_form_error(as_user, composer, application):
    response = as_user(composer).post(
        urls(application)["import"],
        {"file": SimpleUploadedFile("list.xlsx", b"PK\x03\x04\x00\x00binary")},
    )

    assert response.status_code == 400
    assert response.context["errors"] == [
        "CSV of recipients: This is not a text file (a spreadsheet?). Save it as CSV and "
        "upload that."
    ]
    assert not OptOut.objects.exists()


def test_importing_without_a_file_is_a_form_error(as_user, composer, application):
    response = as_user(composer).post(urls(application)["import"], {})

    assert response.status_code == 400
    assert response.context["errors"] == ["CSV of recipients: This field is required."]


def test_a_composer_exports_the_list_privately_and_spreadsheet_safe(
    as_user, composer, application, entry
):
    OptOut.objects.create(
        application=application, recipient="=cmd@example.com", source=OptOutSource.BOUNCE
    )

    response = as_user(composer).get(urls(application)["export"])

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["Content-Disposition"] == (
        f'attachment; filename="opt-outs-{application.pk}-alpha.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["recipient", "source", "reason", "opted_out_at", "message_id", "added_by"]
    assert [row[0] for row in rows[1:]] == ["'=cmd@example.com", "27821234567"]
    assert rows[2][1:3] == ["reply", "STOP"]


# --- reading the list -----------------------------------------------------------------------------


def test_the_list_is_newest_first_and_paged(as_user, viewer, application):
    start = timezone.now() - timedelta(days=1)
    OptOut.objects.bulk_create(
        OptOut(
            application=application,
            recipient=f"2782{n:07d}",
            source=OptOutSource.IMPORT,
            created_at=start + timedelta(minutes=n),
        )
        for n in range(55)
    )
    client = as_user(viewer)

    first = client.get(urls(application)["list"])
    second = client.get(urls(application)["list"], {"page": 2})

    assert [e.recipient for e in first.context["entries"]][:2] == ["27820000054", "27820000053"]
    assert len(first.context["entries"]) == 50
    assert [e.recipient for e in second.context["entries"]][-1] == "27820000000"
    assert "Page 2 of 2" in second.content.decode()


def test_the_search_finds_a_number_as_typed_or_in_part(as_user, viewer, application, entry):
    opt_out_record(application=application, recipient="ann@example.com", source="bounce")
    client = as_user(viewer)

    def found(**query) -> list[str]:
        response = client.get(urls(application)["list"], query)
        return [e.recipient for e in response.context["entries"]]

    assert found(q="082 123 4567") == ["27821234567"]
    assert found(q="1234") == ["27821234567"]
    assert found(q="ANN@") == ["ann@example.com"]
    assert found(source="bounce") == ["ann@example.com"]
    assert found(q="nobody") == []


def test_the_causing_message_is_linked_for_those_who_may_open_it(
    as_user, viewer, make_staff, application, campaign
):
    message = campaign.messages.first()
    opt_out_record(
        application=application, recipient=message.recipient, source="reply", message=message
    )
    link = reverse("reports:message_detail", args=[message.pk])
    # May read opt-outs, but not campaigns or messages.
    reader = make_staff("rita", applications=[application])
    reader.user_permissions.add(Permission.objects.get(codename="view_optout"))

    assert link in as_user(viewer).get(urls(application)["list"]).content.decode()
    html = as_user(reader).get(urls(application)["list"]).content.decode()
    assert link not in html and f"#{message.pk}" in html
