"""What iLiveIt's stages and status codes mean (NOTES.md): the provider's vocabulary, written
once. The status merge (postbacks.merge), the dashboard's queries and the message pages read
it from here; the roll-up triggers repeat some of it in SQL, pinned by
tests/messaging/test_states.py.
"""

# The stages of iLiveIt's pipeline, in the order it runs them. A status report carries a code,
# description and timestamp for each; Message has a <stage>_code, <stage>_description and
# <stage>_at column for each.
STAGES = ("build", "archive", "submit", "sent", "delivered")

# Build, archive and submit stage codes (NOTES.md). Sent and delivered carry network codes
# instead, where only 1 (success) and 12 (Assumed Delivered) are documented.
PIPELINE_CODES: dict[int, str] = {
    1: "Received",
    2: "Submitted",
    3: "SubmitFailed",
    4: "Archived",
    5: "ArchivedNetworkRule",
    6: "FailedMarshal",
    7: "FailedUnmarshal",
    8: "ScrubUnavailable",
    9: "NotMMS",
    10: "TemplateError",
    11: "NoNetwork",
    12: "RenderFarmFailed",
    13: "RenderFarmSent",
    14: "RenderFarmSuccess",
    15: "ReadFileFailed",
    16: "Invalid",
    17: "NoHandsetInfo",
    18: "NotMMSProvisioned",
}

# Pipeline codes (build, archive, submit) that mean the message got no further.
PIPELINE_FAILURES = frozenset({3, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, 18})
# The build code that means the message is built (RenderFarmSuccess).
BUILD_DONE = 14
# Network codes for sent and delivered: 1 is success, 12 "Assumed Delivered" (72 h, no failure).
NETWORK_OK = frozenset({1})
DELIVERED_OK = frozenset({1, 12})
