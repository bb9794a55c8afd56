"""Build a sweep's overfitting report from the tracking store alone, byte-for-byte repeatable.

Read the sweep, diagnose its runs, draw the figures, render report.md and a self-contained
report.html, and (unless asked not to) write the diagnoses and the report back to MLflow.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scratchnet.analysis.diagnosis import DEFAULT_THRESHOLDS
from scratchnet.analysis.tables import diagnose_runs
from scratchnet.analysis.thresholds import Thresholds
from scratchnet.core.paths import repo_root
from scratchnet.core.png import png_bytes
from scratchnet.report.figures import FIGURE_NAMES, FigureSpec, plan_figures
from scratchnet.report.markup import render_html, render_markdown
from scratchnet.report.remedies import REMEDY_FIGURE_NAMES, remedy_figures
from scratchnet.report.sections import document
from scratchnet.tracking.reader import child_runs, load_sweep
from scratchnet.tracking.store import Client
from scratchnet.tracking.writeback import log_report, write_back


@dataclass(frozen=True)
class Report:
    """What a build wrote: the folder, its files, and what went back into the store."""

    out_dir: Path
    files: tuple[Path, ...]
    parent_run_id: str
    runs_updated: int
    logged: bool


def slug(text: str) -> str:
    """A file-name-safe version of `text`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "experiment"


def default_out_dir(experiment: str, short_id: str) -> Path:
    """`<repo>/reports/<experiment>/<sweep short id>/`."""
    return repo_root() / "reports" / slug(experiment) / short_id


def render_figures(specs: Sequence[FigureSpec]) -> dict[str, bytes]:
    """The PNG bytes of every figure that is drawn."""
    return {s.name: png_bytes(s.draw()) for s in specs if s.draw is not None}


def write_files(out_dir: Path, files: dict[str, bytes]) -> tuple[Path, ...]:
    """Write `files` into `out_dir`; remove figures of ours a previous build left behind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (*FIGURE_NAMES, *REMEDY_FIGURE_NAMES):
        stale = out_dir / f"{name}.png"
        if f"{name}.png" not in files and stale.exists():
            stale.unlink()
    paths = []
    for name, content in sorted(files.items()):
        path = out_dir / name
        path.write_bytes(content)
        paths.append(path)
    return tuple(paths)


def build_report(
    client: Client,
    experiment: str,
    sweep: str = "latest",
    out_dir: Path | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    write: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Read the sweep, diagnose, draw, write report.md/report.html/PNGs, write back to MLflow.

    With `write`, each run gets its diagnosis (metrics, `overfit.*` tags) and the report
    files are logged as artifacts of the sweep's parent run under `report/`.
    """
    say = progress or (lambda _msg: None)
    data = load_sweep(client, experiment, sweep)
    say(f"read {len(data.runs)} runs, {len(data.history)} epochs of sweep {data.sweep.short_id}")
    diag = diagnose_runs(data.runs, data.history, thresholds)
    specs = plan_figures(diag, data.history)
    pngs = render_figures([*specs, *remedy_figures(diag)])
    blocks = document(data, diag, specs, pngs, thresholds)
    title = f"Overfitting report: {data.sweep.experiment} ({data.sweep.short_id})"
    files = {f"{name}.png": png for name, png in pngs.items()}
    files["report.md"] = render_markdown(blocks).encode("utf-8")
    files["report.html"] = render_html(blocks, title).encode("utf-8")
    out_dir = out_dir or default_out_dir(data.sweep.experiment, data.sweep.short_id)
    paths = write_files(out_dir, files)
    updated = 0
    if write:
        current = child_runs(client, data.sweep.experiment_id, data.sweep.run_id)
        updated = write_back(client, diag, current)
        log_report(client, data.sweep.run_id, paths)
    return Report(out_dir, paths, data.sweep.run_id, updated, write)
