"""Whole-process figures, each from a fresh subprocess: peak RSS, start-up, sweep throughput.

Each command is started by a small launcher (this file run as a script), not by the
benchmark itself: a child forked from the big benchmark process would count the parent's
pages in its `ru_maxrss` before it execs.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
TRAIN = str(BIN / "scratchnet-train")
REPORT = str(BIN / "scratchnet-report")
MARKER = b"test_acc="  # the progress bar's postfix, first shown once epoch 0 is evaluated

# One MNIST run through the library alone: load, train one epoch, evaluate (no MLflow).
LIBRARY_RUN = """
import sys
from scratchnet.data import load_dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.training import train
data = load_dataset("mnist", root=sys.argv[1])
net = TwoLayerNet(data.input_size, 50, data.num_classes, seed=0)
train(net, data, lr=0.1, batch_size=100, iters_num=600, sampling="with_replacement")
"""


@dataclass
class Child:
    seconds: float  # launch to exit
    first_epoch: float | None  # launch to the first sight of MARKER on stderr
    max_rss_mb: float
    returncode: int
    stderr_tail: str


def run_child(cmd: list[str], cwd: Path) -> Child:
    """Run cmd through the launcher; its figures come back as JSON on the launcher's stdout."""
    out = subprocess.run(
        [sys.executable, __file__, *cmd], cwd=cwd, capture_output=True, text=True, check=True
    )
    return Child(**json.loads(out.stdout))


def _launch(cmd: list[str]) -> Child:
    """Run cmd, timing it and its first epoch report, and read its own peak RSS (wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, bufsize=0)
    seen, first = b"", None
    while chunk := os.read(proc.stderr.fileno(), 65536):
        seen = (seen + chunk)[-65536:]
        if first is None and MARKER in seen:
            first = time.perf_counter() - start
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    tail = seen.decode(errors="replace").strip().splitlines()[-3:]
    return Child(seconds, first, usage.ru_maxrss / 1024, proc.returncode, "\n".join(tail))


def cli_mnist(mnist: Path, store: Path, iters: int = 600) -> list[str]:
    """`scratchnet-train experiment=seed_mnist` for `iters` updates into a scratch store."""
    return [
        TRAIN,
        "experiment=seed_mnist",
        f"data.root={mnist}",
        f"trainer.iters_num={iters}",
        f"tracking.uri=sqlite:///{store / 'mlflow.db'}",
        f"hydra.run.dir={store / 'outputs'}",
    ]


def library_mnist(mnist: Path) -> list[str]:
    return [sys.executable, "-c", LIBRARY_RUN, str(mnist)]


def sweep(store: Path, workers: int, extra: list[str]) -> list[str]:
    """The lr_batch_hidden study through Hydra's joblib launcher with `workers` processes."""
    return [
        TRAIN,
        "-m",
        "experiment=lr_batch_hidden",
        "hydra/launcher=joblib",
        f"hydra.launcher.n_jobs={workers}",
        f"tracking.uri=sqlite:///{store / 'mlflow.db'}",
        f"hydra.sweep.dir={store / 'multirun'}",
        "trainer.progress=false",
        *extra,
    ]


def report(store: Path, experiment: str, out: Path) -> list[str]:
    """`scratchnet-report` of `experiment`'s latest sweep, writing back, into `out`."""
    return [
        REPORT,
        "--experiment",
        experiment,
        f"--tracking-uri=sqlite:///{store / 'mlflow.db'}",
        f"--out={out}",
    ]


def scratch_store() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="scratchnet-bench-")


if __name__ == "__main__":
    print(json.dumps(_launch(sys.argv[1:]).__dict__))
