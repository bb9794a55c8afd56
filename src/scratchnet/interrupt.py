"""SIGTERM behaves like Ctrl-C, so a terminated run ends KILLED instead of staying RUNNING."""

import contextlib
import signal


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def install_sigterm_handler() -> None:
    """Turn SIGTERM into KeyboardInterrupt (only possible in the main thread; else a no-op)."""
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, _raise_interrupt)
