"""Write the analysis back into MLflow: each run's diagnosis (so the UI's run table shows it)
and the report's files on the sweep's parent run."""

import math
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from mlflow.entities import Metric, Run, RunTag
from mlflow.tracking import MlflowClient

from scratchnet.tracking.names import (
    DIAGNOSIS_METRICS,
    MAX_TAG_LENGTH,
    ONSET_TAG,
    REASON_TAG,
    REPORT_ARTIFACT_DIR,
    RUNNING,
    SELECTION_SPLIT_TAG,
    VERDICT_TAG,
)


def diagnosis_metrics(row: pd.Series) -> dict[str, float]:
    """The row's numeric diagnosis as metrics named with its selection split (best_val_acc),
    finite values only, missing ones omitted."""
    out: dict[str, float] = {}
    for column, template in DIAGNOSIS_METRICS.items():
        value = row.get(column)
        if value is None or pd.isna(value):
            continue
        number = float(value)
        if math.isfinite(number):
            out[template.format(split=row["selection"])] = number
    return out


def diagnosis_tags(row: pd.Series) -> dict[str, str]:
    """Verdict, its reason and the onset epoch (or "none") as tags."""
    onset = row.get("overfit_onset")
    return {
        VERDICT_TAG: str(row["verdict"]),
        REASON_TAG: str(row["reason"])[:MAX_TAG_LENGTH],
        ONSET_TAG: "none" if onset is None or pd.isna(onset) else str(int(onset)),
        SELECTION_SPLIT_TAG: str(row["selection"]),
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
        if run is None or run.info.status == RUNNING or pd.isna(row["verdict"]):
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


def log_report(client: MlflowClient, parent_run_id: str, paths: Sequence[Path]) -> None:
    """Log a report's files as artifacts of the sweep's parent run, under `report/`."""
    for path in paths:
        client.log_artifact(parent_run_id, str(path), REPORT_ARTIFACT_DIR)
