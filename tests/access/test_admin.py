"""The admin base: grant-scoped lists and filters, and no server error for any filter value."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from access.models import ApplicationGrant
from postbacks.models import PostbackInbox
from tests.support.applications import make_application
from tests.support.campaigns import make_campaign

pytestmark = pytest.mark.django_db

# More digits than any integer column (or datetime year) holds.
TOO_BIG = "1234567890123456789012345"
PORTAL_APPS = {"access", "messaging", "postbacks", "audit", "api"}


def _portal_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in PORTAL_APPS
    ]


def _oversized_filters(model, model_admin) -> list[dict[str, str]]:
    """An id filter on the model and on each of its foreign keys, and a date-hierarchy year."""
    filters = [{"id__exact": TOO_BIG}, {"id__gte": TOO_BIG}]
    for field in model._meta.get_fields():
        if field.many_to_one and field.concrete:
            filters.append({f"{field.name}__id__exact": TOO_BIG})
            filters.append({f"{field.name}__id__exact": "-" + TOO_BIG})
    if model_admin.date_hierarchy:
        filters.append({f"{model_admin.date_hierarchy}__year": TOO_BIG})
        filters.append(
            {
                f"{model_admin.date_hierarchy}__year": "2026",
                f"{model_admin.date_hierarchy}__month": TOO_BIG,
            }
        )
    return filters


@pytest.fixture
def superuser_client(superuser_client):
    """The shared one, but a server error is answered (and counted below), not raised."""
    superuser_client.raise_request_exception = False
    return superuser_client


def test_an_id_or_year_too_big_for_the_database_is_never_a_server_error(superuser_client):
    message = make_campaign("sms").messages.create(recipient="27820000001")
    PostbackInbox.objects.create(message=message, body=b"{}")
    answers = {}
    for model, model_admin in _portal_admins():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        for query in _oversized_filters(model, model_admin):
            answers[f"{changelist} {query}"] = superuser_client.get(changelist, query).status_code
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[TOO_BIG])
        answers[change] = superuser_client.get(change).status_code

    assert {url: status for url, status in answers.items() if status >= 500} == {}
    # The admin's own answer to a filter it cannot apply: the list again, with "?e=1".
    campaigns = reverse("admin:messaging_campaign_changelist")
    response = superuser_client.get(campaigns, {"created_at__year": TOO_BIG})
    assert (response.status_code, response["Location"]) == (302, f"{campaigns}?e=1")


def test_the_grant_list_and_its_filter_show_only_granted_applications(client, make_staff):
    ours, theirs = make_application("Ours"), make_application("Theirs", token="other-token")
    user = make_staff("ann", applications=[ours], is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_applicationgrant"))
    other = make_staff("bob", applications=[theirs])
    client.force_login(user)

    response = client.get(reverse("admin:access_applicationgrant_changelist"), {"_facets": "1"})

    assert response.status_code == 200
    assert [grant.user for grant in response.context["cl"].result_list] == [user]
    assert "Theirs" not in response.content.decode()
    assert ApplicationGrant.objects.filter(user=other).exists()
