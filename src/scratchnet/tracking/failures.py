"""What went wrong with a store, as one line: no space left, a server away, anything else.

MLflow reports a full disk as SQLite's "database or disk is full", PostgreSQL's "could not
extend file ... No space left on device" (inside an HTTP 500) or an OSError (ENOSPC) while it
copies artifacts, an unreachable server as requests' connection errors wrapped in an
MlflowException, and a SQLite store whose write lock another process held past the busy
timeout as "database is locked"; the error chain is searched for each.
"""

import contextlib
import errno
import sqlite3
import sys
from collections.abc import Iterator

from scratchnet.core.errors import RuntimeFailure, ScratchnetError

NO_SPACE_TEXTS = ("database or disk is full", "no space left on device", "could not extend file")
UNREACHABLE_TEXTS = ("max retries exceeded", "connection refused", "connection aborted")
LOCKED_TEXTS = ("database is locked",)
LOCKED_NOTE = "stayed locked by another process's write"  # what `store_locked` says


class StoreError(ScratchnetError):
    """The store, experiment or run asked for cannot be read or written."""


class StoreFullError(StoreError, RuntimeFailure):
    """The store's device is full: nothing more can be written until space is freed (exit 1)."""


class StoreLockedError(StoreError, RuntimeFailure):
    """Another process held the SQLite store's write lock throughout the wait (exit 1)."""


def chain(err: BaseException) -> Iterator[BaseException]:
    """`err`, then its causes and contexts, each once."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _says(err: BaseException, texts: tuple[str, ...]) -> bool:
    return any(text in str(e).lower() for e in chain(err) for text in texts)


def no_space(err: BaseException) -> bool:
    """Whether `err` comes from a full device (the store's file system or the server's)."""
    if any(isinstance(e, OSError) and e.errno == errno.ENOSPC for e in chain(err)):
        return True
    return _says(err, NO_SPACE_TEXTS)


def unreachable(err: BaseException) -> bool:
    """Whether `err` is a tracking server that could not be reached (after MLflow's retries)."""
    if isinstance(err, StoreFullError):
        return False
    if any(type(e).__name__ in ("ConnectionError", "NewConnectionError") for e in chain(err)):
        return True
    return _says(err, UNREACHABLE_TEXTS)


def locked(err: BaseException) -> bool:
    """Whether `err` is SQLite's busy timeout: another connection kept the write lock."""
    return _says(err, LOCKED_TEXTS)


def first_line(err: BaseException) -> str:
    """The error's first line, without MLflow's and SQLAlchemy's trailing notes."""
    text = str(getattr(err, "message", None) or err).strip()
    return text.splitlines()[0].strip() if text else type(err).__name__


def store_full(where: str) -> StoreFullError:
    """The one-line error for a write that found no space left (in the store `where`); the
    database's own words ("database or disk is full") stay in its cause, not in the line."""
    store = f"the tracking store {where}" if where else "the tracking store"
    return StoreFullError(
        f"{store} has no space left on its device: free some, then run the same command again "
        "(a sweep resumes where it stopped)"
    )


def store_locked(where: str) -> StoreLockedError:
    """The one-line error for a write that waited out another process's lock on `where`."""
    store = f"the tracking store {where}" if where else "the tracking store"
    return StoreLockedError(
        f"{store} {LOCKED_NOTE}: a process stopped (Ctrl-Z) or stuck while writing to it holds "
        "the lock; let it go on or end it, then run the same command again"
    )


def as_store_error(where: str, err: BaseException) -> StoreError:
    """`err` (raised by MLflow while writing to `where`) as a one-line StoreError."""
    if isinstance(err, StoreError):
        return err
    if no_space(err):
        return store_full(where)
    if locked(err):
        return store_locked(where)
    return StoreError(f"tracking store{f' {where}' if where else ''}: {first_line(err)}")


def failure_note(err: BaseException) -> str:
    """Why a run failed, for its failure tag: one line."""
    if no_space(err):
        return "no space left on the tracking store's device"
    return f"{type(err).__name__}: {first_line(err)}"[:500]


def from_mlflow(err: BaseException) -> bool:
    """Whether `err` is one of MLflow's errors (none can be raised where it was never imported,
    so this does not import it)."""
    module = sys.modules.get("mlflow.exceptions")
    return module is not None and isinstance(err, module.MlflowException)


@contextlib.contextmanager
def store_errors(where: str = "") -> Iterator[None]:
    """Turn MLflow's and SQLite's errors inside the block into a one-line StoreError (a full
    device says "no space left", naming the store `where`)."""
    try:
        yield
    except sqlite3.DatabaseError as err:
        raise as_store_error(where, err) from err
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise as_store_error(where, err) from err
        raise
    except Exception as err:
        if from_mlflow(err):
            raise as_store_error(where, err) from err
        raise
