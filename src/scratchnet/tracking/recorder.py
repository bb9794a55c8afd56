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
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from scratchnet.core.interrupts import interrupts_deferred
from scratchnet.core.png import png_bytes
from scratchnet.tracking.names import (
    FAILED,
    FINISHED,
    KILLED,
    MAX_ENTITIES,
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

    def __init__(self, client: MlflowClient, run_id: str, params: Sequence[Param] = ()) -> None:
        self.client = client
        self.run_id = run_id
        self._params = list(params)  # sent with the run's first write (one call fewer)

    @classmethod
    def start(
        cls,
        uri: str,
        experiment: str,
        name: str,
        params: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> "RunRecorder":
        """Create the run in `experiment` (made if missing) with its tags; its masked params go
        with its first write (`write`), or when it ends, whichever comes first."""
        with interrupts_deferred():
            client = MlflowClient(tracking_uri=uri)
            experiment_id = get_or_create_experiment(client, uri, experiment)
            run = client.create_run(experiment_id, run_name=name, tags=dict(tags))
        items = [Param(k, v) for k, v in mask_secrets(params).items()]
        return cls(client, run.info.run_id, items)

    def write(self, metrics: Sequence[Metric] = (), tags: Mapping[str, object] = {}) -> None:
        """One `log_batch` call with the tags, the params not yet sent and as many metrics as
        fit (1,000 entities a call, MLflow's limit); the other metrics in further calls."""
        run_tags = [RunTag(k, str(v)) for k, v in tags.items()]
        params = self._params[:PARAMS_PER_CALL]
        fit = MAX_ENTITIES - len(params) - len(run_tags)
        head, rest = list(metrics[:fit]), metrics[fit:]
        if head or params or run_tags:
            with interrupts_deferred():
                self.client.log_batch(
                    self.run_id, metrics=head, params=params, tags=run_tags, synchronous=True
                )
            self._params = self._params[len(params) :]
        for chunk in in_chunks(rest):
            with interrupts_deferred():
                self.client.log_batch(self.run_id, metrics=chunk, synchronous=True)

    def send_params(self) -> None:
        """Send the params not yet sent, at most 100 per call (MLflow's limit)."""
        while self._params:
            self.write()

    def log_metric_batch(self, metrics: Sequence[Metric]) -> None:
        """Send metrics as they are, at most 1,000 per call (MLflow's limit)."""
        if metrics:
            self.write(metrics)

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
        self.write(tags=tags)

    def log_files(self, files: Mapping[str, bytes]) -> None:
        """Upload in-memory files (name -> bytes) as artifacts at the run's root."""
        with tempfile.TemporaryDirectory(prefix="scratchnet-") as tmp:
            for name, content in files.items():
                (Path(tmp) / name).write_bytes(content)
            with interrupts_deferred():
                self.client.log_artifacts(self.run_id, tmp)

    def log_figures(self, figures: Mapping[str, "Figure"]) -> None:
        """Upload each figure as `<name>.png` (deterministic bytes)."""
        self.log_files({f"{name}.png": png_bytes(fig) for name, fig in figures.items()})

    def end(self, status: str) -> None:
        """Close the run with `status` (its params sent first, if nothing has carried them)."""
        self.send_params()
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

    def __init__(
        self,
        recorder: RunRecorder,
        flush_seconds: float = 1.0,
        final_tags: Callable[[TrainResult], Mapping[str, object]] | None = None,
    ) -> None:
        self.recorder = recorder
        self.flush_seconds = flush_seconds
        self.final_tags = final_tags  # how the run ended, sent with its last epochs
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
        self.flush(self.final_tags(result) if self.final_tags else {})

    def flush(self, tags: Mapping[str, object] = {}) -> None:
        """Send the buffered epochs, and `tags` with them (an interrupt waits: the buffer is
        sent or kept, whole)."""
        with interrupts_deferred():
            self.recorder.write(self._pending, tags)
            self._pending = []
            self._last_flush = time.monotonic()
