"""A job's metric writes through `RunRecorder.send`: the bulk writer (`tracking.bulk`) against
plain `log_batch`, side by side in one store.

    .venv/bin/python benchmarks/bench_metric_writes.py [--runs 20] [--epochs 100] [--uri URI]

Runs alternate between the two paths. Each run sends what EpochLogger sends for a sweep job:
epoch 0 on its own (with the params), then the other epochs in one flush (whole epochs, at
most 1,000 entities a call). Only the sends are timed. Prints, per path, the wall-clock min /
median / max and the median CPU ms a run (CPU time ignores other load), and their ratio.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from mlflow.entities import Metric

from scratchnet.tracking.names import EPOCH_METRICS
from scratchnet.tracking.recorder import RunRecorder
from scratchnet.tracking.store import resolve_uri

PARAMS = {f"group.param_{i}": str(i) for i in range(40)}  # a training run has ~40


def one_run(uri: str, bulk: bool, epochs: int, i: int) -> tuple[float, float]:
    """(wall s, CPU s) of one run's metric sends."""
    recorder = RunRecorder.start(uri, "bench-writes", f"run {i}", PARAMS, {})
    recorder.bulk = bulk
    now = int(time.time() * 1000)
    metrics = [
        Metric(k, 1 / (e + i + 2), now + e, e) for e in range(epochs + 1) for k in EPOCH_METRICS
    ]
    first = [m for m in metrics if m.step == 0]
    wall, cpu = time.perf_counter(), time.process_time()
    recorder.log_metric_batch(first)
    recorder.log_metric_batch(metrics[len(first) :])
    spent = time.perf_counter() - wall, time.process_time() - cpu
    recorder.end("FINISHED")
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per path (default 20)")
    parser.add_argument("--epochs", type=int, default=100, help="epochs a run (default 100)")
    parser.add_argument("--uri", help="a store to write to (default: a new SQLite store)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scratchnet-bench-") as tmp:
        uri = resolve_uri(args.uri or f"sqlite:///{Path(tmp) / 'mlflow.db'}")
        one_run(uri, True, args.epochs, -1)  # untimed: the store's first writes
        times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for i in range(args.runs):
            for bulk in (True, False):
                times[bulk].append(one_run(uri, bulk, args.epochs, i))
    per_run = (args.epochs + 1) * len(EPOCH_METRICS)
    print(f"{args.runs} runs per path, {per_run} metrics a run, store {args.uri or 'SQLite'}")
    medians = {}
    for bulk, label in ((False, "log_batch"), (True, "bulk writer")):
        wall = sorted(w * 1000 for w, _ in times[bulk])
        cpu = statistics.median(c * 1000 for _, c in times[bulk])
        medians[bulk] = statistics.median(wall)
        print(
            f"{label:>12}: wall min {wall[0]:.1f} / median {medians[bulk]:.1f} / max "
            f"{wall[-1]:.1f} ms a run; CPU median {cpu:.1f} ms"
        )
    print(f"log_batch / bulk writer (median wall): {medians[False] / medians[True]:.1f}x")


if __name__ == "__main__":
    main()
