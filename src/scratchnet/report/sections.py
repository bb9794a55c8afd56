"""The report's sections as document blocks, each from the diagnosed runs (no I/O here).

Nothing in them depends on when or where the report is built: times are the store's own
(UTC), rows are sorted, and no local path is written.
"""

from collections.abc import Sequence

import pandas as pd

from scratchnet.analysis.tables import (
    FACTOR_LABELS,
    FACTORS,
    effect_tables,
    format_value,
    ranked,
    seed_spread,
    selection_splits,
    sorted_values,
    varied_factors,
    verdict_counts,
)
from scratchnet.analysis.thresholds import Thresholds
from scratchnet.report.appendix import definition_blocks, environment_blocks
from scratchnet.report.cells import (
    FACTOR_COLUMNS,
    MISSING,
    Column,
    distinct,
    factor_columns,
    fmt,
    frame_table,
    ranked_columns,
    utc,
)
from scratchnet.report.figures import FigureSpec
from scratchnet.report.layout import chosen_on
from scratchnet.report.ledger import ledger_blocks, test_selection_warning
from scratchnet.report.markup import (
    Block,
    Bullets,
    Heading,
    Image,
    Note,
    Pairs,
    Para,
    Table,
)
from scratchnet.tracking.frames import SweepData
from scratchnet.tracking.names import (
    RUNNING,
    STUDY_TAG,
    SWEEP_GRID_SIZE,
    SWEEP_ID_TAG,
    SWEEP_LAUNCHER,
    SWEEP_OVERRIDES,
    SWEEP_PARAMS,
)


def header_blocks(data: SweepData) -> list[Block]:
    """Title and the sweep's identity."""
    s, runs = data.sweep, data.runs
    statuses = runs["status"].value_counts().sort_index()
    counts = ", ".join(f"{n} {status}" for status, n in statuses.items())
    live = int(statuses.get(RUNNING, 0))
    note = (
        f" {live} runs are live (RUNNING, still training): shown with the whole epochs logged "
        "so far, and no diagnosis is written onto them."
        if live
        else ""
    )
    return [
        Heading(1, f"Overfitting report: {s.experiment}"),
        Para(
            f"Sweep {s.short_id} (parent run {s.run_id}, {s.name!r}), {s.status}, "
            f"started {utc(s.start_time)}. {len(runs)} child runs: {counts}.{note}"
        ),
    ]


def question_blocks(data: SweepData, diag: pd.DataFrame) -> list[Block]:
    """The study's question and how the sweep was defined."""
    s = data.sweep
    grid = s.params.get(SWEEP_GRID_SIZE, MISSING)
    definition = [
        ("study", s.tags.get(STUDY_TAG, MISSING)),
        ("sweep id", s.tags.get(SWEEP_ID_TAG, MISSING)),
        ("overrides", s.params.get(SWEEP_OVERRIDES, MISSING)),
        ("sweeper params", s.params.get(SWEEP_PARAMS, MISSING)),
        ("grid size", grid),
        ("child runs found", str(len(diag))),
        ("launcher", s.params.get(SWEEP_LAUNCHER, MISSING)),
    ]
    varied = varied_factors(diag)
    for f in FACTORS:
        values = ", ".join(format_value(f, v) for v in sorted_values(diag[f]))
        kind = "varied" if f in varied else "fixed"
        definition.append((f"{FACTOR_LABELS[f]} ({kind})", values or MISSING))
    seeds = ", ".join(str(v) for v in sorted_values(diag["seed"]))
    definition.append(("seeds", seeds or MISSING))
    for column, label in (("dataset", "dataset"), ("epochs", "epochs"), ("iters_num", "iters")):
        definition.append((label, ", ".join(distinct(diag[column])) or MISSING))
    for column in ("sampling", "activation", "weight_init_std", "val_fraction"):
        definition.append((column.replace("_", " "), ", ".join(distinct(diag[column])) or MISSING))
    blocks: list[Block] = [Heading(2, "Question")]
    blocks.append(Para(s.description or "No study description was recorded for this sweep."))
    blocks.append(Pairs(tuple(definition)))
    if grid.isdigit() and int(grid) != len(diag):
        blocks.append(
            Note(
                f"The sweep defines {grid} jobs but {len(diag)} child runs were found "
                "(jobs still running, not started, or skipped as already finished elsewhere)."
            )
        )
    return blocks


def summary_blocks(diag: pd.DataFrame) -> list[Block]:
    """Verdict counts and every diagnosed run ranked by the chosen split's accuracy at its
    best epoch, with the test accuracy there."""
    counts = verdict_counts(diag)
    order = ranked(diag)
    blocks: list[Block] = [
        Heading(2, "Summary"),
        Table(tuple(counts), (tuple(str(n) for n in counts.values()),)),
    ]
    if "test" in selection_splits(diag):
        blocks.append(Note(test_selection_warning(diag)))
    if order.empty:
        return [*blocks, Note("No run logged a finite epoch: nothing to rank.")]
    best, chosen = order.iloc[0], chosen_on(diag)
    there = f"; test accuracy there {fmt(best['test_acc_at_best'])}" if chosen != "test" else ""
    blocks.append(
        Para(
            f"Best run: {best['name']} — {chosen} accuracy {fmt(best['best_acc'])} at epoch "
            f"{fmt(best['best_epoch'], 'd')} (lowest {chosen} loss){there}; verdict "
            f"{best['verdict']}."
        )
    )
    reported = "test is only reported" if chosen == "val" else "see the note above"
    blocks.append(Para(f"Runs ranked by {chosen} accuracy at their best epoch ({reported}):"))
    columns = ranked_columns(chosen)
    blocks.append(frame_table(order, columns[:2] + factor_columns(diag) + columns[2:]))
    return blocks


def effect_blocks(diag: pd.DataFrame) -> list[Block]:
    """One table per varied factor, then the spread over seeds."""
    blocks: list[Block] = [Heading(2, "How the factors matter")]
    tables = effect_tables(diag)
    if not tables:
        blocks.append(Para("The sweep varies none of lr, batch size, hidden size, train size."))
    else:
        blocks.append(
            Para(
                "Per value of each varied factor, over every other factor and seed: runs by "
                "verdict, mean outcomes of the runs that finished without diverging, and the "
                "median onset epoch among those with one."
            )
        )
    for factor, table in tables.items():
        blocks.append(Heading(3, FACTOR_LABELS[factor].capitalize()))
        columns: list[Column] = [
            (factor, FACTOR_LABELS[factor], "n" if factor == "train_size" else "g"),
            ("runs", "runs", "d"),
            ("good_fit", "good fit", "d"),
            ("overfit", "overfit", "d"),
            ("underfit", "underfit", "d"),
            ("diverged", "diverged", "d"),
            ("best_acc_mean", f"{chosen_on(diag)} acc @best", ".4f"),
            ("test_acc_at_best_mean", "test acc @best", ".4f"),
            ("final_test_acc_mean", "final test acc", ".4f"),
            ("gap_acc_final_mean", "acc gap final", ".4f"),
            ("gap_loss_final_mean", "loss gap final", ".4f"),
            ("onsets", "with onset", "d"),
            ("onset_median", "median onset", "g"),
        ]
        blocks.append(frame_table(table, columns))
    blocks.append(Heading(3, "Spread over seeds"))
    spread = seed_spread(diag)
    if spread is None:
        blocks.append(Para("Each configuration ran with one seed: no spread to report."))
        return blocks
    stats: list[Column] = [("seeds", "seeds", "d")]
    for key, label in (
        ("best_acc", f"{chosen_on(diag)} acc @best"),
        ("test_acc_at_best", "test acc @best"),
        ("gap_acc_final", "acc gap"),
    ):
        stats += [(f"{key}_{s}", f"{label} {s}", ".4f") for s in ("mean", "std", "min", "max")]
    keys = [c for c in FACTOR_COLUMNS if c[0] in spread.columns]
    blocks.append(frame_table(spread, keys + stats))
    return blocks


def figure_blocks(specs: Sequence[FigureSpec], pngs: dict[str, bytes]) -> list[Block]:
    """Each figure with its caption, or the note saying why it is not drawn."""
    blocks: list[Block] = [Heading(2, "Figures")]
    for spec in specs:
        blocks.append(Heading(3, spec.title))
        if spec.name in pngs:
            blocks.append(Image(f"{spec.name}.png", pngs[spec.name], spec.title, spec.caption))
        else:
            blocks.append(Note(spec.note))
    return blocks


def verdict_blocks(diag: pd.DataFrame) -> list[Block]:
    """The runs under each verdict, with the reason."""
    blocks: list[Block] = [Heading(2, "Runs by verdict")]
    for label in ("overfit", "good_fit", "underfit", "diverged"):
        group = diag[diag["verdict"] == label].sort_values(["name", "run_id"], kind="stable")
        blocks.append(Heading(3, f"{label} ({len(group)})"))
        if group.empty:
            blocks.append(Para("None."))
            continue
        blocks.append(
            Bullets(
                tuple(
                    f"{r['name']} ({r['run_id'][:8]}): {r['reason']}" for _, r in group.iterrows()
                )
            )
        )
    return blocks


def problem_blocks(diag: pd.DataFrame) -> list[Block]:
    """Diverged runs and runs that did not finish."""
    blocks: list[Block] = [Heading(2, "Diverged and failed runs")]
    diverged = diag[diag["verdict"] == "diverged"].sort_values(["name", "run_id"])
    blocks.append(Heading(3, f"Diverged ({len(diverged)})"))
    if diverged.empty:
        blocks.append(Para("No run diverged."))
    else:
        columns: list[Column] = [
            ("name", "run", "s"),
            *factor_columns(diag),
            ("diverged_epoch", "stopped at epoch", "d"),
            ("divergence_rule", "rule", "s"),
            ("diverged_value", "value", "s"),
            ("last_epoch", "last finite epoch", "d"),
            ("reason", "why", "s"),
        ]
        blocks.append(frame_table(diverged, columns))
    unfinished = diag[diag["status"] != "FINISHED"].sort_values(["name", "run_id"])
    blocks.append(Heading(3, f"Not finished ({len(unfinished)})"))
    if unfinished.empty:
        blocks.append(Para("Every run finished."))
    else:
        columns = [
            ("name", "run", "s"),
            ("run_id", "run id", "s"),
            ("status", "status", "s"),
            ("epochs_logged", "epochs logged", "d"),
            ("failure", "note", "s"),
        ]
        blocks.append(frame_table(unfinished, columns))
    return blocks


def document(
    data: SweepData,
    diag: pd.DataFrame,
    specs: Sequence[FigureSpec],
    pngs: dict[str, bytes],
    t: Thresholds,
) -> list[Block]:
    """The whole report, section by section."""
    return [
        *header_blocks(data),
        *question_blocks(data, diag),
        *summary_blocks(diag),
        *ledger_blocks(data, diag),
        *effect_blocks(diag),
        *figure_blocks(specs, pngs),
        *verdict_blocks(diag),
        *problem_blocks(diag),
        *definition_blocks(t),
        *environment_blocks(diag),
    ]
