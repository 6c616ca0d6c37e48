"""Idempotency-Key: a retried POST acts once, replays its first answer, and a failure on our
side leaves the key free for the retry."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.db import connection
from rest_framework import status
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from api.idempotency import idempotency_keys_prune, idempotent
from api.models import IdempotencyKey, IdempotencyState
from messaging.models import CampaignState, Message
from tests.api.conftest import error_of, token_client
from tests.support.threads import in_threads

LIST = "/api/v1/messages/"


def single_send(application, text: str = "Hi") -> dict:
    return {
        "channel": "sms",
        "recipient": "0821234567",
        "text": text,
        "application": application.pk,
    }


def post(client, body, key, path=LIST):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_a_retry_with_the_same_key_sends_once_and_replays_the_answer(as_composer, application):
    first = post(as_composer, single_send(application), "key-1")
    second = post(as_composer, single_send(application), "key-1")

    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_the_body_is_compared_as_json_not_as_bytes(as_composer, application):
    body = single_send(application)
    as_composer.post(
        LIST, json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    reordered = json.dumps(dict(reversed(body.items())), indent=2)

    again = as_composer.post(
        LIST, reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert again["Idempotent-Replayed"] == "true"
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_or_path_answers_422(as_composer, application, campaign):
    post(as_composer, single_send(application), "key-1")

    other_body = post(as_composer, single_send(application, text="Other"), "key-1")
    other_path = post(as_composer, {}, "key-1", path=f"/api/v1/campaigns/{campaign.pk}/launch/")

    assert other_body.status_code == other_path.status_code == 422
    assert error_of(other_body)["code"] == "idempotency_key_reused"
    assert Message.objects.filter(is_single=True).count() == 1
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT


@pytest.mark.django_db
def test_without_a_key_each_request_acts(as_composer, application):
    as_composer.post(LIST, single_send(application), format="json")
    as_composer.post(LIST, single_send(application), format="json")

    assert Message.objects.count() == 2


@pytest.mark.django_db
def test_keys_belong_to_their_caller(composer, application):
    post(token_client(composer), single_send(application), "shared")
    post(token_client(composer), single_send(application), "shared")

    assert Message.objects.count() == 2
    assert set(IdempotencyKey.objects.values_list("owner", flat=True)) == {
        f"token:{token.pk}" for token in composer.api_tokens.all()
    }


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
def test_a_malformed_key_answers_400(as_composer, application, key):
    response = post(as_composer, single_send(application), key)

    assert response.status_code == 400
    assert "Idempotency-Key" in error_of(response)["fields"]
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_refusal_is_replayed_too(as_composer, application):
    bad = single_send(application) | {"recipient": "12"}

    first = post(as_composer, bad, "key-bad")
    second = post(as_composer, bad, "key-bad")

    assert first.status_code == second.status_code == 400
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_a_launch_retried_with_its_key_replays_instead_of_conflicting(as_composer, campaign):
    url = f"/api/v1/campaigns/{campaign.pk}/launch/"

    first = post(as_composer, {}, "launch-1", path=url)
    retry = post(as_composer, {}, "launch-1", path=url)
    fresh = post(as_composer, {}, "launch-2", path=url)

    assert (first.status_code, retry.status_code, fresh.status_code) == (200, 200, 409)
    assert retry.json() == first.json()


@pytest.mark.django_db
def test_a_request_still_in_progress_answers_409(as_composer, application):
    body = single_send(application)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    IdempotencyKey.objects.create(
        owner=f"token:{as_composer.token.pk}",
        key="busy",
        method="POST",
        path=LIST,
        body_sha256=hashlib.sha256(canonical.encode()).hexdigest(),
        state=IdempotencyState.IN_PROGRESS,
    )

    response = post(as_composer, body, "busy")

    assert response.status_code == 409
    assert error_of(response)["code"] == "idempotency_in_progress"
    assert not Message.objects.exists()


def age(key: str, by: timedelta) -> None:
    row = IdempotencyKey.objects.get(key=key)
    IdempotencyKey.objects.filter(pk=row.pk).update(created_at=row.created_at - by)


@pytest.mark.django_db
def test_an_expired_key_acts_again(as_composer, application):
    post(as_composer, single_send(application), "old")
    age("old", timedelta(hours=25))

    again = post(as_composer, single_send(application), "old")

    assert again.status_code == 202
    assert "Idempotent-Replayed" not in again
    assert Message.objects.count() == 2


@pytest.mark.django_db
def test_the_prune_removes_keys_older_than_a_day(as_composer, application):
    post(as_composer, single_send(application), "fresh")
    post(as_composer, single_send(application), "stale")
    age("stale", timedelta(hours=24, minutes=1))

    assert idempotency_keys_prune() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


# --- failures on our side ---------------------------------------------------------------------


class Flaky(APIView):
    """Fails as told, then succeeds: a stand-in for a view whose first try hit an outage."""

    failures: list = []
    calls = 0

    @idempotent
    def post(self, request):
        Flaky.calls += 1
        if Flaky.failures:
            failure = Flaky.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return Response({"detail": "unavailable"}, status=failure)
        return Response({"done": Flaky.calls}, status=status.HTTP_201_CREATED)


def call_flaky(user):
    request = APIRequestFactory().post("/flaky/", {"a": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    force_authenticate(request, user=user)
    return Flaky.as_view()(request)


@pytest.mark.django_db
@pytest.mark.parametrize("failure", [RuntimeError("database went away"), 503])
def test_a_failed_first_try_does_not_poison_the_key(composer, failure):
    Flaky.failures, Flaky.calls = [failure], 0

    # A raised error is answered 500 by the API's error handler.
    assert call_flaky(composer).status_code == (500 if isinstance(failure, Exception) else 503)
    assert not IdempotencyKey.objects.exists()
    retry = call_flaky(composer)
    replay = call_flaky(composer)

    assert retry.status_code == replay.status_code == 201
    assert replay.data == retry.data == {"done": 2}
    assert replay["Idempotent-Replayed"] == "true"
    assert Flaky.calls == 2


# --- concurrency --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL's row locks; SQLite serialises the whole database",
)
def test_concurrent_retries_with_one_key_act_once(composer, application):
    client = token_client(composer)
    body = single_send(application)
    answers = []

    def send(_):
        response = post(client, body, "race")
        answers.append((response.status_code, response.get("Idempotent-Replayed")))

    errors = in_threads(list(range(16)), send, threads=16)

    assert errors == []
    assert Message.objects.count() == 1
    acted = [answer for answer in answers if answer == (202, None)]
    assert len(acted) == 1
    assert all(answer in ((202, "true"), (409, None)) for answer in answers if answer not in acted)
