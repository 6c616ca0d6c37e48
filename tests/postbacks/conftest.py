import pytest

from messaging.models import Application, Campaign, Channel, Message, MessageState


@pytest.fixture
def application(db):
    return Application.objects.create(
        name="Postback tests",
        endpoint="https://iliveit.invalid/api",
        token="token-postback-tests",
        mvno_id=101,
    )


@pytest.fixture
def campaign(application):
    return Campaign.objects.create(
        name="Spring sale",
        channel=Channel.SMS,
        application=application,
        body_text="Hello from the portal",
    )


@pytest.fixture
def make_message(campaign):
    """A message of the campaign; by default submitted, with its iLiveIt MessageID."""
    counter = iter(range(1, 10_000))

    def make(*, state=MessageState.SUBMITTED, iliveit_id="default", **fields) -> Message:
        n = next(counter)
        if iliveit_id == "default":
            iliveit_id = f"MSG-{n:04d}"
        return Message.objects.create(
            campaign=campaign,
            recipient=f"278200{n:05d}",
            state=state,
            iliveit_id=iliveit_id,
            **fields,
        )

    return make


@pytest.fixture
def message(make_message):
    return make_message()
