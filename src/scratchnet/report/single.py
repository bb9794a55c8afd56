"""A one-run report: its learning curves, its diagnosis and its provenance.

`scratchnet-report --run ID` writes it for any run; `--experiment NAME` writes it for the
experiment's newest run when the experiment has runs but no sweep.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from scratchnet.analysis.diagnosis import DEFAULT_THRESHOLDS, SPLIT_NAMES
from scratchnet.analysis.thresholds import Thresholds
from scratchnet.report.appendix import definition_blocks, environment_blocks
from scratchnet.report.build import (
    Report,
    Say,
    build_report,
    default_out_dir,
    figure_cache,
    page_files,
    publish,
    render_figures,
)
from scratchnet.report.cache import FigureCache
from scratchnet.report.cells import MISSING, fmt, utc
from scratchnet.report.draw import learning_curve_grid
from scratchnet.report.figures import FigureSpec
from scratchnet.report.markup import Block, Heading, Image, Note, Pairs, Para
from scratchnet.report.study import Study, analyse
from scratchnet.tracking.failures import StoreError
from scratchnet.tracking.lazy import LazyStore, as_lazy
from scratchnet.tracking.names import PARENT_TAG

if TYPE_CHECKING:
    from scratchnet.tracking.store import Client

PROVENANCE_TAGS = (
    ("git commit", "scratchnet.git_commit"),
    ("dirty checkout", "scratchnet.git_dirty"),
    ("scratchnet version", "scratchnet.version"),
    ("dataset", "scratchnet.dataset"),
    ("dataset digest (SHA-256)", "scratchnet.dataset_digest"),
    ("config hash", "scratchnet.config_hash"),
    ("overrides", "scratchnet.overrides"),
    ("seed", "seed"),
    ("study", "scratchnet.study"),
    ("sweep parent run", PARENT_TAG),
)


def diagnosis_rows(row: pd.Series) -> list[tuple[str, str]]:
    """The run's diagnosis, every choice on its selection split."""
    split = str(row["selection"])
    name = SPLIT_NAMES.get(split, split)
    return [
        ("choices made on", name),
        ("verdict", str(row["verdict"])),
        ("why", str(row["reason"])),
        ("best epoch", f"{fmt(row['best_epoch'], 'd')} (lowest {name} loss)"),
        (
            f"{name} accuracy / loss at the best epoch",
            f"{fmt(row['best_acc'])} / {fmt(row['best_loss'])}",
        ),
        (
            "test accuracy / loss at the best epoch",
            f"{fmt(row['test_acc_at_best'])} / {fmt(row['test_loss_at_best'])}",
        ),
        ("onset of overfitting", fmt(row["overfit_onset"], "d")),
        ("accuracy gap final / max", f"{fmt(row['gap_acc_final'])} / {fmt(row['gap_acc_max'])}"),
        ("loss gap final / max", f"{fmt(row['gap_loss_final'])} / {fmt(row['gap_loss_max'])}"),
        ("selection optimism (test-chosen minus chosen)", fmt(row["selection_optimism"])),
        (
            "final train / test accuracy",
            f"{fmt(row['final_train_acc'])} / {fmt(row['final_test_acc'])}",
        ),
    ]


def run_blocks(study: Study, pngs: dict[str, bytes], spec: FigureSpec) -> list[Block]:
    """The one-run report: header, diagnosis, curves, provenance, definitions, environment."""
    s, diag = study.sweep, study.diag
    blocks: list[Block] = [
        Heading(1, f"Run report: {s.experiment} / {s.name}"),
        Para(
            f"Run {s.run_id} ({s.name!r}), {s.status}, started {utc(s.start_time)}, ended "
            f"{utc(s.end_time)}; {int(diag['epochs_logged'].iloc[0])} epochs logged."
        ),
        Heading(2, "Diagnosis"),
    ]
    if pd.isna(diag["verdict"].iloc[0]):
        blocks.append(Note("The run logged no finite epoch: nothing to diagnose."))
    else:
        blocks.append(Pairs(tuple(diagnosis_rows(diag.iloc[0]))))
    blocks.append(Heading(2, "Learning curves"))
    if spec.name in pngs:
        blocks.append(Image(f"{spec.name}.png", pngs[spec.name], spec.title, spec.caption))
    else:
        blocks.append(Note("No epoch was logged: no curves to draw."))
    rows = [(label, s.tags.get(tag, MISSING)) for label, tag in PROVENANCE_TAGS]
    params = tuple(sorted(s.params.items()))
    blocks += [Heading(2, "Provenance"), Pairs(tuple(rows)), Para("The run's config (params):")]
    blocks.append(Pairs(params) if params else Para("No params were recorded."))
    return blocks + definition_blocks(study.thresholds) + environment_blocks(diag)


def run_files(study: Study, cache: FigureCache | None = None) -> dict[str, bytes]:
    """The one-run report's files."""
    has_epochs = bool((study.diag["epochs_logged"] > 0).any())
    spec = FigureSpec(
        "learning_curves",
        "Learning curves",
        "Train (solid), validation (dash-dot purple) and test (dashed) accuracy and loss; "
        "dotted green: best epoch; dash-dot orange: onset of overfitting.",
        (lambda: learning_curve_grid(study.diag, study.history)) if has_epochs else None,
    )
    pngs = render_figures([spec], cache)
    title = f"Run report: {study.sweep.experiment} / {study.sweep.name}"
    return page_files(run_blocks(study, pngs, spec), pngs, title)


def build_run_report(
    store: "LazyStore | Client",
    run: str,
    out_dir: Path | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    write: bool = True,
    export: Path | None = None,
) -> Report:
    """The one-run report of the run `run` (an id or its prefix), read through MLflow's client."""
    from scratchnet.tracking.lookup import find_run, load_run

    store = as_lazy(store)
    data = load_run(store.client, find_run(store.client, run))
    study = analyse(data, thresholds, is_sweep=False)
    s = study.sweep
    out_dir = out_dir or default_out_dir(s.experiment, f"run-{s.short_id}")
    cache = figure_cache(study, out_dir)
    return publish(store, study, run_files(study, cache), out_dir, write, export, cache)


def build_experiment_report(
    store: "LazyStore | Client",
    experiment: str,
    sweep: str = "latest",
    out_dir: Path | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    write: bool = True,
    progress: Say | None = None,
    export: Path | None = None,
) -> Report:
    """The sweep report of `experiment`; for an experiment with runs but no sweep, the
    one-run report of its newest run."""
    store = as_lazy(store)
    if sweep != "latest" or store.has_sweeps(experiment):
        return build_report(store, experiment, sweep, out_dir, thresholds, write, progress, export)
    from scratchnet.tracking.lookup import standalone_runs
    from scratchnet.tracking.reader import find_experiment

    exp = find_experiment(store.client, experiment)
    alone = standalone_runs(store.client, exp.experiment_id)
    if not alone:
        raise StoreError(
            f"experiment {experiment!r} has no sweep and no run; run one with scratchnet-train"
        )
    say = progress or (lambda _msg: None)
    say(f"experiment {experiment!r} has no sweep: reporting its newest run {alone[0].info.run_id}")
    if len(alone) > 1:
        say(f"{len(alone) - 1} other runs: scratchnet-report --run RUN_ID for any of them")
    return build_run_report(store, alone[0].info.run_id, out_dir, thresholds, write, export)
