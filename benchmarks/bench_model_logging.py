"""What recording a run's net as an MLflow model (and its datasets) costs per run, on SQLite.

    .venv/bin/python benchmarks/bench_model_logging.py [--reps 15] [--dataset digits] [--mlflow]

Each repetition is a fresh run in a temporary SQLite store, made as a training run makes it
(its ~40 params and 31 epochs of metrics, ended FINISHED), then times, in that run:
- `record_outcome` (tags, then config, learning curves and the model in one upload), and the
  same without the model (`tracking.log_weights=false`): the difference is the model's cost;
- `dataset_inputs` + `RunRecorder.log_inputs`: the three splits as MLflow dataset inputs;
- with `--mlflow`: the model as MLflow 3's LoggedModel (create, upload, finalize, link: what
  `Model.log` calls), and `mlflow.pyfunc.log_model` of the same pyfunc with the same pinned
  requirements, and without them (MLflow infers them by loading the model in a subprocess).
Prints wall-clock min / median / max in ms and the median CPU ms (CPU time ignores other load).
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import mlflow
import numpy as np
from mlflow.entities import LoggedModelOutput, LoggedModelStatus, Metric
from omegaconf import OmegaConf

from scratchnet.config import build_net, flatten, load_data, register_configs
from scratchnet.config.schema import Config
from scratchnet.tracking import netmodel
from scratchnet.tracking.datasets import dataset_inputs
from scratchnet.tracking.models import requirements, signature, write_model
from scratchnet.tracking.recorder import RunRecorder
from scratchnet.tracking.run import record_outcome
from scratchnet.tracking.store import resolve_uri
from scratchnet.training import TrainResult

EPOCHS = 30
KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "gap_acc")


def new_run(uri: str, params: dict[str, str], i: int) -> RunRecorder:
    """A run with a training run's params and `EPOCHS` + 1 epochs of its metrics."""
    recorder = RunRecorder.start(uri, "bench", f"run {i}", params, {})
    now = int(time.time() * 1000)
    recorder.log_metric_batch([Metric(k, 0.5, now, e) for e in range(EPOCHS + 1) for k in KEYS])
    return recorder


def logged_model(recorder: RunRecorder, net, data) -> None:
    """The model as MLflow 3's LoggedModel, in the calls `mlflow.models.Model.log` makes."""
    client = recorder.client
    model = client.create_logged_model(recorder.experiment_id, "model", recorder.run_id)
    with tempfile.TemporaryDirectory() as tmp:
        write_model(net, data, Path(tmp) / "model", recorder.run_id, EPOCHS)
        client.log_model_artifacts(model.model_id, str(Path(tmp) / "model"))
    client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    client.log_outputs(recorder.run_id, [LoggedModelOutput(model.model_id, step=EPOCHS)])


def mlflow_log_model(net, data, pinned: bool) -> None:
    """`mlflow.pyfunc.log_model` of the same pyfunc (requirements pinned, or inferred)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = netmodel.write_net(net, Path(tmp) / "net.npz")
        mlflow.pyfunc.log_model(
            name="model",
            loader_module=netmodel.__name__,
            data_path=str(folder),
            signature=signature(net),
            input_example=np.ascontiguousarray(data.x_test[:3], dtype=net.dtype),
            pip_requirements=requirements() if pinned else None,
        )


def timed(uri: str, params: dict, reps: int, fn: Callable[[RunRecorder], object], active=False):
    """Wall and CPU seconds of `fn(run)` over `reps` fresh runs (making the run, and with
    `active` making it MLflow's active run as its fluent API needs, not timed)."""
    wall, cpu = [], []
    for i in range(reps):
        recorder = new_run(uri, params, i)
        if active:
            mlflow.start_run(run_id=recorder.run_id)
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(recorder)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if active:
            mlflow.end_run()
        recorder.end("FINISHED")
    return wall, cpu


def interleaved(uri: str, params: dict, reps: int, *fns: Callable[[RunRecorder], object]):
    """`timed` for each of `fns`, taking turns run by run so that load changes hit all alike."""
    times = [([], []) for _ in fns]
    for _ in range(reps):
        for (wall, cpu), fn in zip(times, fns, strict=True):
            one_wall, one_cpu = timed(uri, params, 1, fn)
            wall += one_wall
            cpu += one_cpu
    return times


def row(label: str, wall: list[float], cpu: list[float]) -> str:
    ms = [1000 * w for w in wall]
    return (
        f"| {label} | {min(ms):.1f} | {statistics.median(ms):.1f} | {max(ms):.1f} "
        f"| {1000 * statistics.median(cpu):.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--mlflow", action="store_true", help="also time MLflow's own ways")
    args = parser.parse_args()
    register_configs()
    cfg = OmegaConf.merge(OmegaConf.structured(Config), {"data": {"name": args.dataset}})
    cfg.tracking.log_figure = False  # the figure is the same either way: leave it out
    bare = OmegaConf.merge(cfg, {"tracking": {"log_weights": False}})
    data = load_data(cfg)
    net = build_net(cfg, data)
    params = flatten(cfg)
    result = TrainResult(history=[{"epoch": e} for e in range(EPOCHS + 1)], planned_epochs=EPOCHS)

    def outcome(config) -> Callable[[RunRecorder], object]:
        return lambda r: record_outcome(r, config, net, data, result, "bench")

    with tempfile.TemporaryDirectory(prefix="bench-model-") as tmp:
        uri = resolve_uri(f"sqlite:///{tmp}/mlflow.db")
        mlflow.set_tracking_uri(uri)
        timed(uri, params, 2, outcome(cfg))  # imports, the model template, caches
        with_model, without = interleaved(uri, params, args.reps, outcome(cfg), outcome(bare))
        rows = [
            row("record_outcome with the model", *with_model),
            row("record_outcome without it", *without),
            row(
                "dataset inputs",
                *timed(uri, params, args.reps, lambda r: r.log_inputs(dataset_inputs(data))),
            ),
        ]
        if args.mlflow:
            rows.append(
                row(
                    "as a LoggedModel",
                    *timed(uri, params, args.reps, lambda r: logged_model(r, net, data)),
                )
            )
            pinned = timed(
                uri, params, args.reps, lambda r: mlflow_log_model(net, data, True), True
            )
            rows.append(row("mlflow.pyfunc.log_model, pinned requirements", *pinned))
            inferred = timed(uri, params, 3, lambda r: mlflow_log_model(net, data, False), True)
            rows.append(row("mlflow.pyfunc.log_model, inferred (3 reps)", *inferred))
    shape = f"{data.input_size}-{cfg.model.hidden_size}-{data.num_classes}"
    print(f"{args.dataset}: {shape} net, {args.reps} runs each, SQLite store")
    print("| step | min ms | median ms | max ms | median CPU ms |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
