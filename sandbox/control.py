"""Control routes under /_sandbox/: for tests and benchmarks to steer and inspect the sandbox.
They need no token and do not count as API calls (no rate limit, not in stats)."""

from __future__ import annotations

from sandbox.state import Sandbox
from sandbox.web import ApiError, Request, Response, RouteTable, ok

# A postback attempt as GET /_sandbox/postback-attempts lists it: lists, not objects, since a
# benchmark reads a hundred thousand of them.
ATTEMPT_FIELDS = ("message_id", "postback_type", "status", "ms")


def health(sandbox: Sandbox, request: Request) -> Response:
    return ok({"ok": True})


def get_config(sandbox: Sandbox, request: Request) -> Response:
    return ok(sandbox.config.to_json())


def set_config(sandbox: Sandbox, request: Request) -> Response:
    changes = request.json()
    if not isinstance(changes, dict):
        raise ApiError(400, "body: must be a JSON object")
    try:
        return ok(sandbox.configure(changes).to_json())
    except ValueError as error:
        raise ApiError(400, str(error)) from None


def reset(sandbox: Sandbox, request: Request) -> Response:
    sandbox.reset()
    return ok({"ok": True})


def messages(sandbox: Sandbox, request: Request) -> Response:
    return ok({"messages": sandbox.store.records(request.query.get("token"))})


def message(sandbox: Sandbox, request: Request) -> Response:
    record = sandbox.store.record(request.params["id"])
    if record is None:
        raise ApiError(404, "Message not found")
    return ok(record)


def reply(sandbox: Sandbox, request: Request) -> Response:
    """Make the recipient answer now, as the reply magic recipients do after delivery."""
    found = sandbox.store.get(request.params["id"])
    if found is None:
        raise ApiError(404, "Message not found")
    body = request.json()
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise ApiError(400, "text: required")
    if not found.submission.postback_reply_url:
        raise ApiError(400, "PostbackReplyUrl: the message has none")
    sandbox.lifecycle.send_reply(found, text)
    return ok({"ok": True})


def submissions(sandbox: Sandbox, request: Request) -> Response:
    return ok(sandbox.store.submissions())


def postbacks(sandbox: Sandbox, request: Request) -> Response:
    return ok({"postbacks": sandbox.dispatcher.deliveries(request.query.get("message_id"))})


def postback_attempts(sandbox: Sandbox, request: Request) -> Response:
    rows = sandbox.dispatcher.attempts()
    return ok({"fields": list(ATTEMPT_FIELDS), "attempts": [list(row) for row in rows]})


def stats(sandbox: Sandbox, request: Request) -> Response:
    return ok(sandbox.stats.snapshot())


def build_routes() -> RouteTable:
    routes = RouteTable()
    routes.add("GET", "health", health)
    routes.add("GET", "config", get_config)
    routes.add("POST", "config", set_config)
    routes.add("POST", "reset", reset)
    routes.add("GET", "messages", messages)
    routes.add("GET", "submissions", submissions)
    routes.add("GET", "postbacks", postbacks)
    routes.add("GET", "postback-attempts", postback_attempts)
    routes.add("GET", "stats", stats)
    routes.add("GET", "messages/{id}", message)
    routes.add("POST", "messages/{id}/reply", reply)
    return routes
