"""The report's sweep-level sections: how each factor matters (tables with 95% intervals and
noise-aware statements), which factors matter most, and the configurations over seeds."""

import pandas as pd

from scratchnet.analysis.comparisons import comparisons
from scratchnet.analysis.effects import effect_tables
from scratchnet.analysis.levels import is_binned
from scratchnet.analysis.seeds import seed_spread
from scratchnet.analysis.tables import factor_label, repeats_seeds
from scratchnet.report.cells import FACTOR_COLUMNS, Column, frame_table
from scratchnet.report.layout import chosen_on, figure_frame
from scratchnet.report.markup import Block, Bullets, Heading, Note, Para
from scratchnet.report.statements import METHOD, search_hint, single_seed_hint, statement


def metric_words(diag: pd.DataFrame) -> str:
    """The choice metric in words: validation accuracy (or test, when chosen on test)."""
    chosen = chosen_on(diag)
    return "validation accuracy" if chosen == "val" else f"{chosen} accuracy (chosen on test)"


def effect_columns(diag: pd.DataFrame, factor: str) -> list[Column]:
    """A factor table's columns: the level, runs by verdict, means with 95% intervals."""
    chosen = chosen_on(diag)
    return [
        (factor, factor_label(factor), "n"),
        ("runs", "runs", "d"),
        ("seeds", "seeds", "d"),
        ("good_fit", "good fit", "d"),
        ("overfit", "overfit", "d"),
        ("underfit", "underfit", "d"),
        ("diverged", "diverged", "d"),
        ("best_acc_mean", f"{chosen} acc @best", "±"),
        ("test_acc_at_best_mean", "test acc @best", "±"),
        ("final_test_acc_mean", "final test acc", "±"),
        ("gap_acc_final_mean", "acc gap final", "±"),
        ("gap_loss_final_mean", "loss gap final", "±"),
        ("onsets", "with onset", "d"),
        ("onset_median", "median onset", "g"),
    ]


def effect_blocks(diag: pd.DataFrame) -> list[Block]:
    """Per varied factor: its table and the statements comparing its neighbouring levels."""
    blocks: list[Block] = [Heading(2, "How the factors matter")]
    diag = figure_frame(diag)  # the numbers these read, without provenance: faster groupings
    tables = effect_tables(diag)
    if not tables:
        return [*blocks, Para("The sweep varies none of its factors.")]
    blocks.append(
        Para(
            "Per level of each varied factor, over every other factor and seed: runs by "
            "verdict, mean outcomes of the runs that finished without diverging ± the "
            "half-width of their 95% confidence interval over seeds (Student t over the "
            "per-seed means; none with one seed), and the median onset epoch among those "
            "with one. Continuous factors of a search are shown in bins of about equal runs."
        )
    )
    searched = [f for f in tables if is_binned(diag, f)]
    if searched:
        blocks.append(Note(search_hint(searched)))
    elif not repeats_seeds(diag):
        blocks.append(Note(single_seed_hint()))
    found, metric = comparisons(diag), metric_words(diag)
    for factor, table in tables.items():
        title = factor_label(factor).capitalize()
        blocks.append(Heading(3, title + (" (binned)" if is_binned(diag, factor) else "")))
        blocks.append(frame_table(table, effect_columns(diag, factor)))
        said = [statement(c, metric) for c in found.get(factor, [])]
        if said:
            blocks.append(Bullets(tuple(said)))
    blocks.append(Para(METHOD.format(metric=metric)))
    return blocks


def seed_blocks(diag: pd.DataFrame) -> list[Block]:
    """Configurations repeated over seeds, ranked by mean choice accuracy, with intervals."""
    blocks: list[Block] = [Heading(2, "Configurations over seeds")]
    spread = seed_spread(diag)
    if spread is None:
        return [*blocks, Para(single_seed_hint())]
    chosen = chosen_on(diag)
    blocks.append(
        Para(
            f"Each configuration's runs over seeds, ranked by mean {chosen} accuracy at the best "
            "epoch: mean ± half-width of the 95% confidence interval (Student t, n - 1 degrees "
            "of freedom), the standard deviation and range. Test is reported, never ranked on."
        )
    )
    keys = [c for c in FACTOR_COLUMNS if c[0] in spread.columns and c[0] != "seed"]
    stats: list[Column] = [("rank", "rank", "d"), *keys, ("seeds", "seeds", "d")]
    stats.append(("verdicts", "verdicts", "s"))
    for key, label in (
        ("best_acc", f"{chosen} acc @best"),
        ("test_acc_at_best", "test acc @best"),
        ("gap_acc_final", "acc gap"),
    ):
        stats.append((f"{key}_mean", f"{label} mean ± CI", "±"))
        stats.append((f"{key}_std", f"{label} sd", ".4f"))
    stats += [
        ("best_acc_min", f"{chosen} acc min", ".4f"),
        ("best_acc_max", f"{chosen} acc max", ".4f"),
    ]
    blocks.append(frame_table(spread, stats))
    return blocks
