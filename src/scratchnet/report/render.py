"""The report's figures drawn side by side, one forked process per core.

Drawing is pure Python in matplotlib (one core each), and the figures are independent: forked
processes inherit the frames and the drawing functions as they are (nothing is pickled but
the PNG bytes coming back), and give the same bytes as drawing them here. The figures are
handed out in the report's order, the learning-curve grid (the largest) first.
"""

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from scratchnet.core.png import png_bytes
from scratchnet.report.draw import import_drawing
from scratchnet.report.figures import FigureSpec

_PENDING: list[FigureSpec] = []  # what the forked workers draw, by index


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def draw_one(index: int) -> bytes:
    """In a worker: the PNG of the pending figure `index`."""
    return draw_one_here(_PENDING[index])


def draw_pngs(
    specs: Sequence[FigureSpec], meanwhile: Callable[[], object] | None = None
) -> list[bytes]:
    """The PNGs of `specs` (all drawn), in parallel where there are cores and fork; there,
    `meanwhile` runs here while the workers draw (they are forked first, without it).

    Each worker imports matplotlib itself (`import_drawing`) rather than inheriting it: that
    import then runs beside `meanwhile` instead of before it, on the path to the report's end.
    """
    workers = min(len(specs), cores())
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [draw_one_here(spec) for spec in specs]
    global _PENDING
    _PENDING = list(specs)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, context, import_drawing) as pool:
            drawn = pool.map(draw_one, range(len(specs)))  # forks every worker now
            if meanwhile is not None:
                meanwhile()
            return list(drawn)
    finally:
        _PENDING = []


def draw_one_here(spec: FigureSpec) -> bytes:
    """The PNG of `spec`, drawn in this process."""
    assert spec.draw is not None
    return png_bytes(spec.draw())
