"""A tracking server that does not answer: wait for it, with a bounded backoff, then say so.

A server restarting (a deploy, a PostgreSQL restart, a crash) is away for seconds; jobs that
start or flush meanwhile wait up to `tracking.server_wait_seconds` for it, probing its port
(a TCP connect: MLflow's own client would retry each call for minutes), at 0.5, 1, 2, 4, 8,
10, 10, ... s apart.
"""

import contextlib
import logging
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlparse

from scratchnet.core.environ import environment
from scratchnet.core.errors import ConfigError

DEFAULT_WAIT_SECONDS = 120.0
MAX_DELAY_SECONDS = 10.0
FAIL_FAST_TIMEOUT_SECONDS = 10
# MLflow's client settings, read at every HTTP call: retries (7 by default, minutes of backoff)
# and the timeout of one request (120 s by default).
MLFLOW_RETRIES_ENV, MLFLOW_TIMEOUT_ENV = (
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    "MLFLOW_HTTP_REQUEST_TIMEOUT",
)
log = logging.getLogger("scratchnet")


def is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def address(uri: str) -> tuple[str, int]:
    """The (host, port) a server URI names; ConfigError for a bad port."""
    parsed = urlparse(uri)
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError as err:
        raise ConfigError(f"tracking.uri={uri!r}: {err} (allowed: http(s)://host:port)") from err
    return parsed.hostname or "", port


def probe(uri: str, timeout: float = 5.0) -> str | None:
    """None if something accepts TCP connections at the URI's host and port, else why not."""
    host, port = address(uri)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as err:
        return err.strerror or type(err).__name__


def not_answering(uri: str, reason: str, waited: float) -> ConfigError:
    host, port = address(uri)
    after = f" after waiting {waited:.0f} s (tracking.server_wait_seconds)" if waited else ""
    return ConfigError(
        f"tracking.uri={uri!r}: no tracking server answers at {host}:{port} ({reason}){after}; "
        "start one with `make server` or pass tracking.uri=..."
    )


def wait_for_server(uri: str, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
    """Return once the server accepts connections; ConfigError after `wait_seconds`."""
    start = time.monotonic()
    reason = probe(uri)
    if reason is None:
        return
    host, port = address(uri)
    log.warning(
        "no tracking server answers at %s:%d (%s); waiting up to %g s for it "
        "(tracking.server_wait_seconds)",
        *(host, port, reason, wait_seconds),
    )
    delay = 0.5
    while True:
        left = wait_seconds - (time.monotonic() - start)
        if left <= 0:
            raise not_answering(uri, reason, time.monotonic() - start)
        time.sleep(min(delay, left))
        delay = min(delay * 2, MAX_DELAY_SECONDS)
        reason = probe(uri, timeout=min(5.0, max(left, 0.5)))
        if reason is None:
            log.info("the tracking server at %s:%d answers again", host, port)
            return


@contextlib.contextmanager
def fail_fast(timeout_seconds: int = FAIL_FAST_TIMEOUT_SECONDS) -> Iterator[None]:
    """MLflow's HTTP calls in the block try once, for at most `timeout_seconds`, instead of
    retrying for minutes: a caller that can keep its data for later (`EpochLogger`) learns at
    once that the server went away, and goes on training.

    The settings are process-wide while the block runs: a heartbeat's call made meanwhile may
    fail fast too, which its next beat retries.
    """
    with environment({MLFLOW_RETRIES_ENV: "0", MLFLOW_TIMEOUT_ENV: str(timeout_seconds)}):
        yield
