"""Read a 200-run x 100-epoch sweep back from a SQLite MLflow store (target: < 10 s).

    .venv/bin/python benchmarks/bench_read_runs.py [--runs 200] [--epochs 100] [--reps 5]

Builds the store once in a temporary folder (synthetic curves logged with `log_batch`, as
training would record them), then times `scratchnet.tracking.reader.load_sweep` (search the child
runs + one public `get_metric_history` per run and train/test metric, gaps recomputed) and,
for comparison, the same reads through the SQL store's private bulk query. Prints wall-clock
min / median / max and the median CPU time over the repetitions (CPU time is what the machine
would take unloaded; wall time includes whatever else runs).
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mlflow.tracking import MlflowClient

from scratchnet.tracking.names import EPOCH_METRICS
from scratchnet.tracking.reader import READ_METRICS, load_sweep
from scratchnet.tracking.synthetic import FakeRun, curve, log_sweep

TARGET_SECONDS = 10.0
KINDS = ("good_fit", "overfit", "underfit", "diverged")


def build_store(uri: str, runs: int, epochs: int) -> None:
    """One experiment with one sweep of `runs` child runs of `epochs` + 1 epochs each."""
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("bench")
    fakes = [
        FakeRun(
            name=f"run {i}",
            params={
                "trainer.lr": "0.1",
                "model.hidden_size": str(10 * (1 + i % 10)),
                "seed": str(i),
            },
            history=curve(epochs, kind=KINDS[i % len(KINDS)], noise=0.01, seed=i),
        )
        for i in range(runs)
    ]
    log_sweep(client, experiment_id, fakes)


def timed(fn: Callable[[], object], reps: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of `reps` calls of `fn` (CPU time ignores other load)."""
    wall, cpu = [], []
    for _ in range(reps):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def line(label: str, times: tuple[list[float], list[float]]) -> str:
    """`label: wall min / median / max, CPU median` in seconds."""
    wall, cpu = times
    return (
        f"{label:<38} wall min {min(wall):6.2f} s  median {statistics.median(wall):6.2f} s  "
        f"max {max(wall):6.2f} s  (CPU median {statistics.median(cpu):.2f} s)"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-read-runs-") as tmp:
        uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        start = time.perf_counter()
        build_store(uri, args.runs, args.epochs)
        built = time.perf_counter() - start
        rows = args.runs * (args.epochs + 1) * len(EPOCH_METRICS)
        print(
            f"store: {args.runs} runs x {args.epochs + 1} epochs x {len(EPOCH_METRICS)} metrics "
            f"= {rows} values, built in {built:.1f} s"
        )
        client = MlflowClient(tracking_uri=uri)
        data = load_sweep(client, "bench")
        assert len(data.runs) == args.runs and len(data.history) == args.runs * (args.epochs + 1)
        public = timed(lambda: load_sweep(client, "bench"), args.reps)
        print(line("load_sweep (public get_metric_history)", public))
        store = client._tracking_client.store
        if hasattr(store, "get_metric_history_bulk"):
            ids = list(data.runs["run_id"])
            bulk = timed(
                lambda: [store.get_metric_history_bulk(ids, k, 10**9) for k in READ_METRICS],
                args.reps,
            )
            print(line("private store bulk query (reference)", bulk))
    median = statistics.median(public[0])
    verdict = "OK" if median < TARGET_SECONDS else "SLOW"
    print(f"{verdict}: median {median:.2f} s wall (target < {TARGET_SECONDS:g} s)")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
