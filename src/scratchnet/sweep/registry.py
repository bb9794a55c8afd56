"""The sweeps this process holds open, so the entry point can close them on Ctrl-C or a crash.

Hydra creates the sweep callback itself, so nothing else can reach the parent runs it opens;
this registry is the one place they are known. It imports nothing heavy: the entry point
reads it on every exit, sweep or not.
"""

import logging
from collections.abc import Callable

log = logging.getLogger("scratchnet.sweep")
_OPEN: dict[str, Callable[[str, str], None]] = {}  # parent run id -> closes it (status, why)


def register(parent_run_id: str, close: Callable[[str, str], None]) -> None:
    """Remember an open sweep and how to close it."""
    _OPEN[parent_run_id] = close


def forget(parent_run_id: str) -> None:
    """The sweep was closed."""
    _OPEN.pop(parent_run_id, None)


def close_open_sweeps(status: str, why: str = "") -> None:
    """End every sweep this process still holds open with `status` (e.g. KILLED on Ctrl-C) and
    `why`. Called while another error is being reported: a close that fails (said by the close
    itself) does not replace that error."""
    for close in list(_OPEN.values()):
        try:
            close(status, why)
        except Exception as err:
            log.debug("closing a sweep failed: %r", err)
