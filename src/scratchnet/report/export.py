"""A report's data as files: `runs.csv` and `history.csv` (and `.parquet` with pyarrow).

`runs` is every run the report read, diagnosed: the sweep's children and the runs it reused
(`reused`), with the attempts a later attempt replaced marked by `superseded_by` (the tables
and figures count the rows where it is empty). `history` is those runs' epochs. The column
names are the analysis's own (`scratchnet.analysis.diagnosis.Diagnosis`,
`scratchnet.tracking.frames`): one name per quantity.
"""

import importlib.util
from pathlib import Path

import pandas as pd

from scratchnet.report.study import Study


def has_parquet() -> bool:
    """True when pyarrow is installed (pandas writes parquet through it)."""
    return importlib.util.find_spec("pyarrow") is not None


def frames(study: Study) -> dict[str, pd.DataFrame]:
    """The two tables the report was made of, in a stable row order."""
    runs = study.every.sort_values(["run_id"], kind="stable").reset_index(drop=True)
    history = study.history[study.history["run_id"].isin(runs["run_id"])]
    history = history.sort_values(["run_id", "epoch"], kind="stable").reset_index(drop=True)
    return {"runs": runs, "history": history}


def export_frames(study: Study, folder: Path) -> tuple[Path, ...]:
    """Write runs.csv and history.csv (and parquet when pyarrow is there) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames(study).items():
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
        if has_parquet():
            path = folder / f"{name}.parquet"
            frame.to_parquet(path, index=False)
            written.append(path)
    return tuple(written)
