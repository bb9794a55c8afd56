"""The report's "Remedies" section, present whenever a sweep varies one of chapter 6's levers
(optimizer, weight decay, dropout, initialisation): per value, over seeds, the gap, the
validation and the test accuracy at the selected epoch, a figure, and how the verdicts move."""

import pandas as pd

from scratchnet.analysis.remedies import (
    REMEDY_OUTCOMES,
    TABLE_OUTCOMES,
    VERDICT_ORDER,
    companions,
    describe,
    lever_lines,
    lever_table,
    movements,
    varied_levers,
)
from scratchnet.analysis.tables import FACTOR_LABELS, LEVERS, format_value
from scratchnet.report.cells import fmt
from scratchnet.report.draw import effect_figure
from scratchnet.report.figures import FigureSpec
from scratchnet.report.layout import chosen_on, figure_frame
from scratchnet.report.markup import Block, Bullets, Heading, Image, Para, Table

REMEDY_FIGURE_NAMES = tuple(f"remedy_{lever}" for lever in LEVERS)


def remedy_figures(diag: pd.DataFrame) -> list[FigureSpec]:
    """One figure per varied lever: the three outcomes against its values."""
    frame = figure_frame(diag)
    return [
        FigureSpec(
            f"remedy_{lever}",
            f"Remedy: {FACTOR_LABELS[lever]}",
            f"Against the {FACTOR_LABELS[lever]}: the accuracy gap, the {chosen_on(diag)} "
            "accuracy and the test accuracy at the best epoch; means over seeds with min-max "
            "bars, from runs that finished without diverging; one line per value of the "
            "other varied factors.",
            lambda lever=lever: effect_figure(frame, lever, REMEDY_OUTCOMES),
        )
        for lever in varied_levers(diag)
    ]


def spread(row: pd.Series, key: str) -> str:
    """`mean ± std [min, max]` of one outcome over the seeds (just the mean for one seed)."""
    mean = row[f"{key}_mean"]
    if pd.isna(row[f"{key}_std"]):
        return fmt(mean, ".3f")
    low, high = fmt(row[f"{key}_min"], ".3f"), fmt(row[f"{key}_max"], ".3f")
    return f"{fmt(mean, '.3f')} ± {fmt(row[f'{key}_std'], '.3f')} [{low}, {high}]"


def verdicts(row: pd.Series) -> str:
    """`3 overfit, 1 good_fit`: the row's runs by verdict, the empty ones left out."""
    return ", ".join(f"{row[v]} {v}" for v in VERDICT_ORDER if row[v]) or "no data"


def lever_block_table(diag: pd.DataFrame, lever: str, table: pd.DataFrame) -> Table:
    """The lever's table: its lines' factors, its value, runs, verdicts and the outcomes."""
    chosen = chosen_on(diag)
    keys = [*lever_lines(diag, lever), lever, *companions(diag, lever)]
    headers = [FACTOR_LABELS.get(k, k) for k in keys] + ["runs", "seeds", "verdicts", "onsets"]
    headers += [f"gap @best (train - {chosen})", f"{chosen} acc @best", "test acc @best"]
    headers += ["final train loss"]
    rows = tuple(
        (
            *(format_value(k, row[k]) for k in keys),
            str(row["runs"]),
            str(row["seeds"]),
            verdicts(row),
            str(row["onsets"]),
            *(spread(row, key) for key in TABLE_OUTCOMES),
        )
        for _, row in table.iterrows()
    )
    return Table(tuple(headers), rows)


def intro(levers: list[str], chosen: str) -> str:
    """What the section shows, in a paragraph."""
    return (
        "The chapter-6 remedies this sweep varies: "
        + ", ".join(FACTOR_LABELS[lever] for lever in levers)
        + ". Per value: the runs by verdict, those with an onset of overfitting (the "
        f"{chosen} loss rising while the train loss does not) and, over the seeds (mean ± "
        "std [min, max], runs that finished without diverging), the accuracy gap (train - "
        f"{chosen}) at the best epoch (lowest {chosen} loss), the {chosen} accuracy there and "
        "the test accuracy there (reported, never chosen on); and the train loss at the last "
        "epoch."
    )


def remedy_blocks(diag: pd.DataFrame, pngs: dict[str, bytes]) -> list[Block]:
    """The section, or nothing when the sweep varies no lever."""
    levers = varied_levers(diag)
    if not levers:
        return []
    chosen = chosen_on(diag)
    blocks: list[Block] = [
        Heading(2, "Remedies"),
        Para(intro(levers, chosen)),
    ]
    specs = {spec.name: spec for spec in remedy_figures(diag)}
    for lever in levers:
        table = lever_table(diag, lever)
        blocks.append(Heading(3, FACTOR_LABELS[lever].capitalize()))
        blocks.append(lever_block_table(diag, lever, table))
        lines = lever_lines(diag, lever)
        blocks.append(Bullets(tuple(describe(m, lever) for m in movements(table, lever, lines))))
        spec = specs[f"remedy_{lever}"]
        if spec.name in pngs:
            blocks.append(Image(f"{spec.name}.png", pngs[spec.name], spec.title, spec.caption))
    return blocks
