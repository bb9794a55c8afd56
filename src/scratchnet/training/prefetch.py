"""The next batches' features and labels, made on a spare core while the current ones train.

An epoch's batches are known when it begins, so the rows each update reads (gathered from
the stored pixels and scaled to features) can be made ahead by a background thread, a few
batches at a time, while the updates go on: the updates then only read them. The very
same take and divide run on the very same rows (elementwise: no number changes).
The thread is a `HelperThread`: a Ctrl-C landing in the updates' hand-overs cannot leave a
lock held that it needs (which hung the run's close with `concurrent.futures`).
"""

import functools
import threading
from collections import deque
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from scratchnet.data.features import RowReader
from scratchnet.training.fast import label_positions
from scratchnet.training.helpers import Done, HelperThread

CHUNK_BATCHES = 8  # batches made per hand-over: few enough to stay in cache, enough to amortize
SLOTS = 2  # one chunk being read by the updates, the next one being made


class _Slot:
    """One chunk's buffers: features and label positions of up to `rows` rows (grown on
    demand), and the labels gathered on the way."""

    def __init__(self) -> None:
        self.x = np.empty((0, 0))
        self.labels = np.empty(0, dtype=np.intp)
        self.hot = np.empty(0, dtype=np.intp)

    def fit(self, rows: int, n_in: int, dtype: np.dtype, label_dtype: np.dtype) -> None:
        if len(self.x) < rows:
            self.x = np.empty((rows, n_in), dtype=dtype)
            self.labels = np.empty(rows, dtype=label_dtype)
            self.hot = np.empty(rows, dtype=np.intp)


class _Chunk:
    """Batches to make into a slot, by whichever side claims them first: the thread, or the
    updates when they need them before the thread has begun."""

    def __init__(self, batches: list[NDArray], slot: int) -> None:
        self.batches, self.slot = batches, slot
        self.claim = threading.Lock()  # taken by the side that makes the chunk
        self.done: Done | None = None  # the thread's turn at it, once handed over


class Prefetcher:
    """Features and labels of an epoch's batches, in order, made ahead on one thread.

    `plan(batches)` announces the epoch; `take(rows)` then gives the features and label
    positions (`label_positions`) of the next batch, as views into a chunk's buffers valid
    until the next `take` moves past the chunk, or None when `rows` is not the batch
    announced next (the caller then makes its own). A chunk the thread has not begun when
    it is needed is made by the caller instead: a busy spare core never stalls the updates.
    """

    def __init__(self, reader: RowReader, t: NDArray, dtype: np.dtype) -> None:
        self.reader, self.t, self.dtype = reader, t, dtype
        self._slots = [_Slot() for _ in range(SLOTS)]
        self._staging = np.empty((0,), dtype=reader.pixels.dtype)
        self._positions: dict[int, NDArray] = {}
        self._chunks: deque[_Chunk] = deque()
        self._todo: deque[list[NDArray]] = deque()
        self._free: deque[int] = deque(range(SLOTS))
        self._current: tuple[list[NDArray], int, int, int] | None = None  # + next, its row
        self._thread = HelperThread("scratchnet-prefetch")

    def plan(self, batches: Sequence[NDArray]) -> None:
        """The batches the coming `take` calls will ask for, in order (replaces any plan)."""
        self._drop()
        self._todo.extend(
            list(batches[i : i + CHUNK_BATCHES]) for i in range(0, len(batches), CHUNK_BATCHES)
        )
        self._fill()

    def take(self, rows: NDArray) -> tuple[NDArray, NDArray] | None:
        """(features, label positions) of `rows` when it is the next planned batch, else None."""
        if self._current is None or self._current[2] == len(self._current[0]):
            if self._current is not None:
                self._free.append(self._current[1])
                self._current = None
                self._fill()
            if not self._chunks:
                return None
            chunk = self._chunks.popleft()
            self._await(chunk, make=True)
            self._current = (chunk.batches, chunk.slot, 0, 0)
        batches, slot, i, start = self._current
        if batches[i] is not rows:
            self._drop()
            return None
        stop = start + len(rows)
        self._current = (batches, slot, i + 1, stop)
        buf = self._slots[slot]
        return buf.x[start:stop], buf.hot[start:stop]

    def _fill(self) -> None:
        """Hand every free slot the next chunk to make."""
        while self._free and self._todo:
            chunk = _Chunk(self._todo.popleft(), self._free.popleft())
            chunk.done = self._thread.submit(functools.partial(self._make_claimed, chunk))
            self._chunks.append(chunk)

    def _make_claimed(self, chunk: _Chunk) -> None:
        """On the thread: make the chunk unless the updates have claimed it."""
        if chunk.claim.acquire(blocking=False):
            self._make(chunk.batches, self._slots[chunk.slot], on_thread=True)

    def _await(self, chunk: _Chunk, make: bool) -> None:
        """Wait for the chunk the thread is making; one it has not begun is made here (with
        `make`: the spare core is busy) or dropped, and the thread then skips it."""
        if chunk.claim.acquire(blocking=False):
            if make:
                self._make(chunk.batches, self._slots[chunk.slot], on_thread=False)
            return
        assert chunk.done is not None, "a chunk is handed over as it is planned"
        chunk.done.wait()

    def _make(self, batches: list[NDArray], slot: _Slot, on_thread: bool) -> None:
        """Gather and scale the chunk's rows into `slot`, and its labels' positions; on the
        thread through its own staging buffer (the reader's is the calling thread's)."""
        rows = np.concatenate(batches) if len(batches) > 1 else batches[0]
        n, n_in = len(rows), self.reader.pixels.shape[1]
        slot.fit(n, n_in, self.dtype, self.t.dtype)
        staging = None
        if on_thread and not self.reader.direct:
            if len(self._staging) < n * n_in:
                self._staging = np.empty(n * n_in, self.reader.pixels.dtype)
            staging = self._staging[: n * n_in].reshape(n, n_in)
        self.reader.take(rows, slot.x[:n], staging)
        np.take(self.t, rows, out=slot.labels[:n])
        start = 0
        for batch in batches:
            stop = start + len(batch)
            label_positions(slot.labels[start:stop], self._arange(len(batch)), slot.hot[start:stop])
            start = stop

    def _arange(self, n: int) -> NDArray:
        if n not in self._positions:
            self._positions[n] = np.arange(n)
        return self._positions[n]

    def _drop(self) -> None:
        """Forget the plan: wait for the chunks in the making, free every slot."""
        for chunk in self._chunks:
            self._await(chunk, make=False)
            self._free.append(chunk.slot)
        if self._current is not None:
            self._free.append(self._current[1])
        self._chunks.clear()
        self._todo.clear()
        self._current = None

    def close(self) -> None:
        """Stop the thread (after the chunk it may be making; the others are dropped)."""
        self._todo.clear()
        for chunk in self._chunks:
            chunk.claim.acquire(blocking=False)
        self._thread.close()
