"""The next batches' features and labels, made on a spare core while the current ones train.

An epoch's batches are known when it begins, so the rows each update reads (gathered from
the stored pixels and scaled to features) can be made ahead by a background thread, a few
batches at a time, while the updates go on: the updates then only read them. The very
same take and divide run on the very same rows (elementwise: no number changes).
"""

from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from scratchnet.data.features import RowReader
from scratchnet.training.fast import label_positions

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
        self._pool = ThreadPoolExecutor(1, "scratchnet-prefetch")
        self._slots = [_Slot() for _ in range(SLOTS)]
        self._staging = np.empty((0,), dtype=reader.pixels.dtype)
        self._positions: dict[int, NDArray] = {}
        self._chunks: deque[tuple[list[NDArray], int, Future]] = deque()
        self._todo: deque[list[NDArray]] = deque()
        self._free: deque[int] = deque(range(SLOTS))
        self._current: tuple[list[NDArray], int, int, int] | None = None  # + next, its row

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
            batches, slot, future = self._chunks.popleft()
            if future.cancel():  # not begun (the spare core is busy): make it here, now
                self._make(batches, self._slots[slot], on_thread=False)
            else:
                future.result()
            self._current = (batches, slot, 0, 0)
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
            slot, batches = self._free.popleft(), self._todo.popleft()
            future = self._pool.submit(self._make, batches, self._slots[slot], True)
            self._chunks.append((batches, slot, future))

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
        for _, slot, future in self._chunks:
            if not future.cancel():
                future.result()
            self._free.append(slot)
        if self._current is not None:
            self._free.append(self._current[1])
        self._chunks.clear()
        self._todo.clear()
        self._current = None

    def close(self) -> None:
        """Stop the thread (after the chunk it may be making)."""
        self._todo.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
