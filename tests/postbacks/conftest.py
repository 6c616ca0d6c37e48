import pytest

from messaging.models import Message, MessageState


@pytest.fixture
def empty_campaign(make_campaign):
    """A campaign with no messages: each test makes the messages it posts about."""
    return make_campaign()


@pytest.fixture
def make_message(empty_campaign):
    """A message of the campaign; by default submitted, with its iLiveIt MessageID."""
    counter = iter(range(1, 10_000))

    def make(*, state=MessageState.SUBMITTED, iliveit_id="default", **fields) -> Message:
        n = next(counter)
        if iliveit_id == "default":
            iliveit_id = f"MSG-{n:04d}"
        return Message.objects.create(
            campaign=empty_campaign,
            recipient=f"278200{n:05d}",
            state=state,
            iliveit_id=iliveit_id,
            **fields,
        )

    return make


@pytest.fixture
def message(make_message):
    return make_message()
