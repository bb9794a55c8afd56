"""The remedies analysis: per lever value over seeds, and how the verdicts move along it."""

import pandas as pd
import pytest

from scratchnet.analysis.remedies import (
    companions,
    describe,
    lever_lines,
    lever_table,
    majority,
    movements,
    value_order,
    varied_levers,
)
from scratchnet.report.markup import render_markdown
from scratchnet.report.remedies import remedy_blocks


def diag_frame(rows: list[tuple]) -> pd.DataFrame:
    """(lambda, activation, seed, verdict, gap at best, val acc, test acc) -> a diagnosis frame."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "weight_decay_lambda",
            "activation",
            "seed",
            "verdict",
            "gap_acc_at_best",
            "best_acc",
            "test_acc_at_best",
        ],
    )
    frame["status"] = "FINISHED"
    frame["overfit_onset"] = [10 if v == "overfit" else None for v in frame["verdict"]]
    frame["selection"] = "val"
    frame["lr"], frame["optimizer"], frame["final_train_loss"] = 0.1, "sgd", 0.05
    return frame


DECAY = diag_frame(
    [
        (lam, "relu", seed, verdict, gap + 0.01 * seed, 0.8, 0.79)
        for lam, verdict, gap in (
            (0.0, "overfit", 0.30),
            (0.01, "overfit", 0.20),
            (0.1, "good_fit", 0.02),
        )
        for seed in (0, 1, 2)
    ]
)


def test_the_levers_a_sweep_varies_are_found():
    assert varied_levers(DECAY) == ["weight_decay_lambda"]
    assert lever_lines(DECAY, "weight_decay_lambda") == []


def test_the_table_has_one_row_per_value_with_the_seed_spread():
    table = lever_table(DECAY, "weight_decay_lambda")
    assert table["weight_decay_lambda"].tolist() == [0.0, 0.01, 0.1]
    assert table["seeds"].tolist() == [3, 3, 3]
    assert table["verdict"].tolist() == ["overfit", "overfit", "good_fit"]
    first = table.iloc[0]
    assert first["gap_acc_at_best_mean"] == pytest.approx(0.31)
    assert first["gap_acc_at_best_std"] == pytest.approx(0.01)
    assert (first["gap_acc_at_best_min"], first["gap_acc_at_best_max"]) == pytest.approx(
        (0.3, 0.32)
    )


def test_the_verdicts_move_from_overfit_to_good_fit_as_lambda_grows():
    table = lever_table(DECAY, "weight_decay_lambda")
    (movement,) = movements(table, "weight_decay_lambda", [])
    assert movement.path == ("overfit", "good_fit")
    text = describe(movement, "weight_decay_lambda")
    assert "verdicts move overfit → good_fit as the weight decay lambda grows" in text
    assert "0.1: good_fit (3/3)" in text
    assert "gap at the best epoch 0.310 at 0, 0.030 at 0.1 (seeds' ranges apart)" in text
    assert "runs with an onset 3/3 at 0, 0/3 at 0.1" in text


def test_each_combination_of_the_other_factors_is_its_own_line():
    sigmoid = DECAY.assign(activation="sigmoid", verdict="underfit")
    both = pd.concat([DECAY, sigmoid], ignore_index=True)
    lines = lever_lines(both, "weight_decay_lambda")
    assert lines == ["activation"]
    found = movements(lever_table(both, "weight_decay_lambda"), "weight_decay_lambda", lines)
    assert [(m.line, m.path) for m in found] == [
        ("act=relu", ("overfit", "good_fit")),
        ("act=sigmoid", ("underfit",)),
    ]


def test_overlapping_seed_ranges_are_not_called_resolved():
    noisy = DECAY.copy()
    noisy.loc[noisy["weight_decay_lambda"] == 0.1, "gap_acc_at_best"] = [0.02, 0.5, 0.3]
    (movement,) = movements(lever_table(noisy, "weight_decay_lambda"), "weight_decay_lambda", [])
    assert "(seeds' ranges overlap)" in describe(movement, "weight_decay_lambda")


def test_a_factor_the_lever_determines_is_shown_beside_it_not_split_into_lines():
    """Each optimizer at the book's own lr: lr is the optimizer's companion, not a line."""
    rows = [
        (opt, lr, seed, "good_fit", gap, acc, loss)
        for opt, lr, gap, acc, loss in (
            ("sgd", 0.01, 0.001, 0.90, 0.36),
            ("momentum", 0.01, 0.005, 0.95, 0.15),
            ("adam", 0.001, 0.011, 0.97, 0.07),
        )
        for seed in (0, 1)
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "optimizer",
            "lr",
            "seed",
            "verdict",
            "gap_acc_at_best",
            "best_acc",
            "final_train_loss",
        ],
    ).rename(columns={"loss": "final_train_loss"})
    frame = frame.assign(status="FINISHED", selection="val", test_acc_at_best=0.9)
    assert lever_lines(frame, "optimizer") == [] and companions(frame, "optimizer") == ["lr"]
    table = lever_table(frame, "optimizer")
    assert table["optimizer"].tolist() == ["sgd", "momentum", "adam"]  # the book's order
    assert table["lr"].tolist() == [0.01, 0.01, 0.001]
    (movement,) = movements(table, "optimizer", [])
    text = describe(movement, "optimizer")
    assert "verdicts stay good_fit across optimizer values" in text
    assert "smallest 0.001 at sgd, largest 0.011 at adam" in text
    assert "highest accuracy at the best epoch 0.970 at adam" in text
    assert "lowest final train loss 0.070 at adam" in text


def test_diverged_runs_are_counted_but_not_averaged():
    frame = DECAY.copy()
    frame.loc[0, ["verdict", "gap_acc_at_best"]] = ["diverged", 9.0]
    row = lever_table(frame, "weight_decay_lambda").iloc[0]
    assert (row["diverged"], row["overfit"]) == (1, 2)
    assert row["gap_acc_at_best_mean"] == pytest.approx(0.315)


def test_majority_breaks_ties_in_verdict_order():
    assert majority(pd.Series(["good_fit", "overfit"])) == "overfit"
    assert majority(pd.Series([None], dtype=object)) == "no data"


def test_the_section_appears_only_when_a_lever_varies():
    assert remedy_blocks(DECAY[DECAY["weight_decay_lambda"] == 0.0], {}) == []
    text = render_markdown(remedy_blocks(DECAY, {}))
    assert "## Remedies" in text and "### Weight decay lambda" in text
    assert "0.310 ± 0.010 \\[0.300, 0.320\\]" in text  # Markdown escapes the brackets
    assert "3 overfit" in text and "3 good_fit" in text


def test_initial_weights_are_ordered_numbers_first_then_the_books_names():
    frame = pd.DataFrame({"weight_init_std": ["he", "0.1", "xavier", "0.01", "relu"]})
    assert value_order(frame, "weight_init_std") == ["0.01", "0.1", "xavier", "he", "relu"]
