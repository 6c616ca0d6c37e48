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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: dict[str, Any]) -> Config:
        """A copy with `changes` applied; ValueError names the first bad key or value."""
        known = {field.name for field in fields(self)}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"{key}: unknown setting")
            if isinstance(getattr(self, key), bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{key}: must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{key}: must be a number of seconds, zero or more")
        if changes.get("postback_retry_base") == 0:
            raise ValueError("postback_retry_base: must be more than zero")
        return replace(self, **changes)


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
