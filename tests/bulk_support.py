"""The points and runs the bulk-writer tests log: the same metrics through the bulk path and
through plain `log_batch` (tests/tracking/test_bulk_metrics.py, and on PostgreSQL in
tests/integration/test_bulk_postgres.py)."""

import math

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from scratchnet.tracking.names import EPOCH_METRICS
from scratchnet.tracking.recorder import RunRecorder

EPOCHS = 120
ODD = {(7, "train_loss"): math.nan, (8, "val_loss"): math.inf, (9, "val_loss"): -math.inf,
       (EPOCHS - 1, "test_loss"): math.nan, (EPOCHS - 1, "val_loss"): math.inf}  # fmt: skip
EXTRA_KEYS = ("probe",)  # logged only in the first epochs: its last step is not the run's


def points() -> list[Metric]:
    """Epochs of the trainer's metrics with NaN and inf among them, a key that stops early and
    a step logged twice (a resumed run), in the order EpochLogger sends them."""
    out = []
    for step in range(EPOCHS):
        for i, key in enumerate(EPOCH_METRICS):
            value = ODD.get((step, key), math.sin(step * 0.37 + i) / (i + 3))
            out.append(Metric(key, value, 1_700_000_000_000 + 37 * step, step))
        if step < 5:
            out.append(Metric("probe", 1 / (step + 7), 1_700_000_000_000 + step, step))
    out.append(Metric("probe", 0.25, 1_700_000_000_999, 4))  # step 4 again, later
    return out


class SeenClient(MlflowClient):
    """The real client, keeping how many metrics each log_batch call carried."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batches: list[int] = []

    def log_batch(self, run_id, metrics=(), *args, **kwargs):
        self.batches.append(len(metrics))
        return super().log_batch(run_id, metrics, *args, **kwargs)


def logged(uri: str, name: str, bulk: bool, sends: int = 1) -> tuple[str, list[int]]:
    """A run holding `points()`, sent `sends` times; (its id, the metrics per log_batch)."""
    recorder = RunRecorder.start(uri, "bulk", name, {"trainer.lr": "0.5"}, {"t": "1"})
    recorder.client = SeenClient(tracking_uri=uri)
    recorder.bulk = bulk
    for _ in range(sends):
        recorder.log_metric_batch(points())
    recorder.end("FINISHED")
    return recorder.run_id, recorder.client.batches


def history(client: MlflowClient, run_id: str) -> dict[str, list[tuple]]:
    """Every key's history as (step, timestamp, value bits), in the client's order."""
    keys = [*EPOCH_METRICS, *EXTRA_KEYS]
    return {
        k: [(m.step, m.timestamp, m.value.hex()) for m in client.get_metric_history(run_id, k)]
        for k in keys
    }
