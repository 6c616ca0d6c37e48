"""The running sandbox: its applications, switches, storage and background machinery."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import replace
from typing import Any

from sandbox.config import App, Config
from sandbox.faults import Faults
from sandbox.lifecycle import Lifecycle
from sandbox.postbacks import PostbackDispatcher
from sandbox.ratelimit import RateLimiter
from sandbox.scheduler import Scheduler
from sandbox.stats import Stats
from sandbox.status import utcnow
from sandbox.store import Message, Store, build_message, new_message_id
from sandbox.validation import Submission


class Sandbox:
    def __init__(self, apps: list[App], config: Config, *, postback_senders: int = 16) -> None:
        self.apps = {app.token: app for app in apps}
        self.startup_config = config
        self._config = config
        self._config_lock = threading.Lock()
        self.store = Store()
        self.stats = Stats()
        self.faults = Faults(config.seed)
        self.limiter = RateLimiter({app.token: app.rate for app in apps})
        self.scheduler = Scheduler()
        self.dispatcher = PostbackDispatcher(
            self.scheduler,
            self.stats,
            senders=postback_senders,
            retry_base=lambda: self.config.postback_retry_base,
        )
        self.lifecycle = Lifecycle(self.store, self.scheduler, self.dispatcher)

    @property
    def config(self) -> Config:
        return self._config

    def start(self) -> None:
        self.scheduler.start()
        self.dispatcher.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.dispatcher.stop()

    def configure(self, changes: dict[str, Any]) -> Config:
        with self._config_lock:
            self._config = self._config.updated(changes)
            if "seed" in changes:
                # Even the same seed starts its sequence again, so a test can replay it.
                self.faults.reseed(self._config.seed)
            return self._config

    def reset(self) -> None:
        """Back to the state just after start-up, with the command line's switches."""
        with self.scheduler.paused():
            self.scheduler.clear()
            self.dispatcher.reset()
            self.store.reset()
            self.limiter.reset()
            self.stats.reset()
            with self._config_lock:
                self._config = self.startup_config
                self.faults.reseed(self._config.seed)

    def inject_error(self) -> bool:
        """Whether this call fails by the `error_rate` switch (counted when it does)."""
        if self.faults.hit(self.config.error_rate):
            self.stats.count("injected_errors")
            return True
        return False

    def inject_throttle(self) -> bool:
        """Whether this call is refused with a 429 by the `throttle_rate` switch (counted when
        it is)."""
        if self.faults.hit(self.config.throttle_rate):
            self.stats.count("injected_throttles")
            return True
        return False

    def inject_slow(self) -> bool:
        """Whether this call answers late by the `slow_rate` switch (counted when it does)."""
        if self.faults.hit(self.config.slow_rate):
            self.stats.count("injected_slow")
            return True
        return False

    def accept(
        self, sub: Submission, *, app: App, request: Any, resend_of: str | None = None
    ) -> Message:
        """Store a submission and start its lifecycle; the stored message."""
        config = self.config
        message = build_message(
            sub,
            message_id=resend_of or new_message_id(),
            token=app.token,
            mvno_id=app.mvno_id,
            request=request,
            now=utcnow(),
            duplicate_postbacks=config.duplicate_postbacks,
            reorder_postbacks=config.reorder_postbacks,
        )
        if resend_of is not None:
            # A resend's id is the original's followed by a unix timestamp; two resends within
            # one second would collide, so the later one takes the next free second.
            for stamp in itertools.count(int(time.time())):
                message = replace(message, message_id=f"{resend_of}{stamp}")
                if self.store.add(message):
                    break
        elif not self.store.add(message):
            raise RuntimeError("message id collision")
        self.lifecycle.start(message, config.step_seconds)
        return message
