"""The selection ledger: which split made each choice the report shows, and how much choosing
on test would have flattered the results.

None of MLflow, W&B or Optuna keeps one; a study of overfitting must not overfit its own
test set, so every report says where its choices came from.
"""

import pandas as pd

from scratchnet.analysis.tables import epochs_saved, optimism, selection_splits
from scratchnet.report.cells import MISSING, fmt
from scratchnet.report.markup import Block, Heading, Pairs, Para
from scratchnet.tracking.frames import SweepData
from scratchnet.tracking.names import (
    SWEEP_OBJECTIVE,
    SWEEP_SELECTION_TAG,
    best_by_tag,
    best_final_acc,
)


def test_selection_warning(diag: pd.DataFrame) -> str:
    """The summary's plain statement that (some of) its choices used the test set."""
    chose_on_test = int((diag["selection"] == "test").sum())
    who = "The runs have no" if chose_on_test == len(diag) else f"{chose_on_test} runs have no"
    return (
        f"{who} validation split (data.val_fraction=0): their best epochs, ranks and verdicts "
        "were chosen on the test set, so the test numbers in this report are optimistic. Run "
        "with data.val_fraction > 0 to choose on validation and report test honestly."
    )


SPLIT = {"val": "validation", "test": "test (optimistic: no validation split)"}


def split_words(splits: list[str]) -> str:
    """How a choice's splits read: validation, test (optimistic), or both."""
    return " and ".join(SPLIT[s] for s in splits) or MISSING


def early_stopping_entry(diag: pd.DataFrame) -> str:
    """What early stopping watched, or that it was off."""
    patience = diag["patience"].dropna() if "patience" in diag else pd.Series(dtype=float)
    if patience.empty:
        return "off (trainer.early_stopping.patience=null)"
    values = ", ".join(str(int(p)) for p in sorted(patience.unique()))
    return f"validation loss (patience {values})"


def ledger_rows(data: SweepData, diag: pd.DataFrame) -> list[tuple[str, str]]:
    """(choice, the split that made it) for every choice the report shows."""
    chosen = split_words(selection_splits(diag))
    parent_split = data.sweep.tags.get(SWEEP_SELECTION_TAG)
    objective = data.sweep.params.get(SWEEP_OBJECTIVE, "none")
    return [
        ("best epoch of each run (lowest loss)", chosen),
        ("ranking of the runs (accuracy at the best epoch)", chosen),
        ("onset of overfitting, gaps and verdicts", chosen),
        ("the sweep's best runs (parent tags best_by_*)", SPLIT.get(parent_split or "", MISSING)),
        (
            "the sweep's best run by final accuracy (ties: lower final loss, then the name; "
            "Optuna's best trial is the same run)",
            best_run(data),
        ),
        ("Optuna's objective", "not a search" if objective == "none" else objective),
        ("early stopping", early_stopping_entry(diag)),
        ("reported: accuracy and loss at the chosen epoch", reported_entry(diag)),
    ]


def best_run(data: SweepData) -> str:
    """The parent's best run by final accuracy on its selection split, as it names it."""
    split = data.sweep.tags.get(SWEEP_SELECTION_TAG)
    if split is None:
        return MISSING
    return data.sweep.tags.get(best_by_tag(best_final_acc(split)), MISSING)


def reported_entry(diag: pd.DataFrame) -> str:
    """What the reported test numbers are: never chosen on, unless a run had no validation."""
    if "test" in selection_splits(diag):
        return "test (also chosen on where there is no validation split: optimistic)"
    return "test (never chosen on)"


def ledger_blocks(data: SweepData, diag: pd.DataFrame) -> list[Block]:
    """The ledger table, the selection optimism and the epochs early stopping saved."""
    blocks: list[Block] = [
        Heading(2, "Selection ledger"),
        Para("Which split made each choice in this report:"),
        Pairs(tuple(ledger_rows(data, diag))),
    ]
    found = optimism(diag)
    if found is None:
        blocks.append(Para("Selection optimism: no run chose on validation, so none to measure."))
    else:
        mean, worst = found
        blocks.append(
            Para(
                "Selection optimism: choosing each run's epoch on the test loss instead of the "
                f"validation loss would have raised its reported test accuracy by {fmt(mean)} on "
                f"average and {fmt(worst)} at most, over the runs that finished without "
                "diverging."
            )
        )
    stopped, saved = epochs_saved(diag)
    if stopped:
        blocks.append(
            Para(f"Early stopping ended {stopped} runs early, saving {saved} epochs of training.")
        )
    return blocks
