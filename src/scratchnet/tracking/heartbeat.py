"""A heartbeat: a daemon thread that records a sign of life every few seconds.

Runs and sweep leases owned by a process on another machine can only be told dead by a
heartbeat gone quiet (`scratchnet.core.liveness`). The thread costs nothing until its first
beat (`HEARTBEAT_SECONDS` after it starts), so a short run writes no beat at all; a beat that
fails (a store busy or a server away) is retried at the next one, never raised.
"""

import logging
import threading
import time
from collections.abc import Callable

from scratchnet.core.liveness import HEARTBEAT_SECONDS

log = logging.getLogger("scratchnet")


def now_ms() -> int:
    """Milliseconds since the epoch, as MLflow records times."""
    return int(time.time() * 1000)


class Heartbeat:
    """Calls `beat(now_ms)` every `every` seconds in a daemon thread until `stop()`."""

    def __init__(
        self, beat: Callable[[int], None], every: float = HEARTBEAT_SECONDS, name: str = "beat"
    ) -> None:
        self._beat = beat
        self._every = every
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"scratchnet-{name}", daemon=True)

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def stop(self) -> None:
        """No beat after this returns begins (one in flight finishes on its own)."""
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self._every):
            try:
                self._beat(now_ms())
            except Exception as err:  # the next beat tries again
                log.debug("heartbeat failed: %r", err)
