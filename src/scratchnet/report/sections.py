"""The report's sections as document blocks, each from the diagnosed runs (no I/O here).

Nothing in them depends on when or where the report is built: times are the store's own
(UTC), rows are sorted, and no local path is written.
"""

from collections.abc import Sequence

import pandas as pd

from scratchnet.analysis.tables import ranked, selection_splits, verdict_counts
from scratchnet.report.appendix import definition_blocks, environment_blocks
from scratchnet.report.cells import Column, factor_columns, fmt, frame_table, ranked_columns
from scratchnet.report.factors import effect_blocks, seed_blocks
from scratchnet.report.figures import FigureSpec
from scratchnet.report.layout import chosen_on
from scratchnet.report.ledger import ledger_blocks, test_selection_warning
from scratchnet.report.markup import Block, Bullets, Heading, Image, Note, Para, Table
from scratchnet.report.question import header_blocks, question_blocks
from scratchnet.report.remedies import remedy_blocks
from scratchnet.report.study import Study


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
    columns = columns[:2] + factor_columns(diag) + columns[2:]
    if "reused" in order and order["reused"].any():  # runs of earlier sweeps, marked
        order = order.assign(
            run_of=order["reused"].map({True: "an earlier sweep", False: "this sweep"})
        )
        columns.append(("run_of", "run of", "s"))
    blocks.append(frame_table(order, columns))
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


def superseded_blocks(study: Study) -> list[Block]:
    """The attempts a later attempt of the same configuration replaced: listed, not counted."""
    gone = study.superseded
    blocks: list[Block] = [Heading(2, f"Superseded attempts ({len(gone)})")]
    if gone.empty:
        return [*blocks, Para("None: every configuration has one attempt.")]
    blocks.append(
        Para(
            "Earlier attempts of a configuration that a later attempt finished (or replaced), "
            "e.g. the run a Ctrl-C interrupted before the sweep was resumed. They are excluded "
            "from every table and figure above."
        )
    )
    names = dict(zip(study.every["run_id"], study.every["name"], strict=True))
    frame = gone.assign(current=[names.get(r, r) for r in gone["superseded_by"]])
    columns: list[Column] = [
        ("name", "run", "s"),
        ("run_id", "run id", "s"),
        ("status", "status", "s"),
        ("epochs_logged", "epochs logged", "d"),
        ("current", "superseded by", "s"),
        ("superseded_by", "its run id", "s"),
        ("failure", "note", "s"),
    ]
    return [*blocks, frame_table(frame.sort_values(["name", "run_id"]), columns)]


def document(study: Study, specs: Sequence[FigureSpec], pngs: dict[str, bytes]) -> list[Block]:
    """The whole report, section by section."""
    diag = study.diag
    return [
        *header_blocks(study),
        *question_blocks(study),
        *summary_blocks(diag),
        *ledger_blocks(study.data, diag),
        *effect_blocks(diag),
        *seed_blocks(diag),
        *remedy_blocks(diag, pngs),
        *figure_blocks(specs, pngs),
        *verdict_blocks(diag),
        *problem_blocks(diag),
        *superseded_blocks(study),
        *definition_blocks(study.thresholds),
        *environment_blocks(diag),
    ]
