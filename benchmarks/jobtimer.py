"""A Hydra callback the sweep benchmarks add (`+hydra.callbacks.job_timer=...`): per job, when it
ended in its process and how long its `train()` took without the MLflow callback's writes.

A job's fixed cost is then the time between two consecutive job ends in one process minus the
second job's training: composing, the resume lookup, run creation, params, tags, metric
flushes, artifacts and ending; everything a warm worker does for a job but train itself. The
same in CPU time (`job_cpu_costs`) holds up on a machine that other work shares.
It wraps `scratchnet.tracking.run.train` and `EpochLogger`'s hooks in the job's process only.
"""

import json
import os
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

_SPENT = {"train": 0.0, "logger": 0.0, "train_cpu": 0.0, "logger_cpu": 0.0}


def _timed(fn, key):
    def wrapper(*args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _SPENT[key] += time.perf_counter() - start
            _SPENT[f"{key}_cpu"] += time.process_time() - cpu

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
    """Appends one JSON line per job to `out`: pid, end time, the process's CPU seconds so
    far, and train()'s and the logger's seconds (wall and CPU)."""

    def __init__(self, out: str) -> None:
        self.out = out

    def on_job_start(self, config: Any, **kwargs: Any) -> None:
        _instrument()
        _SPENT.update(dict.fromkeys(_SPENT, 0.0))

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        line = {"pid": os.getpid(), "end": time.time(), "cpu": time.process_time(), **_SPENT}
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


def job_cpu_costs(path: str) -> list[float]:
    """Each warm job's fixed cost in CPU seconds: its process's CPU time between two job ends
    minus the second job's train() CPU without the logger's. CPU time counts what the job's
    process did, whatever else the machine runs meanwhile."""
    lines = [json.loads(x) for x in Path(path).read_text().splitlines() if x]
    fixed, last = [], {}
    for line in sorted(lines, key=lambda x: x["end"]):
        if "cpu" not in line:
            continue
        if line["pid"] in last:
            pure = line["train_cpu"] - line["logger_cpu"]
            fixed.append(line["cpu"] - last[line["pid"]] - pure)
        last[line["pid"]] = line["cpu"]
    return fixed
