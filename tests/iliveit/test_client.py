"""The client against the sandbox over real HTTP: every route, every error mapping, postbacks
and the magic recipients. `responses` stands in only for faults the sandbox cannot produce."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from iliveit import (
    ALL_POSTBACK_TYPES,
    ActionType,
    APIUnavailable,
    AuthFailed,
    BadRequest,
    BuildRequest,
    EmailAttachment,
    EmailData,
    EndpointRefused,
    ILiveItClient,
    InvalidMessage,
    InvalidMethod,
    InvalidRoute,
    MalformedResponse,
    MMSData,
    NewMessage,
    PostbackType,
    RateLimited,
    ResendRequest,
    Slide,
    SlideContent,
    SlideContentType,
    SMSData,
    StatusResult,
    client_for,
    close_clients,
)
from iliveit.client import _never_left
from tests.conftest import APP_A, APP_B, APP_SLOW
from tests.support.sandbox import free_port

VODACOM = "27820000001"
DELIVERY_FAILS = "27000000001"
NOT_MMS = "27000000002"
SCRUB_FAILS = "27000000003"
SERVER_ERROR = "27000000004"
SLOW = "27000000005"
FLAKY = "27000000008"
ALWAYS_RATE_LIMITED = "27000000010"
BUILD_FAILS = "27000000020"

TEXT = SlideContent(type=SlideContentType.TEXT, mime="text/plain", data="Hello", name="t.txt")


def client(sandbox, app=APP_A, **timeouts) -> ILiveItClient:
    return ILiveItClient(sandbox.url, app.token, **({"read_timeout": 5.0} | timeouts))


def sms(msisdn=VODACOM, app=APP_A, **changes) -> NewMessage:
    return NewMessage(mvno_id=app.mvno_id, data=SMSData(msisdn=msisdn, text="Hello"), **changes)


def mms(msisdn=VODACOM, **changes) -> NewMessage:
    slides = (
        Slide(duration=3, content=(TEXT,)),
        Slide(
            duration=5,
            content=(
                SlideContent.from_bytes(SlideContentType.IMAGE, "image/png", b"\x89PNG", "a.png"),
                SlideContent.from_bytes(SlideContentType.AUDIO, "audio/mpeg", b"ID3", "a.mp3"),
            ),
        ),
        Slide(
            duration=10,
            content=(
                SlideContent.from_bytes(SlideContentType.VIDEO, "video/mp4", b"\0\0ftyp", "v.mp4"),
            ),
        ),
    )
    data = MMSData(msisdn=msisdn, subject="Look", slides=slides)
    return NewMessage(mvno_id=APP_A.mvno_id, data=data, **changes)


def email(address="someone@example.com", **changes) -> NewMessage:
    data = EmailData(
        address=address,
        subject="Invoice",
        html="<p>Attached</p>",
        text="Attached",
        attachments=(EmailAttachment.from_bytes("invoice.txt", b"total: 12"),),
    )
    return NewMessage(mvno_id=APP_A.mvno_id, data=data, **changes)


def video(recipient=VODACOM, **changes) -> BuildRequest:
    values = {
        "mvno_id": APP_A.mvno_id,
        "recipient": recipient,
        "data": {"name": "Thandi"},
        "build_template": 3,
        "campaign": "Video",
    }
    return BuildRequest(**(values | changes))


def wait_for_status(api, message_id, done, timeout=5.0) -> StatusResult:
    deadline = time.monotonic() + timeout
    while True:
        result = api.status(message_id)
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"status never reached the expected state: {result}")
        time.sleep(0.02)


def finished(result: StatusResult) -> bool:
    return result.delivered is not None


def api_requests(sandbox) -> int:
    return sandbox.stats()["requests"]


# --- every route --------------------------------------------------------------------------------


def test_ping_answers_pong(sandbox):
    assert client(sandbox).ping() == "Pong!"


def test_an_sms_runs_its_whole_lifecycle(sandbox):
    api = client(sandbox)

    message_id = api.send(sms(campaign="Spring"))
    result = wait_for_status(api, message_id, finished)

    assert result.message_id == message_id
    assert (result.type, result.campaign, result.msisdn) == ("sms", "Spring", VODACOM)
    assert result.network == "vodacom"
    assert result.mvno == APP_A.mvno_id
    assert result.archive.code == 4
    assert (result.submit.code, result.submit.label) == (2, "Submitted")
    assert result.sent.code == 1
    assert (result.delivered.code, result.delivered.description) == (1, "Delivered")
    assert result.build is None
    assert result.date_received <= result.delivered.timestamp


def test_the_sandbox_receives_the_documented_wire_form(sandbox):
    message = sms(
        postback_status_url="http://127.0.0.1:9/status/1",
        postback_status_types=(PostbackType.SUBMIT, PostbackType.DELIVERY),
        submit_not_after=datetime.now(UTC) + timedelta(days=1),
    )

    message_id = client(sandbox).send(message)
    record = sandbox.message(message_id)

    assert record["request"] == message.to_json()
    assert record["request"]["PostbackStatusTypes"] == "submit,delivery"
    assert record["request"]["Data"]["msisdn"] == [VODACOM]
    assert record["postback_status_types"] == ["submit", "delivery"]


def test_status_extended_adds_the_network_reference(sandbox):
    api = client(sandbox)
    message_id = api.send(sms())
    wait_for_status(api, message_id, finished)

    result = api.status_extended(message_id)

    assert result.message_id == message_id
    assert result.network_reference
    assert result.network_reference == sandbox.message(message_id)["status"]["network_reference"]
    assert "network_reference" in result.raw


def test_an_mms_with_every_kind_of_slide_is_archived_as_sent(sandbox):
    api = client(sandbox)
    message = mms()

    message_id = api.send(message)
    wait_for_status(api, message_id, lambda r: r.archive is not None)
    archived = api.archived_message(message_id)

    assert archived.type == "mms"
    assert archived.data == message.data.to_json()
    assert [slide["duration"] for slide in archived.data["slides"]] == ["3", "5", "10"]
    assert archived.date_created is not None


def test_an_email_with_an_attachment_is_archived_as_sent(sandbox):
    api = client(sandbox)
    message = email()

    message_id = api.send(message)
    wait_for_status(api, message_id, finished)
    archived = api.archived_message(message_id)

    assert archived.type == "email"
    assert archived.data["attachments"] == [{"filename": "invoice.txt", "data": "dG90YWw6IDEy"}]
    assert api.status(message_id).network == "email"


def test_a_message_is_not_archived_before_its_send_window_opens(sandbox):
    api = client(sandbox)
    message_id = api.send(sms(submit_not_before=datetime.now(UTC) + timedelta(hours=1)))

    with pytest.raises(BadRequest) as caught:
        api.archived_message(message_id)

    assert caught.value.error == "Message not archived yet"
    waiting = api.status(message_id)
    assert waiting.date_received is not None
    assert waiting.archive is None


def test_a_closed_send_window_fails_the_submission(sandbox):
    api = client(sandbox)
    message_id = api.send(sms(submit_not_after=datetime.now(UTC) - timedelta(minutes=5)))

    result = wait_for_status(api, message_id, lambda r: r.submit and r.submit.code != 1)

    assert (result.submit.code, result.submit.description) == (3, "Send window expired")
    assert result.delivered is None


def test_an_archive_action_stops_after_archiving(sandbox):
    api = client(sandbox)
    message_id = api.send(sms(action=ActionType.ARCHIVE))

    wait_for_status(api, message_id, lambda r: r.archive is not None)
    time.sleep(0.3)
    result = api.status(message_id)

    assert result.archive.code == 4
    assert result.sent is None
    assert api.archived_message(message_id).data["text"] == "Hello"


def test_a_video_is_built_then_sent(sandbox):
    api = client(sandbox)
    request = video()

    message_id = api.generate_video(request)
    result = wait_for_status(api, message_id, finished)

    assert (result.build.code, result.build.label) == (14, "RenderFarmSuccess")
    assert result.delivered.code == 1
    assert result.template == 3
    wire = sandbox.message(message_id)["request"]
    assert isinstance(wire["Data"], str)
    assert isinstance(wire["AfterBuildData"], str)
    assert api.archived_message(message_id).data["slides"][0]["content"][0]["type"] == "video"


@pytest.mark.parametrize(
    ("changes", "code", "label"),
    [
        ({"build_template": 999}, 10, "TemplateError"),
        ({"recipient": BUILD_FAILS}, 12, "RenderFarmFailed"),
    ],
)
def test_a_failed_build_is_reported(sandbox, changes, code, label):
    api = client(sandbox)
    message_id = api.generate_video(video(**changes))

    result = wait_for_status(api, message_id, lambda r: r.build and r.build.code != 13)

    assert (result.build.code, result.build.label) == (code, label)


def test_an_archived_message_can_be_resent(sandbox):
    api = client(sandbox)
    original = api.send(sms())
    wait_for_status(api, original, lambda r: r.archive is not None)

    resent = api.resend(ResendRequest(message_id=original, msisdn="27830000002"))
    result = wait_for_status(api, resent, finished)

    assert resent.startswith(original) and resent != original
    assert result.msisdn == "27830000002"
    assert result.network == "mtn"
    assert sandbox.submissions()["total"] == 2


def test_a_message_that_is_not_archived_cannot_be_resent(sandbox):
    api = client(sandbox)
    original = api.send(sms(submit_not_before=datetime.now(UTC) + timedelta(hours=1)))

    with pytest.raises(BadRequest, match="archived"):
        api.resend(ResendRequest(message_id=original, msisdn=VODACOM))


def test_scrub_reports_a_capable_handset(sandbox):
    result = client(sandbox).scrub("27760000001")

    assert result.msisdn == "27760000001"
    assert result.network == "vodacom"
    assert (result.handset_make, result.handset_model) == ("Sandbox", "Phone")
    assert result.allow_send and result.is_mms_capable and result.is_mms_provisioned
    assert (result.screen_width, result.screen_height) == (720, 1280)
    assert (result.error_code, result.error) == (0, "")


# --- magic recipients ---------------------------------------------------------------------------


def test_scrub_of_a_handset_that_cannot_take_mms_forbids_sending(sandbox):
    result = client(sandbox).scrub(NOT_MMS)

    assert result.is_mms_capable is False
    assert result.allow_send is False


def test_an_mms_to_a_handset_that_cannot_take_mms_fails_at_submit(sandbox):
    api = client(sandbox)
    message_id = api.send(mms(NOT_MMS))

    result = wait_for_status(api, message_id, lambda r: r.submit and r.submit.code != 1)

    assert (result.submit.code, result.submit.label) == (9, "NotMMS")
    assert result.delivered is None


def test_an_sms_to_a_handset_that_cannot_take_mms_is_delivered(sandbox):
    api = client(sandbox)

    result = wait_for_status(api, api.send(sms(NOT_MMS)), finished)

    assert result.delivered.code == 1


def test_a_failed_scrub_is_reported_in_the_result(sandbox):
    result = client(sandbox).scrub(SCRUB_FAILS)

    assert (result.error_code, result.error) == (8, "ScrubUnavailable")
    assert result.allow_send is False


@pytest.mark.parametrize(
    ("message", "description"),
    [
        (sms(DELIVERY_FAILS), "Delivery failed"),
        (email("bounce@example.com"), "Bounced"),
    ],
)
def test_a_failed_delivery_is_reported(sandbox, message, description):
    api = client(sandbox)

    result = wait_for_status(api, api.send(message), finished)

    assert (result.delivered.code, result.delivered.description) == (2, description)


# --- error mapping ------------------------------------------------------------------------------


def test_a_wrong_token_is_auth_failed(sandbox):
    api = ILiveItClient(sandbox.url, "not-a-token")

    with pytest.raises(AuthFailed) as caught:
        api.ping()

    assert caught.value.status_code == 401
    assert caught.value.error == "Authentication failed"
    assert caught.value.retryable is False


def test_a_request_the_api_refuses_carries_its_error_text(sandbox):
    # Valid by the provider's rules, but the MVNO id is not this application's.
    with pytest.raises(BadRequest) as caught:
        client(sandbox).send(sms(app=APP_B))

    assert caught.value.status_code == 400
    assert caught.value.error.startswith("MVNOID")
    assert caught.value.retryable is False


def test_an_unknown_message_is_an_invalid_route(sandbox):
    with pytest.raises(InvalidRoute) as caught:
        client(sandbox).status("no-such-message")

    assert caught.value.status_code == 404
    assert caught.value.error == "Message not found"


def test_an_unknown_route_is_an_invalid_route(sandbox):
    with pytest.raises(InvalidRoute, match="Invalid route"):
        client(sandbox)._request("GET", "message/send/now")


def test_a_wrong_verb_is_an_invalid_method(sandbox):
    with pytest.raises(InvalidMethod) as caught:
        client(sandbox)._request("POST", "ping", {})

    assert caught.value.status_code == 405
    assert caught.value.error == "Invalid method"


def test_a_spent_rate_budget_is_rate_limited_and_retryable(sandbox):
    api = client(sandbox, APP_SLOW)

    with pytest.raises(RateLimited) as caught:
        for _ in range(5):
            api.ping()

    assert caught.value.status_code == 429
    assert caught.value.error == "Maximum messages per second exceeded"
    assert caught.value.retryable is True
    time.sleep(0.6)
    assert api.ping() == "Pong!"


def test_the_always_rate_limited_recipient_is_rate_limited(sandbox):
    with pytest.raises(RateLimited):
        client(sandbox).send(sms(ALWAYS_RATE_LIMITED))


def test_a_server_error_is_unavailable_with_the_request_sent(sandbox):
    with pytest.raises(APIUnavailable) as caught:
        client(sandbox).send(sms(SERVER_ERROR))

    assert caught.value.status_code == 500
    assert caught.value.error == "Internal server error"
    assert caught.value.request_sent is True
    assert caught.value.retryable is True
    assert sandbox.control("GET", "messages")["messages"] == []


def test_a_flaky_recipient_fails_once_then_succeeds(sandbox):
    api = client(sandbox)

    with pytest.raises(APIUnavailable) as caught:
        api.send(sms(FLAKY))
    message_id = api.send(sms(FLAKY))

    assert caught.value.status_code == 503
    assert caught.value.request_sent is True
    assert sandbox.submissions()["total"] == 1
    assert sandbox.message(message_id)["recipient"] == FLAKY


def test_a_read_timeout_is_an_unknown_outcome(sandbox):
    sandbox.configure(slow_seconds=1.5)
    api = client(sandbox, read_timeout=0.3)

    with pytest.raises(APIUnavailable) as caught:
        api.send(sms(SLOW))

    assert caught.value.request_sent is True
    assert caught.value.status_code is None
    assert caught.value.retryable is True
    # The outcome really was unknown: the sandbox kept the message.
    deadline = time.monotonic() + 5
    while not sandbox.control("GET", "messages")["messages"]:
        assert time.monotonic() < deadline, "the slow message was never stored"
        time.sleep(0.05)


def test_a_refused_connection_never_sent_the_request():
    api = ILiveItClient(f"http://127.0.0.1:{free_port()}", "token", connect_timeout=1)

    with pytest.raises(APIUnavailable) as caught:
        api.send(sms())

    assert caught.value.request_sent is False
    assert caught.value.retryable is True


def test_a_connect_timeout_never_sent_the_request():
    # A connect timeout cannot be produced reliably on a test machine's network.
    assert _never_left(requests.ConnectTimeout()) is True
    assert _never_left(requests.ReadTimeout()) is False
    assert _never_left(requests.ConnectionError("Connection reset by peer")) is False


# --- isolation ----------------------------------------------------------------------------------


def test_another_application_cannot_see_a_message(sandbox):
    owner, outsider = client(sandbox, APP_A), client(sandbox, APP_B)
    message_id = owner.send(sms())
    wait_for_status(owner, message_id, finished)

    for read in (outsider.status, outsider.status_extended, outsider.archived_message):
        with pytest.raises(InvalidRoute, match="Message not found"):
            read(message_id)
    with pytest.raises(InvalidRoute, match="Message not found"):
        outsider.resend(ResendRequest(message_id=message_id, msisdn=VODACOM))
    assert sandbox.submissions()["total"] == 1


# --- validation happens first -------------------------------------------------------------------


class Tripwire(requests.adapters.BaseAdapter):
    def send(self, *args, **kwargs):
        raise AssertionError("a request left the client")

    def close(self):
        pass


def tripwired(sandbox) -> ILiveItClient:
    session = requests.Session()
    session.mount("http://", Tripwire())
    return ILiveItClient(sandbox.url, APP_A.token, session=session)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda api: api.send(sms(msisdn="+27820000001")), "Data.msisdn"),
        (
            lambda api: api.send(NewMessage(mvno_id=0, data=SMSData(msisdn=VODACOM, text="x"))),
            "MVNOID",
        ),
        (lambda api: api.send(mms(postback_status_types=("read",))), "PostbackStatusTypes"),
        (lambda api: api.generate_video(video(data="{oops")), "Data"),
        (lambda api: api.resend(ResendRequest(message_id="m1")), "MSISDN"),
        (lambda api: api.scrub("0820000001+"), "msisdn"),
        (lambda api: api.status(""), "message_id"),
        (lambda api: api.archived_message(" "), "message_id"),
    ],
)
def test_a_broken_request_never_reaches_the_api(sandbox, call, field):
    before = api_requests(sandbox)

    with pytest.raises(InvalidMessage) as caught:
        call(tripwired(sandbox))
    with pytest.raises(InvalidMessage):
        call(client(sandbox))

    assert caught.value.field == field
    assert api_requests(sandbox) == before


# --- postbacks ----------------------------------------------------------------------------------


def stages_of(post) -> tuple:
    result = StatusResult.from_json(post.json())
    return result.postback_type, tuple(
        getattr(result, stage) and getattr(result, stage).code
        for stage in ("build", "archive", "submit", "sent", "delivered")
    )


def test_every_requested_postback_arrives_and_parses(sandbox, postback_receiver):
    api = client(sandbox)
    url = postback_receiver.url("/status/ref-1")
    message_id = api.send(sms(postback_status_url=url, postback_status_types=ALL_POSTBACK_TYPES))

    postback_receiver.wait_for(lambda r: len(r.accepted("/status/ref-1")) == 5)
    results = [StatusResult.from_json(post.json()) for post in postback_receiver.accepted()]

    assert {result.message_id for result in results} == {message_id}
    assert [result.postback_type for result in results] == [
        PostbackType.SUBMIT,
        PostbackType.ARCHIVE,
        PostbackType.SUBMIT,
        PostbackType.SENT,
        PostbackType.DELIVERY,
    ]
    assert results[-1].delivered.code == 1
    assert results[0].delivered is None


def test_only_the_requested_postback_types_arrive(sandbox, postback_receiver):
    api = client(sandbox)
    url = postback_receiver.url()
    message_id = api.send(
        sms(postback_status_url=url, postback_status_types=(PostbackType.DELIVERY,))
    )
    wait_for_status(api, message_id, finished)

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 1)
    time.sleep(0.2)

    assert [stages_of(post)[0] for post in postback_receiver.accepted()] == [PostbackType.DELIVERY]


def test_a_video_posts_its_build_stages(sandbox, postback_receiver):
    api = client(sandbox)
    url = postback_receiver.url()
    api.generate_video(video(postback_status_url=url, postback_status_types=(PostbackType.BUILD,)))

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 2)

    builds = [StatusResult.from_json(post.json()).build for post in postback_receiver.accepted()]
    assert [build.code for build in builds] == [13, 14]


def test_a_refused_postback_is_retried_until_accepted(sandbox, postback_receiver):
    sandbox.configure(postback_retry_base=0.02)
    postback_receiver.fail_next(2, status=503)
    api = client(sandbox)
    api.send(sms(postback_status_url=postback_receiver.url(), postback_status_types=("delivery",)))

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 1)

    assert [post.answered for post in postback_receiver.posts] == [503, 503, 200]
    bodies = {post.body for post in postback_receiver.posts}
    assert len(bodies) == 1  # the same postback each time
    assert StatusResult.from_json(postback_receiver.posts[-1].json()).delivered.code == 1


def test_duplicate_postbacks_parse_to_equal_results(sandbox, postback_receiver):
    sandbox.configure(duplicate_postbacks=True)
    api = client(sandbox)
    url = postback_receiver.url()
    api.send(sms(postback_status_url=url, postback_status_types=ALL_POSTBACK_TYPES))

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 10)

    seen = [stages_of(post) for post in postback_receiver.accepted()]
    assert all(seen.count(item) == 2 for item in seen)
    assert len(set(seen)) == 5


def test_reordered_postbacks_arrive_newest_first(sandbox, postback_receiver):
    sandbox.configure(reorder_postbacks=True)
    api = client(sandbox)
    url = postback_receiver.url()
    api.send(sms(postback_status_url=url, postback_status_types=ALL_POSTBACK_TYPES))

    postback_receiver.wait_for(lambda r: len(r.accepted()) == 5)

    types = [stages_of(post)[0] for post in postback_receiver.accepted()]
    assert types == [
        PostbackType.DELIVERY,
        PostbackType.SENT,
        PostbackType.SUBMIT,
        PostbackType.ARCHIVE,
        PostbackType.SUBMIT,
    ]


# --- one pooled session per application ---------------------------------------------------------


@pytest.fixture
def fresh_clients():
    close_clients()
    yield
    close_clients()


def test_client_for_shares_one_client_per_application_across_threads(sandbox, fresh_clients):
    found = []

    def fetch():
        found.append(client_for(sandbox.url, APP_A.token))

    threads = [threading.Thread(target=fetch) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({id(api) for api in found}) == 1
    assert client_for(sandbox.url + "/", APP_A.token) is found[0]
    assert client_for(sandbox.url, APP_B.token) is not found[0]
    assert found[0].ping() == "Pong!"


def test_client_for_honours_other_timeouts_on_the_same_pool(sandbox, fresh_clients):
    default = client_for(sandbox.url, APP_A.token)

    quick = client_for(sandbox.url, APP_A.token, connect_timeout=1.0, read_timeout=2.0)

    assert quick.timeout == (1.0, 2.0)
    assert quick.session is default.session


def test_the_session_never_retries_below_the_client(fresh_clients):
    api = client_for("https://api.example", "token")

    for prefix in ("http://", "https://"):
        retries = api.session.get_adapter(prefix + "api.example").max_retries
        assert retries.total == 0
        assert retries.read is False


def test_the_token_stays_out_of_the_client_repr():
    assert "secret" not in repr(ILiveItClient("https://api.example", "secret"))


# --- faults only a stand-in can produce ---------------------------------------------------------

ENDPOINT = "https://api.example"


def stand_in() -> ILiveItClient:
    return ILiveItClient(ENDPOINT, "token-x")


@responses.activate
def test_every_call_sends_the_token_and_json_headers():
    responses.get(f"{ENDPOINT}/ping", json={"Body": "Pong!"})

    stand_in().ping()

    headers = responses.calls[0].request.headers
    assert headers["Authorization"] == "Bearer token-x"
    assert headers["Content-Type"] == "application/json"


@responses.activate
def test_ids_cannot_escape_their_path_segment():
    responses.get(f"{ENDPOINT}/message/..%2Fping/status", json={"message_id": "x"})

    assert stand_in().status("../ping").message_id == "x"


@pytest.mark.parametrize("message_id", [".", ".."])
@responses.activate
def test_a_dot_id_cannot_step_out_of_its_path_segment(message_id):
    responses.get(f"{ENDPOINT}/status", json={"message_id": "x"})

    with pytest.raises(InvalidMessage):
        stand_in().status(message_id)

    assert len(responses.calls) == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://api.example/v1",
        "https://api.example/v1/",
        "https://api.example/v1//",
        "https://api.example/v1/old/..",
        "https://api.example/v1/old/../",
    ],
)
@responses.activate
def test_routes_join_below_the_endpoints_path_however_it_ends(endpoint):
    responses.post("https://api.example/v1/message/send", json={"MessageID": "m1"})

    assert ILiveItClient(endpoint, "token-x").send(sms()) == "m1"
    assert responses.calls[0].request.url == "https://api.example/v1/message/send"


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://api.example/v1#",
        "https://api.example/v1?",
        "https://api.example/v1?route=",
        "https://api.example#/v1",
        "https://user:secret@api.example",
        "https://api.example@other.example",
        "ftp://api.example",
        "api.example",
    ],
)
def test_an_endpoint_with_user_info_a_query_or_a_fragment_is_refused(endpoint):
    with pytest.raises(EndpointRefused) as caught:
        ILiveItClient(endpoint, "token-x")

    assert "secret" not in str(caught.value)


@responses.activate
def test_a_success_with_a_non_json_body_is_malformed():
    responses.post(f"{ENDPOINT}/message/send", body="<html>OK</html>", status=200)

    with pytest.raises(MalformedResponse) as caught:
        stand_in().send(sms())

    assert caught.value.retryable is False
    assert caught.value.status_code == 200


@pytest.mark.parametrize("body", [["MessageID", "x"], {"MessageID": ""}, {"Id": "x"}])
@responses.activate
def test_a_success_without_a_message_id_is_malformed(body):
    responses.post(f"{ENDPOINT}/message/send", json=body)

    with pytest.raises(MalformedResponse):
        stand_in().send(sms())


@responses.activate
def test_a_status_of_the_wrong_shape_is_malformed():
    responses.get(f"{ENDPOINT}/message/m1/status", json={"message_id": "m1", "sent_status": "x"})

    with pytest.raises(MalformedResponse, match="sent_status"):
        stand_in().status("m1")


GO_SCRUB = {
    "msisdn": VODACOM,
    "network": "vodacom",
    "handset_make": "Acme",
    "handset_model": "One",
    "is_mms_provisioned": "true",
    "is_mms_capable": "1",
    "allow_send": "false",
    "screen_size": {"width": "720", "height": "1280"},
    "error_code": "0",
    "error": "",
}


@responses.activate
def test_scrub_reads_the_go_clients_string_types():
    # The sandbox answers in the C# client's types (see test_scrub_reports_a_capable_handset);
    # a provider shaped like the Go client answers strings.
    responses.get(f"{ENDPOINT}/scrub/{VODACOM}", json=GO_SCRUB)

    result = stand_in().scrub(VODACOM)

    assert (result.is_mms_provisioned, result.is_mms_capable, result.allow_send) == (
        True,
        True,
        False,
    )
    assert (result.screen_width, result.screen_height, result.error_code) == (720, 1280, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("allow_send", "perhaps"), ("is_mms_capable", 7), ("error_code", "n/a")],
)
@responses.activate
def test_a_scrub_answer_with_nonsense_values_is_malformed(field, value):
    responses.get(f"{ENDPOINT}/scrub/{VODACOM}", json=GO_SCRUB | {field: value})

    with pytest.raises(MalformedResponse, match=field) as caught:
        stand_in().scrub(VODACOM)

    assert caught.value.status_code == 200


@responses.activate
def test_a_gateway_error_page_is_unavailable():
    responses.post(
        f"{ENDPOINT}/message/send", body="<html><h1>502 Bad Gateway</h1></html>", status=502
    )

    with pytest.raises(APIUnavailable) as caught:
        stand_in().send(sms())

    assert caught.value.status_code == 502
    assert caught.value.error == "Bad Gateway"
    assert caught.value.request_sent is True


@responses.activate
def test_any_other_client_error_is_auth_failed():
    responses.get(f"{ENDPOINT}/ping", json={"Error": "Forbidden"}, status=403)

    with pytest.raises(AuthFailed) as caught:
        stand_in().ping()

    assert (caught.value.status_code, caught.value.error) == (403, "Forbidden")


@responses.activate
def test_a_rate_limit_passes_on_retry_after():
    responses.get(
        f"{ENDPOINT}/ping",
        json={"Error": "Maximum messages per second exceeded"},
        status=429,
        headers={"Retry-After": "2"},
    )

    with pytest.raises(RateLimited) as caught:
        stand_in().ping()

    assert caught.value.retry_after == 2.0


@responses.activate
def test_a_redirect_is_not_followed():
    responses.post(
        f"{ENDPOINT}/message/send", status=301, headers={"Location": "https://other.example/"}
    )

    with pytest.raises(MalformedResponse, match=r"other\.example"):
        stand_in().send(sms())

    assert len(responses.calls) == 1


@responses.activate
def test_a_dropped_connection_after_sending_is_an_unknown_outcome():
    error = requests.ConnectionError("Remote end closed connection without response")
    responses.post(f"{ENDPOINT}/message/send", body=error)

    with pytest.raises(APIUnavailable) as caught:
        stand_in().send(sms())

    assert caught.value.request_sent is True
