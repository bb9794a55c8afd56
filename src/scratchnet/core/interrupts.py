"""Interrupts: SIGTERM behaves like Ctrl-C (a terminated run ends KILLED instead of staying
RUNNING), and neither lands inside a write to the tracking store."""

import contextlib
import signal
import threading
from collections.abc import Iterator


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def install_sigterm_handler() -> None:
    """Turn SIGTERM into KeyboardInterrupt (only possible in the main thread; else a no-op)."""
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, _raise_interrupt)


INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends: an interrupt never lands inside SQLite.

    A KeyboardInterrupt raised inside MLflow's SQLAlchemy session leaves that connection's
    write lock on the database, and every other process logging there gets `database is
    locked` 20 s later. Here the signal is noted while the block runs and handled
    once the block is done, by the handler that was in place (Python's raise KeyboardInterrupt;
    SIG_IGN and SIG_DFL are left alone). Outside the main thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    held = {s: h for s in INTERRUPTS if callable(h := signal.getsignal(s))}
    for signum in held:
        signal.signal(signum, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for signum, handler in held.items():
            signal.signal(signum, handler)
    if pending:
        held[signal.Signals(pending[0])](pending[0], None)  # Python's raise KeyboardInterrupt
