"""Build a sweep's overfitting report from the tracking store alone, byte-for-byte repeatable.

Read the sweep, diagnose its runs, draw the figures, render report.md and a self-contained
report.html, optionally export the frames it used, and (unless asked not to) write the
diagnoses and the report back to MLflow.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scratchnet.analysis.diagnosis import DEFAULT_THRESHOLDS
from scratchnet.analysis.thresholds import Thresholds
from scratchnet.core.paths import repo_root
from scratchnet.report.cache import FigureCache, frames_digest
from scratchnet.report.export import export_frames
from scratchnet.report.figures import FIGURE_NAMES, FigureSpec, plan_figures
from scratchnet.report.layout import figure_frame
from scratchnet.report.markup import Block, render_html, render_markdown
from scratchnet.report.remedies import REMEDY_FIGURE_NAMES, remedy_figures
from scratchnet.report.render import draw_pngs
from scratchnet.report.sections import document
from scratchnet.report.study import Study, analyse
from scratchnet.tracking.lazy import LazyStore, as_lazy
from scratchnet.tracking.names import REPORT_DIGEST_TAG
from scratchnet.tracking.writeback import (
    Change,
    log_report,
    planned_changes,
    report_digest,
    write_back,
)

if TYPE_CHECKING:
    from scratchnet.tracking.store import Client

Say = Callable[[str], None]


@dataclass(frozen=True)
class Report:
    """What a build wrote: the folder, its files, and what went back into the store."""

    out_dir: Path
    files: tuple[Path, ...]
    parent_run_id: str
    runs_updated: int
    logged: bool
    exported: tuple[Path, ...] = ()
    drawn: tuple[str, ...] = ()  # the figures drawn; the others were unchanged (`report.cache`)
    already_logged: bool = False  # the same files were logged before (`REPORT_DIGEST_TAG`)


def slug(text: str) -> str:
    """A file-name-safe version of `text`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "experiment"


def default_out_dir(experiment: str, short_id: str) -> Path:
    """`<repo>/reports/<experiment>/<sweep short id>/`."""
    return repo_root() / "reports" / slug(experiment) / short_id


def render_figures(
    specs: Sequence[FigureSpec],
    cache: FigureCache | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> dict[str, bytes]:
    """The PNG bytes of every figure that is drawn (`report.render`: side by side, `meanwhile`
    running while they draw); with `cache`, a figure whose inputs are unchanged since the
    folder's last build is read back."""
    shown = [s for s in specs if s.draw is not None]
    found = {s.name: cache.get(s.name) for s in shown} if cache is not None else {}
    missing = [s for s in shown if found.get(s.name) is None]
    drawn = dict(zip([s.name for s in missing], draw_pngs(missing, meanwhile), strict=True))
    pngs = {s.name: found.get(s.name) or drawn[s.name] for s in shown}
    if cache is not None:
        cache.drawn.extend(drawn)
        for name, png in pngs.items():
            cache.put(name, png)
    return pngs


def figure_cache(study: Study, out_dir: Path) -> FigureCache:
    """The figure cache of the report folder, keyed by what the study's figures read."""
    return FigureCache(out_dir, frames_digest([figure_frame(study.diag), study.history]))


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


def page_files(blocks: Sequence[Block], pngs: dict[str, bytes], title: str) -> dict[str, bytes]:
    """A report's files: its figures, report.md and report.html."""
    files = {f"{name}.png": png for name, png in pngs.items()}
    files["report.md"] = render_markdown(blocks).encode("utf-8")
    files["report.html"] = render_html(blocks, title).encode("utf-8")
    return files


def sweep_files(
    study: Study, cache: FigureCache | None = None, meanwhile: Callable[[], object] | None = None
) -> dict[str, bytes]:
    """The sweep report's files."""
    specs = plan_figures(study.diag, study.history)
    pngs = render_figures([*specs, *remedy_figures(study.diag)], cache, meanwhile)
    s = study.sweep
    title = f"Overfitting report: {s.experiment} ({s.short_id})"
    return page_files(document(study, specs, pngs), pngs, title)


def publish(
    store: "LazyStore | Client",
    study: Study,
    files: dict[str, bytes],
    out_dir: Path,
    write: bool,
    export: Path | None = None,
    cache: FigureCache | None = None,
    planned: Sequence[Change] | None = None,
) -> Report:
    """Write the files (and the export, the figures' keys); with `write`, the diagnoses that
    changed (`planned`, else worked out now) and the report, unless these very files were
    logged before, go back into the store (under `report/` of the sweep's parent, or the run)."""
    paths = write_files(out_dir, files)
    if cache is not None:
        cache.save()
    exported = export_frames(study, export) if export is not None else ()
    updated, already = 0, False
    if write:
        store, s = as_lazy(store), study.sweep
        planned = diagnosis_changes(store, study) if planned is None else planned
        updated = write_back(store.client, planned) if planned else 0
        digest = report_digest(paths)
        already = s.tags.get(REPORT_DIGEST_TAG) == digest
        if not already:
            log_report(store.client, s.run_id, paths, digest)
    drawn = tuple(cache.drawn) if cache is not None else ()
    parent = study.sweep.run_id
    return Report(out_dir, paths, parent, updated, write, exported, drawn, already)


def diagnosis_changes(store: LazyStore, study: Study) -> list[Change]:
    """The diagnoses that differ from what the study's runs have now."""
    s = study.sweep
    current = store.run_states(s) if study.is_sweep else [store.run_state(s.run_id)]
    return planned_changes(study.every, current)


def build_report(
    store: "LazyStore | Client",
    experiment: str,
    sweep: str = "latest",
    out_dir: Path | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    write: bool = True,
    progress: Say | None = None,
    export: Path | None = None,
) -> Report:
    """Read the sweep, diagnose, draw, write report.md/report.html/PNGs, write back to MLflow
    (`store`: a LazyStore, or an open client).

    With `write`, each run gets its diagnosis (metrics, `overfit.*` tags) and the report
    files are logged as artifacts of the sweep's parent run under `report/`; with `export`,
    the frames the report used are written there (`scratchnet.report.export`).
    """
    say = progress or (lambda _msg: None)
    store = as_lazy(store)
    data = store.load_sweep(experiment, sweep)
    say(f"read {len(data.runs)} runs, {len(data.history)} epochs of sweep {data.sweep.short_id}")
    study = analyse(data, thresholds)
    out_dir = out_dir or default_out_dir(data.sweep.experiment, data.sweep.short_id)
    cache = figure_cache(study, out_dir)
    planned = diagnosis_changes(store, study) if write else []
    # A report that will write opens MLflow's client (its import: seconds) while figures draw.
    opens = write and (bool(planned) or REPORT_DIGEST_TAG not in study.sweep.tags)
    files = sweep_files(study, cache, (lambda: store.client) if opens else None)
    say(f"drew {len(cache.drawn)} figures ({len(cache.entries) - len(cache.drawn)} unchanged)")
    return publish(store, study, files, out_dir, write, export, cache, planned)
