"""A Hydra callback the sweep benchmarks add (`+hydra.callbacks.job_timer=...`): per job, when it
ended in its process and how long its `train()` took without the MLflow callback's writes.

A job's fixed cost is then the time between two consecutive job ends in one process minus the
second job's training: composing, the resume lookup, run creation, params, tags, metric
flushes, artifacts and ending; everything a warm worker does for a job but train itself.
It wraps `scratchnet.tracking.run.train` and `EpochLogger`'s hooks in the job's process only.
"""

import json
import os
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

_SPENT = {"train": 0.0, "logger": 0.0}


def _timed(fn, key):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _SPENT[key] += time.perf_counter() - start

    wrapper.timed = True
    return wrapper


def _instrument() -> None:
    import scratchnet.tracking.run as run
    from scratchnet.tracking.epochs import EpochLogger

    if getattr(run.train, "timed", False):
        return
    run.train = _timed(run.train, "train")
    for hook in ("on_epoch_end", "on_train_end"):
        setattr(EpochLogger, hook, _timed(getattr(EpochLogger, hook), "logger"))


class JobTimer(Callback):
    """Appends one JSON line per job to `out`: pid, end time, train() and logger seconds."""

    def __init__(self, out: str) -> None:
        self.out = out

    def on_job_start(self, config: Any, **kwargs: Any) -> None:
        _instrument()
        _SPENT.update(train=0.0, logger=0.0)

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        line = {"pid": os.getpid(), "end": time.time(), **_SPENT}
        with Path(self.out).open("a") as f:
            f.write(json.dumps(line) + "\n")


def job_costs(path: str) -> tuple[list[float], float]:
    """(each warm job's fixed cost in s, the sum of every job's train() without the logger)."""
    lines = [json.loads(x) for x in Path(path).read_text().splitlines() if x]
    fixed, total = [], 0.0
    last: dict[int, float] = {}
    for line in sorted(lines, key=lambda x: x["end"]):
        pure = line["train"] - line["logger"]
        total += pure
        if line["pid"] in last:  # a warm job: its process ran one before it
            fixed.append(line["end"] - last[line["pid"]] - pure)
        last[line["pid"]] = line["end"]
    return fixed, total
