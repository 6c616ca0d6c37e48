"""`python -m sandbox --host H --port P --app TOKEN:MVNO:RATE [...]`: run until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from sandbox.config import App, Config, parse_app
from sandbox.server import SandboxHTTPServer
from sandbox.state import Sandbox

log = logging.getLogger("sandbox")


def _app(value: str) -> App:
    # argparse shows the reason only for an ArgumentTypeError, not for a ValueError.
    try:
        return parse_app(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more: {value!r}")
    return seconds


def _fraction(value: str) -> float:
    try:
        fraction = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 <= fraction <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1: {value!r}")
    return fraction


def build_parser() -> argparse.ArgumentParser:
    defaults = Config()
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="A local stand-in for the iLiveIt Messaging API (see sandbox/README.md).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on")
    parser.add_argument(
        "--app",
        dest="apps",
        type=_app,
        action="append",
        required=True,
        metavar="TOKEN:MVNO:RATE",
        help="an application: bearer token, MVNO id, API calls per second (repeatable)",
    )
    parser.add_argument(
        "--step-seconds",
        type=_seconds,
        default=defaults.step_seconds,
        help="time between lifecycle stages",
    )
    parser.add_argument(
        "--slow-seconds",
        type=_seconds,
        default=defaults.slow_seconds,
        help="how long the slow magic recipients wait before answering",
    )
    parser.add_argument(
        "--postback-retry-base",
        type=_seconds,
        default=defaults.postback_retry_base,
        help="first postback retry delay; doubles per attempt, capped at 30 s",
    )
    parser.add_argument(
        "--duplicate-postbacks", action="store_true", help="deliver every postback twice"
    )
    parser.add_argument(
        "--reorder-postbacks",
        action="store_true",
        help="hold a message's postbacks until its lifecycle ends, then send them newest first",
    )
    parser.add_argument(
        "--error-rate",
        type=_fraction,
        default=defaults.error_rate,
        help="share of send and video calls that answer 503 and store nothing (0 to 1)",
    )
    parser.add_argument(
        "--slow-rate",
        type=_fraction,
        default=defaults.slow_rate,
        help="share of accepted send and video calls that answer after --slow-seconds (0 to 1)",
    )
    parser.add_argument(
        "--throttle-rate",
        type=_fraction,
        default=defaults.throttle_rate,
        help="share of send and video calls that answer 429 and store nothing (0 to 1)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help="seed for the injected faults (default: the system's randomness)",
    )
    parser.add_argument(
        "--postback-senders", type=int, default=16, help="threads delivering postbacks"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="debug logs one line per request",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.postback_retry_base <= 0 or args.postback_senders < 1:
        build_parser().error("--postback-retry-base and --postback-senders must be positive")
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = Config(
        step_seconds=args.step_seconds,
        slow_seconds=args.slow_seconds,
        postback_retry_base=args.postback_retry_base,
        duplicate_postbacks=args.duplicate_postbacks,
        reorder_postbacks=args.reorder_postbacks,
        error_rate=args.error_rate,
        slow_rate=args.slow_rate,
        throttle_rate=args.throttle_rate,
        seed=args.seed,
    )
    sandbox = Sandbox(args.apps, config, postback_senders=args.postback_senders)
    server = SandboxHTTPServer((args.host, args.port), sandbox)
    sandbox.start()

    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    # serve_forever runs in its own thread: shutdown() must come from another thread than it.
    serving = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="http", daemon=True
    )
    serving.start()
    host, port = server.server_address[:2]
    log.info("iLiveIt sandbox listening on http://%s:%s", host, port)
    for app in args.apps:
        log.info("  app token=%s mvno=%s rate=%s/s", app.token, app.mvno_id, app.rate)
    log.info("  %s", " ".join(f"{key}={value}" for key, value in config.to_json().items()))

    while not stop_requested.wait(timeout=1):
        pass
    log.info("stopping")
    server.shutdown()
    server.server_close()
    sandbox.stop()
    return 0
