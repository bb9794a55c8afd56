"""Write each run's diagnosis back to its MLflow run, so the UI's run table shows it."""

import math
import time

import pandas as pd
from mlflow.entities import Metric, Run, RunTag
from mlflow.tracking import MlflowClient

VERDICT_TAG = "overfit.verdict"
REASON_TAG = "overfit.reason"
ONSET_TAG = "overfit.onset"  # the epoch, or "none" (a metric cannot be deleted once logged)
METRIC_FIELDS = (
    "best_epoch",
    "best_test_loss",
    "best_test_acc",
    "max_test_acc",
    "gap_acc_final",
    "gap_acc_max",
    "gap_loss_final",
    "gap_loss_max",
    "test_loss_rise",
    "overfit_onset",
)
MAX_TAG_LENGTH = 5000


def diagnosis_metrics(row: pd.Series) -> dict[str, float]:
    """The row's numeric diagnosis as metrics: finite values only, missing ones omitted."""
    out: dict[str, float] = {}
    for key in METRIC_FIELDS:
        value = row.get(key)
        if value is None or pd.isna(value):
            continue
        number = float(value)
        if math.isfinite(number):
            out[key] = number
    return out


def diagnosis_tags(row: pd.Series) -> dict[str, str]:
    """Verdict, its reason and the onset epoch (or "none") as tags."""
    onset = row.get("overfit_onset")
    return {
        VERDICT_TAG: str(row["verdict"]),
        REASON_TAG: str(row["reason"])[:MAX_TAG_LENGTH],
        ONSET_TAG: "none" if onset is None or pd.isna(onset) else str(int(onset)),
    }


def changes(run: Run, metrics: dict[str, float], tags: dict[str, str]) -> tuple[dict, dict]:
    """The metrics and tags whose stored latest value differs (so rewrites are no-ops)."""
    have_m, have_t = run.data.metrics, run.data.tags
    new_m = {k: v for k, v in metrics.items() if have_m.get(k) != v}
    new_t = {k: v for k, v in tags.items() if have_t.get(k) != v}
    return new_m, new_t


def write_back(client: MlflowClient, diag: pd.DataFrame, current: list[Run]) -> int:
    """Log each ended, diagnosed run's metrics (step 0) and tags; return how many changed."""
    by_id = {r.info.run_id: r for r in current}
    now = int(time.time() * 1000)
    changed = 0
    for _, row in diag.iterrows():
        run = by_id.get(row["run_id"])
        if run is None or run.info.status == "RUNNING" or pd.isna(row["verdict"]):
            continue
        metrics, tags = changes(run, diagnosis_metrics(row), diagnosis_tags(row))
        if not metrics and not tags:
            continue
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, now, 0) for k, v in sorted(metrics.items())],
            tags=[RunTag(k, v) for k, v in sorted(tags.items())],
        )
        changed += 1
    return changed
