"""The sandbox's applications and its switches, as given on the command line."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class App:
    """One iLiveIt application: its bearer token, MVNO (client) id and calls per second."""

    token: str
    mvno_id: int
    rate: float


@dataclass(frozen=True)
class Config:
    step_seconds: float = 1.0
    slow_seconds: float = 3.0
    postback_retry_base: float = 0.2
    duplicate_postbacks: bool = False
    reorder_postbacks: bool = False
    # Fault injection for chaos tests: the share of send and video calls that fail with a 503,
    # are refused with a 429 or answer late, drawn from a generator seeded with `seed` (None:
    # the system's randomness).
    error_rate: float = 0.0
    slow_rate: float = 0.0
    throttle_rate: float = 0.0
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: dict[str, Any]) -> Config:
        """A copy with `changes` applied; ValueError names the first bad key or value."""
        known = {field.name for field in fields(self)}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"{key}: unknown setting")
            check_setting(key, value, self)
        if changes.get("postback_retry_base") == 0:
            raise ValueError("postback_retry_base: must be more than zero")
        return replace(self, **changes)


RATES = ("error_rate", "slow_rate", "throttle_rate")


def check_setting(key: str, value: Any, config: Config) -> None:
    """ValueError unless `value` suits the switch `key` (bools are not numbers here)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if key == "seed":
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool)):
            raise ValueError("seed: must be an integer or null")
    elif key in RATES:
        # Written so that NaN fails too.
        if not (is_number and 0 <= value <= 1):
            raise ValueError(f"{key}: must be a number from 0 to 1")
    elif isinstance(getattr(config, key), bool):
        if not isinstance(value, bool):
            raise ValueError(f"{key}: must be true or false")
    elif not (is_number and value >= 0):
        raise ValueError(f"{key}: must be a number of seconds, zero or more")


def parse_app(spec: str) -> App:
    """Parse `TOKEN:MVNO:RATE`; the token itself may not contain ':'."""
    parts = spec.split(":")
    if len(parts) != 3 or not parts[0]:
        raise ValueError(f"expected TOKEN:MVNO:RATE, got {spec!r}")
    token, mvno, rate = parts
    try:
        app = App(token=token, mvno_id=int(mvno), rate=float(rate))
    except ValueError:
        raise ValueError(f"MVNO must be an integer and RATE a number in {spec!r}") from None
    if app.mvno_id == 0 or app.rate <= 0:
        raise ValueError(f"MVNO must be non-zero and RATE positive in {spec!r}")
    return app
