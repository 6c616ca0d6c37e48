"""/api/v1/opt-outs/: an application's list read in cursor pages with search, an entry added
(normalised, once), an entry removed by an admin; roles and grants as for campaigns."""

import pytest

from audit.models import AuditAction, AuditEntry
from messaging.models import OptOut, OptOutSource
from messaging.optouts import opt_out_record
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db

LIST = "/api/v1/opt-outs/"


def detail(entry: OptOut) -> str:
    return f"{LIST}{entry.pk}/"


def opt_out(application, recipient: str, source=OptOutSource.REPLY) -> OptOut:
    return opt_out_record(application=application, recipient=recipient, source=source)[0]


def recipients(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["recipient"] for row in response.json()["results"]]


# --- reading --------------------------------------------------------------------------------


def test_an_applications_list_is_read_newest_first(as_viewer, application, other_application):
    opt_out(application, "27821000001")
    opt_out(application, "reader@example.com", OptOutSource.BOUNCE)
    opt_out(other_application, "27821000003")

    response = as_viewer.get(LIST, {"application": application.pk})

    assert recipients(response) == ["reader@example.com", "27821000001"]
    row = response.json()["results"][0]
    assert set(row) == {
        "id",
        "application",
        "recipient",
        "source",
        "reason",
        "message",
        "created_at",
        "created_by",
    }
    assert (row["application"], row["source"], row["message"]) == (application.pk, "bounce", None)


def test_the_list_comes_in_cursor_pages(as_viewer, application):
    for n in range(3):
        opt_out(application, f"2782100000{n}")

    first = as_viewer.get(LIST, {"application": application.pk, "page_size": 2}).json()
    second = as_viewer.get(first["next"]).json()

    assert [row["recipient"] for row in first["results"]] == ["27821000002", "27821000001"]
    assert [row["recipient"] for row in second["results"]] == ["27821000000"]
    assert second["next"] is None


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("1000001", ["27821000001"]),  # part of the stored number
        ("082 100 0001", ["27821000001"]),  # the number as people write it
        ("READER@", ["reader@example.com"]),
        ("nobody", []),
    ],
)
def test_the_list_is_searched_by_recipient(as_viewer, application, search, found):
    opt_out(application, "27821000001")
    opt_out(application, "27821000002")
    opt_out(application, "reader@example.com")

    assert recipients(as_viewer.get(LIST, {"application": application.pk, "search": search})) == (
        found
    )


def test_the_list_needs_an_application(as_viewer):
    response = as_viewer.get(LIST)

    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"application"}


def test_an_application_not_granted_answers_404(as_outsider, application):
    opt_out(application, "27821000001")

    response = as_outsider.get(LIST, {"application": application.pk})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_an_admin_reads_every_applications_list(as_admin, application):
    opt_out(application, "27821000001")

    assert recipients(as_admin.get(LIST, {"application": application.pk})) == ["27821000001"]


# --- adding ---------------------------------------------------------------------------------


def test_a_composer_adds_a_number_normalised_as_for_sms(as_composer, composer, application):
    response = as_composer.post(
        LIST, {"application": application.pk, "recipient": "082 123 4567"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["recipient"], body["source"], body["created_by"]) == (
        "27821234567",
        "manual",
        composer.username,
    )
    entry = OptOut.objects.get()
    assert (entry.application, entry.source) == (application, OptOutSource.MANUAL)
    audit = AuditEntry.objects.get(action=AuditAction.OPT_OUT_ADD)
    assert audit.actor == composer


def test_an_address_is_normalised_as_for_email(as_composer, application):
    response = as_composer.post(
        LIST, {"application": application.pk, "recipient": " Reader@Example.COM "}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["recipient"] == "Reader@example.com"


def test_adding_an_entry_already_there_answers_200_with_it(as_composer, application):
    existing = opt_out(application, "27821234567")

    response = as_composer.post(
        LIST, {"application": application.pk, "recipient": "+27 82 123 4567"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["source"]) == (existing.pk, "reply")
    assert OptOut.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"recipient": "0821234567"}, {"application"}),
        ({"application": "one", "recipient": "0821234567"}, {"application"}),
        ({}, {"application", "recipient"}),
        ({"application": 1, "recipient": "x" * 255}, {"recipient"}),
    ],
)
def test_bad_input_answers_400_naming_the_field(as_composer, application, body, fields):
    response = as_composer.post(LIST, body, format="json")

    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == fields
    assert not OptOut.objects.exists()


def test_an_invalid_recipient_says_why(as_composer, application):
    response = as_composer.post(
        LIST, {"application": application.pk, "recipient": "reader@"}, format="json"
    )

    assert response.status_code == 400
    assert "not a valid email address" in error_of(response)["fields"]["recipient"][0]


def test_adding_to_an_application_not_granted_answers_404(as_outsider, application):
    response = as_outsider.post(
        LIST, {"application": application.pk, "recipient": "0821234567"}, format="json"
    )

    assert response.status_code == 404
    assert not OptOut.objects.exists()


# --- removing -------------------------------------------------------------------------------


def test_an_admin_removes_an_entry_and_it_is_audited(as_admin, admin_staff, application):
    entry = opt_out(application, "27821000001")

    response = as_admin.delete(detail(entry))

    assert response.status_code == 204
    assert not OptOut.objects.exists()
    audit = AuditEntry.objects.get(action=AuditAction.OPT_OUT_REMOVE)
    assert audit.actor == admin_staff


def test_removing_an_entry_that_is_not_there_answers_404(as_admin):
    assert as_admin.delete(f"{LIST}999999/").status_code == 404


# --- the role matrix ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "read", "add", "remove"),
    [
        ("as_viewer", 200, 403, 403),
        ("as_composer", 200, 201, 403),
        ("as_admin", 200, 201, 204),
        # A composer of another application: the list and the entry are not theirs to find.
        ("as_outsider", 404, 404, 403),
        ("anonymous", 401, 401, 401),
    ],
)
def test_viewers_read_composers_add_admins_remove(request, application, who, read, add, remove):
    client = request.getfixturevalue(who)
    entry = opt_out(application, "27821000001")

    assert client.get(LIST, {"application": application.pk}).status_code == read
    added = client.post(
        LIST, {"application": application.pk, "recipient": "0821000002"}, format="json"
    )
    assert added.status_code == add
    assert client.delete(detail(entry)).status_code == remove
    assert OptOut.objects.filter(pk=entry.pk).exists() == (remove != 204)
