"""The hourly prune of data past its lifetime. It lives in api, the top layer, because it
prunes the API's idempotency keys as well as the retention of messages and postbacks."""

from api.idempotency import idempotency_keys_prune
from postbacks.retention import retention_prune


def portal_prune(*, retention_days: int) -> dict[str, int]:
    """Prune expired idempotency keys, and what is older than `retention_days` (0 keeps it);
    answer how many rows of each kind."""
    # Idempotency keys have their own fixed lifetime (24 h), whatever the retention.
    pruned = {"idempotency_keys": idempotency_keys_prune()}
    if retention_days:
        pruned.update(retention_prune(days=retention_days))
    return pruned
