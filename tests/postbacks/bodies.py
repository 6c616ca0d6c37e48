"""Status postback bodies shaped as iLiveIt sends them (NOTES.md, "StatusResult"): every stage
present, the ones that have not happened with code 0 and the zero timestamp."""

from datetime import UTC, datetime

from iliveit import STAGES
from iliveit.types import ZERO_TIMESTAMP


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(
    message_id: str,
    postback_type: str | None,
    *,
    stages: dict[str, tuple[int, str, datetime | str]],
    network: str = "vodacom",
    msisdn: str = "27820000001",
    message_type: str = "sms",
) -> dict:
    """A StatusResult in the documented snake_case keys; `stages` maps a stage to its
    (code, description, timestamp)."""
    body = {
        "type": message_type,
        "campaign": "Spring sale",
        "message_id": message_id,
        "template": 0,
        "network": network,
        "msisdn": msisdn,
        "email": "",
        "mvno": 101,
        "date_received": "2025-03-01T09:59:58Z",
    }
    for name in STAGES:
        code, description, moment = stages.get(name, (0, "", ZERO_TIMESTAMP))
        body[f"{name}_status"] = code
        body[f"{name}_status_description"] = description
        body[f"{name}_timestamp"] = moment if isinstance(moment, str) else rfc3339(moment)
    if postback_type is not None:
        body["postback_type"] = postback_type
    return body


def go_case(body: dict) -> dict:
    """The same body with keys in Go-field case, as the Go client spells them ("MessageID",
    "MSISDN", "Network", "DeliveredStatusDescription", ...)."""
    special = {"message_id": "MessageID", "msisdn": "MSISDN", "mvno": "MVNO"}

    def camel(key: str) -> str:
        return special.get(key) or "".join(part.capitalize() for part in key.split("_"))

    return {camel(key): value for key, value in body.items()}
