"""One MLflow run as it is recorded: created with params and tags, fed metrics and files,
and always ended FINISHED, FAILED or KILLED.

`recorded_run` is the one run lifecycle, used by training runs and the chapter scripts alike:
every write holds Ctrl-C and SIGTERM until it is done (`core.interrupts.interrupts_deferred`),
so an interrupt never leaves a store locked, and the run's status says how it ended.
"""

import contextlib
import math
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlflow.entities import DatasetInput, Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from scratchnet.core.interrupts import interrupts_deferred
from scratchnet.core.png import png_bytes
from scratchnet.tracking.names import (
    FAILED,
    FINISHED,
    KILLED,
    METRICS_PER_CALL,
    PARAMS_PER_CALL,
)
from scratchnet.tracking.provenance import mask_secrets
from scratchnet.tracking.store import get_or_create_experiment
from scratchnet.training import Callback, TrainPlan, TrainResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _now_ms() -> int:
    return int(time.time() * 1000)


def in_chunks(items: Sequence[Metric], size: int = METRICS_PER_CALL) -> Iterator[list[Metric]]:
    """Consecutive slices of at most `size` items: one log_batch call each."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class RunRecorder:
    """An open MLflow run; every write holds interrupts until it is done."""

    def __init__(
        self, client: MlflowClient, run_id: str, experiment_id: str = "", artifact_uri: str = ""
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.artifact_uri = artifact_uri

    @classmethod
    def start(
        cls,
        uri: str,
        experiment: str,
        name: str,
        params: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> "RunRecorder":
        """Create the run in `experiment` (made if missing) with its tags and masked params."""
        with interrupts_deferred():
            client = MlflowClient(tracking_uri=uri)
            experiment_id = get_or_create_experiment(client, uri, experiment)
            run = client.create_run(experiment_id, run_name=name, tags=dict(tags))
            items = [Param(k, v) for k, v in mask_secrets(params).items()]
            for i in range(0, len(items), PARAMS_PER_CALL):
                client.log_batch(run.info.run_id, params=items[i : i + PARAMS_PER_CALL])
        return cls(client, run.info.run_id, experiment_id, run.info.artifact_uri)

    def log_inputs(self, datasets: Sequence[DatasetInput]) -> None:
        """Record the datasets the run reads (MLflow dataset inputs), in one call."""
        with interrupts_deferred():
            self.client.log_inputs(self.run_id, datasets=list(datasets))

    def log_metric_batch(self, metrics: Sequence[Metric]) -> None:
        """Send metrics as they are, at most 1,000 per call (MLflow's limit)."""
        for chunk in in_chunks(metrics):
            with interrupts_deferred():
                self.client.log_batch(self.run_id, metrics=chunk, synchronous=True)

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        """Log finite values as metrics at `step`; NaN/inf ones as tags of the same key."""
        now = _now_ms()
        finite = [Metric(k, float(v), now, step) for k, v in metrics.items() if math.isfinite(v)]
        odd = {k: str(float(v)) for k, v in metrics.items() if not math.isfinite(v)}
        self.log_metric_batch(finite)
        if odd:
            self.set_tags(odd)

    def log_series(self, key: str, values: Sequence[float], first_step: int = 0) -> None:
        """Log values[i] at step first_step + i; non-finite ones are skipped and described in
        the tag `<key>.nonfinite` instead."""
        now = _now_ms()
        points = [(first_step + i, float(v)) for i, v in enumerate(values)]
        self.log_metric_batch([Metric(key, v, now, s) for s, v in points if math.isfinite(v)])
        skipped = [(s, v) for s, v in points if not math.isfinite(v)]
        if skipped:
            note = f"{len(skipped)} non-finite values not logged; first at step {skipped[0][0]}"
            self.set_tags({f"{key}.nonfinite": f"{note}: {skipped[0][1]}"})

    def set_tags(self, tags: Mapping[str, object]) -> None:
        """Set tags (values as strings)."""
        with interrupts_deferred():
            self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    @contextlib.contextmanager
    def staged_artifacts(self) -> Iterator[Path]:
        """A temporary folder whose contents become the run's artifacts, uploaded in one call
        when the block ends (nothing is uploaded if it raises)."""
        with tempfile.TemporaryDirectory(prefix="scratchnet-") as tmp:
            yield Path(tmp)
            with interrupts_deferred():
                self.client.log_artifacts(self.run_id, tmp)

    def log_files(self, files: Mapping[str, bytes]) -> None:
        """Upload in-memory files (name -> bytes) as artifacts at the run's root."""
        with self.staged_artifacts() as folder:
            for name, content in files.items():
                (folder / name).write_bytes(content)

    def log_figures(self, figures: Mapping[str, "Figure"]) -> None:
        """Upload each figure as `<name>.png` (deterministic bytes)."""
        self.log_files({f"{name}.png": png_bytes(fig) for name, fig in figures.items()})

    def end(self, status: str) -> None:
        """Close the run with `status`."""
        with interrupts_deferred():
            self.client.set_terminated(self.run_id, status=status)


@contextlib.contextmanager
def recorded_run(
    uri: str, experiment: str, name: str, params: Mapping[str, str], tags: Mapping[str, str]
) -> Iterator[RunRecorder]:
    """A run that ends FINISHED, FAILED if the block raises, KILLED on Ctrl-C (or SIGTERM)."""
    recorder = RunRecorder.start(uri, experiment, name, params, tags)
    try:
        yield recorder
    except KeyboardInterrupt:
        recorder.end(KILLED)
        raise
    except BaseException:
        recorder.end(FAILED)
        raise
    recorder.end(FINISHED)


class EpochLogger(Callback):
    """Logs every epoch's metrics (step = epoch), batching epochs into one `log_batch` call.

    A call costs ~4-20 ms on SQLite and ~50 ms over HTTP, more than a digits epoch, so
    epochs are buffered and sent at most every `flush_seconds` (0: every epoch), at the end,
    and before the run is closed for any reason (`close`); epoch 0 is sent at once. Each
    hook holds interrupts while it writes.
    """

    def __init__(self, recorder: RunRecorder, flush_seconds: float = 1.0) -> None:
        self.recorder = recorder
        self.flush_seconds = flush_seconds
        self._pending: list[Metric] = []
        self._last_flush = time.monotonic()

    def on_train_begin(self, plan: TrainPlan) -> None:
        self._last_flush = time.monotonic()

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> None:
        now = _now_ms()
        self._pending.extend(Metric(k, float(v), now, epoch) for k, v in metrics.items())
        if epoch == 0 or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def on_train_end(self, result: TrainResult) -> None:
        self.flush()

    def flush(self) -> None:
        """Send the buffered epochs (an interrupt waits: the buffer is sent or kept, whole)."""
        with interrupts_deferred():
            self.recorder.log_metric_batch(self._pending)
            self._pending = []
            self._last_flush = time.monotonic()
