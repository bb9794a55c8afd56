"""The report's opening: which sweep, what it asked, and how it was defined (what ran).

The definition is the parent's record of what ran: the search space after the command line
replaced the study's values of the same keys, and the number of jobs that defines. The runs
counted are the sweep's members: its children and the runs of earlier sweeps it reused for
configurations already finished; superseded attempts are counted apart.
"""

import json

import pandas as pd

from scratchnet.analysis.tables import (
    FACTORS,
    factor_label,
    format_value,
    sorted_values,
    varied_factors,
)
from scratchnet.report.cells import MISSING, distinct, utc
from scratchnet.report.markup import Block, Heading, Note, Pairs, Para
from scratchnet.report.study import Study
from scratchnet.tracking.frames import PARAM_COLUMNS
from scratchnet.tracking.names import (
    RUNNING,
    STUDY_TAG,
    SWEEP_GRID_SIZE,
    SWEEP_ID_TAG,
    SWEEP_LAUNCHER,
    SWEEP_OVERRIDES,
    SWEEP_PARAMS,
    SWEEP_STUDY_PARAMS,
)


def counts_text(frame: pd.DataFrame) -> str:
    """`9 FINISHED, 1 FAILED`: runs by status, sorted by status."""
    statuses = frame["status"].value_counts().sort_index()
    return ", ".join(f"{n} {status}" for status, n in statuses.items()) or "none"


def reused_count(diag: pd.DataFrame) -> int:
    """How many of the runs are reused from earlier sweeps."""
    return int(diag["reused"].sum()) if "reused" in diag else 0


def header_blocks(study: Study) -> list[Block]:
    """Title and the sweep's identity, with its runs by status."""
    s, diag = study.sweep, study.diag
    text = (
        f"Sweep {s.short_id} (parent run {s.run_id}, {s.name!r}), {s.status}, started "
        f"{utc(s.start_time)}. {len(diag)} runs: {counts_text(diag)}."
    )
    reused = reused_count(diag)
    if reused:
        text += f" {reused} of them were reused from earlier sweeps (same config, not re-run)."
    gone = len(study.superseded)
    if gone:
        text += (
            f" {gone} superseded {'attempt' if gone == 1 else 'attempts'} "
            f"({counts_text(study.superseded)}) listed apart and counted nowhere."
        )
    live = int((diag["status"] == RUNNING).sum())
    if live:
        text += (
            f" {live} runs are live (RUNNING, still training): shown with the whole epochs "
            "logged so far, and no diagnosis is written onto them."
        )
    return [Heading(1, f"Overfitting report: {s.experiment}"), Para(text)]


def swept_keys(params_json: str) -> set[str]:
    """The keys that the recorded search space sweeps (more than one value)."""
    try:
        params = json.loads(params_json)
    except (TypeError, ValueError):
        return set()
    return {k for k, v in params.items() if any(c in str(v) for c in ",(")}


def factor_rows(study: Study) -> list[tuple[str, str]]:
    """Each factor's values among the runs, varied or fixed (and swept but not yet run)."""
    diag, swept = study.diag, swept_keys(study.sweep.params.get(SWEEP_PARAMS, ""))
    varied = varied_factors(diag)
    rows = []
    for f in FACTORS:
        if f not in diag:
            continue
        values = ", ".join(format_value(f, v) for v in sorted_values(diag[f]))
        kind = "varied" if f in varied else "fixed"
        if kind == "fixed" and PARAM_COLUMNS.get(f, ("",))[0] in swept:
            kind = "swept; one value among the runs so far"
        rows.append((f"{factor_label(f)} ({kind})", values or MISSING))
    rows.append(("seeds", ", ".join(str(v) for v in sorted_values(diag["seed"])) or MISSING))
    for column, label in (("dataset", "dataset"), ("epochs", "epochs"), ("iters_num", "iters")):
        rows.append((label, ", ".join(distinct(diag[column])) or MISSING))
    for column in ("sampling", "val_fraction"):
        rows.append((column.replace("_", " "), ", ".join(distinct(diag[column])) or MISSING))
    return rows


def configurations(diag: pd.DataFrame) -> int:
    """Distinct configurations among the runs (by config hash; a run without one counts)."""
    if "config_hash" not in diag:
        return len(diag)
    hashes = diag["config_hash"]
    return int(hashes.nunique() + hashes.isna().sum())


def definition_rows(study: Study) -> list[tuple[str, str]]:
    """What the parent recorded as the sweep's definition, and what was found."""
    s, diag = study.sweep, study.diag
    rows = [
        ("study", s.tags.get(STUDY_TAG, MISSING)),
        ("sweep id", s.tags.get(SWEEP_ID_TAG, MISSING)),
        ("overrides", s.params.get(SWEEP_OVERRIDES, MISSING)),
        ("search space (what ran)", s.params.get(SWEEP_PARAMS, MISSING)),
    ]
    own = s.params.get(SWEEP_STUDY_PARAMS)
    if own is not None and own != s.params.get(SWEEP_PARAMS):
        rows.append(("the study's own search space (replaced per key by the overrides)", own))
    rows += [
        ("jobs defined (grid size)", s.params.get(SWEEP_GRID_SIZE, MISSING)),
        ("configurations with a run", str(configurations(diag))),
        ("runs reused from earlier sweeps", str(reused_count(diag))),
        ("superseded attempts (listed apart)", str(len(study.superseded))),
        ("launcher", s.params.get(SWEEP_LAUNCHER, MISSING)),
    ]
    return rows


def missing_note(study: Study) -> Note | None:
    """Why fewer configurations have a run than the grid defines, if they do."""
    grid, found = study.sweep.params.get(SWEEP_GRID_SIZE, ""), configurations(study.diag)
    if not grid.isdigit() or int(grid) == found:
        return None
    why = {
        "RUNNING": "the sweep is still running",
        "KILLED": "the sweep was interrupted; re-running the same command resumes it",
        "FAILED": "the sweep failed; re-running the same command resumes it",
    }.get(study.sweep.status, "some jobs failed before they created a run")
    return Note(f"The sweep defines {grid} jobs; {found} configurations have a run ({why}).")


def question_blocks(study: Study) -> list[Block]:
    """The study's question and how the sweep was defined."""
    s = study.sweep
    blocks: list[Block] = [Heading(2, "Question")]
    blocks.append(Para(s.description or "No study description was recorded for this sweep."))
    blocks.append(Pairs(tuple(definition_rows(study) + factor_rows(study))))
    note = missing_note(study)
    return [*blocks, note] if note else blocks
