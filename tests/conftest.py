import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from iliveit_portal.celery import app as celery_app
from messaging.models import Channel
from tests.support import campaigns
from tests.support.applications import make_application, make_sandbox_application
from tests.support.receiver import PostbackReceiver
from tests.support.sandbox import SandboxApp, SandboxProcess

# Three applications: two ordinary ones to prove isolation, and one with a tiny rate limit.
APP_A = SandboxApp(token="token-app-a", mvno_id=101, rate=500)
APP_B = SandboxApp(token="token-app-b", mvno_id=202, rate=500)
APP_SLOW = SandboxApp(token="token-app-slow", mvno_id=303, rate=2)
# Tighter than the portal is told, so that sending draws 429 bursts.
APP_TIGHT = SandboxApp(token="token-app-tight", mvno_id=404, rate=10)


@pytest.fixture(scope="session")
def sandbox_process():
    process = SandboxProcess([APP_A, APP_B, APP_SLOW, APP_TIGHT], step_seconds=0.05)
    yield process
    process.stop()


@pytest.fixture
def sandbox(sandbox_process):
    """The running sandbox, reset to its start-up state for each test."""
    sandbox_process.reset()
    yield sandbox_process
    # Stop its postbacks before the test's database goes: a postback landing on the live
    # server during the flush would deadlock it, or reach the next test.
    sandbox_process.reset()


@pytest.fixture
def postback_receiver():
    receiver = PostbackReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def make_staff(db):
    """Users in one of access.roles' roles (or none), granted the given applications:
    make_staff("ann", "Viewer", applications=[app])."""
    from access.models import ApplicationGrant

    def make(username: str, role: str | None = None, *, applications=(), is_staff=None):
        # Staff status only opens /admin/: Admins have it, Viewers and Composers not, unless
        # a test asks. No password: tests log in with force_login, and hashing one costs
        # about a second.
        if is_staff is None:
            is_staff = role == "Admin"
        user = get_user_model().objects.create_user(username=username, is_staff=is_staff)
        if role:
            user.groups.add(Group.objects.get(name=role))
        for application in applications:
            ApplicationGrant.objects.create(user=user, application=application)
        return user

    return make


@pytest.fixture
def empty_task_queue():
    """Launches enqueue hints for workers; where none run, drop them before and after."""
    celery_app.control.purge()
    yield
    celery_app.control.purge()


@pytest.fixture
def sandbox_application(sandbox):
    """An application that sends to the test sandbox as APP_A."""
    return make_sandbox_application(sandbox, APP_A, name="Sandbox A")


@pytest.fixture
def application(db):
    """An application for tests that never call iLiveIt: nothing answers on its endpoint.
    Tests that send or poll use sandbox_application instead."""
    return make_application("Alpha")


@pytest.fixture
def other_application(db):
    """A second plain application, for what a user of `application` must not see."""
    return make_application("Beta", token="beta-token-0002")


# Users by role (access.roles), each granted `application` unless said otherwise.


@pytest.fixture
def viewer(make_staff, application):
    return make_staff("vera", "Viewer", applications=[application])


@pytest.fixture
def composer(make_staff, application):
    return make_staff("cora", "Composer", applications=[application])


@pytest.fixture
def admin_staff(make_staff):
    """A staff user in the Admin role: sees every application without a grant. (Not
    pytest-django's admin_user, a superuser, which admin_client logs in as.)"""
    return make_staff("adam", "Admin")


@pytest.fixture
def outsider(make_staff, other_application):
    """A composer, but granted only another application."""
    return make_staff("otto", "Composer", applications=[other_application])


@pytest.fixture
def superuser(django_user_model):
    """A superuser, without a password: pytest-django's admin_user has one, and hashing it
    costs about a second (its admin_client is kept for tests that name that user "admin")."""
    return django_user_model.objects.create_superuser("boss", None, None)


# Logged-in clients are named after their user: <role>_client.


@pytest.fixture
def superuser_client(client, superuser):
    """The test client, logged in as `superuser`."""
    client.force_login(superuser)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    """The test client, logged in as `viewer`."""
    client.force_login(viewer)
    return client


@pytest.fixture
def make_campaign(request):
    """Draft campaigns (tests/support/campaigns.py's make_campaign), of `application` unless
    another is given, without messages unless asked:
    make_campaign(Channel.EMAIL, recipients=2, state=CampaignState.SCHEDULED)."""

    def make(channel=Channel.SMS, *, application=None, recipients=0, **fields):
        # `application` only when it is used: a test that names its own gets no other.
        application = application or request.getfixturevalue("application")
        return campaigns.make_campaign(
            channel, application=application, recipients=recipients, **fields
        )

    return make


@pytest.fixture
def campaign(application):
    """A draft SMS campaign of `application`, "Spring sale", with three draft messages."""
    return campaigns.sms_campaign(application)
