"""Garbage collection around a sweep process's imports, and at a command's exit.

A sweep process imports ~350,000 objects that live as long as it does (MLflow, SQLAlchemy,
scikit-learn, Hydra). Python's full collections walk every one of them each time: five or six
while importing, two or three during a worker's jobs and one more at exit, 0.3-0.9 s each on
two busy cores. Frozen (`gc.freeze`), they are skipped by every later collection, the exit's
included; what the jobs make is collected as before.
"""

import atexit
import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def imports_settled() -> Iterator[None]:
    """No collection while the block runs (it imports what the process keeps), then what it
    made frozen; on its way out if it raises, too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def no_collection_at_exit() -> None:
    """Freeze the heap once every other exit handler has run (registered first, this runs
    last), so the interpreter's last collection walks none of it: ~0.9 s of a report that
    opened MLflow's store, here. What reference counting frees at exit still is; only cycles
    are left to the process's end, and our files and stores are closed before (`with`)."""
    atexit.register(gc.freeze)
