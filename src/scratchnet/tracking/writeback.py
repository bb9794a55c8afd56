"""Write the analysis back into MLflow: each run's diagnosis (so the UI's run table shows it)
and the report's files on the sweep's parent run.

What changes is worked out first, from the runs as they are (`RunState`, read with or without
MLflow), so a rebuild that changes nothing needs no MLflow at all (`scratchnet.tracking.lazy`).
"""

import hashlib
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from scratchnet.tracking.frames import RunState
from scratchnet.tracking.names import (
    DIAGNOSIS_METRICS,
    MAX_TAG_LENGTH,
    ONSET_TAG,
    REASON_TAG,
    REPORT_ARTIFACT_DIR,
    REPORT_DIGEST_TAG,
    RUNNING,
    SELECTION_SPLIT_TAG,
    VERDICT_TAG,
)

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

Change = tuple[str, dict[str, float], dict[str, str]]  # a run id, its new metrics and tags


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


def changes(run: RunState, metrics: dict[str, float], tags: dict[str, str]) -> tuple[dict, dict]:
    """The metrics and tags whose stored latest value differs (so rewrites are no-ops)."""
    new_m = {k: v for k, v in metrics.items() if run.metrics.get(k) != v}
    new_t = {k: v for k, v in tags.items() if run.tags.get(k) != v}
    return new_m, new_t


def planned_changes(diag: pd.DataFrame, current: Sequence[RunState]) -> list[Change]:
    """Each ended, diagnosed run's diagnosis metrics and tags that differ from what it has."""
    by_id = {r.run_id: r for r in current}
    planned: list[Change] = []
    for _, row in diag.iterrows():
        run = by_id.get(row["run_id"])
        if run is None or run.status == RUNNING or pd.isna(row["verdict"]):
            continue
        metrics, tags = changes(run, diagnosis_metrics(row), diagnosis_tags(row))
        if metrics or tags:
            planned.append((run.run_id, metrics, tags))
    return planned


def write_back(client: "MlflowClient", planned: Sequence[Change]) -> int:
    """Log the planned metrics (step 0) and tags, a batch a run; return how many runs."""
    from mlflow.entities import Metric, RunTag

    now = int(time.time() * 1000)
    for run_id, metrics, tags in planned:
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, 0) for k, v in sorted(metrics.items())],
            tags=[RunTag(k, v) for k, v in sorted(tags.items())],
        )
    return len(planned)


def report_digest(paths: Sequence[Path]) -> str:
    """SHA-256 over a report's file names and bytes: what its parent run's tag records."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def log_report(
    client: "MlflowClient", parent_run_id: str, paths: Sequence[Path], digest: str
) -> None:
    """Log a report's files as artifacts of the sweep's parent run, under `report/`, then tag
    the run with their digest (so the same files are not logged again)."""
    for path in paths:
        client.log_artifact(parent_run_id, str(path), REPORT_ARTIFACT_DIR)
    client.set_tag(parent_run_id, REPORT_DIGEST_TAG, digest)
