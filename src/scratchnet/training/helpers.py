"""Helper threads for train()'s spare core, handed their work through C-level primitives only.

Ctrl-C raises KeyboardInterrupt in the main thread between two of its bytecodes. Inside the
Python-level locking of `concurrent.futures` or `threading.Condition`, that can leave a lock
held that a helper thread then waits on forever, and the run's close hangs. Here the caller
only puts into a `SimpleQueue` and acquires plain locks: C calls, done whole or not at all.
"""

import queue
import threading
import weakref
from collections.abc import Callable

Tasks = queue.SimpleQueue  # of (task, Done), then None to stop


class Done:
    """A task's completion: `wait` returns once its thread has run it, raising what it raised."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()  # released by the thread when the task has run
        self._error: BaseException | None = None

    def set(self, error: BaseException | None = None) -> None:
        self._error = error
        self._lock.release()

    def wait(self) -> None:
        self._lock.acquire()
        self._lock.release()  # a later wait returns at once
        if self._error is not None:
            raise self._error


class HelperThread:
    """A daemon thread running the tasks handed to it, in order, until `close` (or until this
    object is garbage-collected: an owner that failed before closing it leaves no thread)."""

    def __init__(self, name: str) -> None:
        self._tasks: Tasks[tuple[Callable[[], object], Done] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=_serve, args=(self._tasks,), name=name)
        self._thread.daemon = True
        self._thread.start()
        self._stop = weakref.finalize(self, self._tasks.put, None)

    def submit(self, task: Callable[[], object]) -> Done:
        """Hand `task` over; its completion."""
        done = Done()
        self._tasks.put((task, done))
        return done

    def close(self) -> None:
        """Stop the thread once the tasks handed over before are run."""
        self._stop()
        self._thread.join()


def _serve(tasks: Tasks) -> None:
    """The thread: run each task, holding nothing of it (nor of its owner) while it waits."""
    while (item := tasks.get()) is not None:
        task, done = item
        del item
        try:
            task()
        except BaseException as err:  # raised where the task is waited for
            done.set(err)
        else:
            done.set()
        del task, done
