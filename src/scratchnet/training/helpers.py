"""Helper threads for train()'s spare core, handed their work through C-level primitives only.

Ctrl-C raises KeyboardInterrupt in the main thread between two of its bytecodes. Inside the
Python-level locking of `concurrent.futures` or `threading.Condition`, that can leave a lock
held that a helper thread then waits on forever, and the run's close hangs. Here the caller
only puts into a `SimpleQueue` and acquires plain locks: C calls, done whole or not at all.
"""

import queue
import threading
from collections.abc import Callable


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
    """A daemon thread running the tasks handed to it, in order, until `close`."""

    def __init__(self, name: str) -> None:
        self._tasks: queue.SimpleQueue[tuple[Callable[[], object], Done] | None]
        self._tasks = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def submit(self, task: Callable[[], object]) -> Done:
        """Hand `task` over; its completion."""
        done = Done()
        self._tasks.put((task, done))
        return done

    def _serve(self) -> None:
        while (item := self._tasks.get()) is not None:
            task, done = item
            try:
                task()
            except BaseException as err:  # raised where the task is waited for
                done.set(err)
            else:
                done.set()

    def close(self) -> None:
        """Stop the thread once the tasks handed over before are run."""
        self._tasks.put(None)
        self._thread.join()
