"""The beat's sweep: applying what lost drains left behind, then handing lost hints back to
the workers. It lives above messaging because it runs the postbacks sweep first."""

from iliveit_portal.health import beat_seen
from messaging.services import messages_sweep
from postbacks.drain import postbacks_sweep


def portal_sweep() -> dict[str, int]:
    """One sweep round (beat, every SWEEP_INTERVAL_S); answer counts by what was done."""
    beat_seen()
    # Postbacks first: one that adopts a MessageID settles a message the message sweep would
    # otherwise re-queue.
    return {**postbacks_sweep(), **messages_sweep()}
