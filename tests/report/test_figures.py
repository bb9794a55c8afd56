"""Figures from synthetic sweeps: which are drawn, what they show, deterministic bytes."""

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import AxesImage

from scratchnet.analysis import diagnose_runs
from scratchnet.core.png import png_bytes
from scratchnet.report.charts import heatmaps
from scratchnet.report.curves import learning_curve_grid
from scratchnet.report.effects import effect_figure
from scratchnet.report.figures import plan_figures
from scratchnet.tracking.synthetic import curve


def sweep(grid: dict[str, list], kinds=("good_fit", "overfit", "underfit")) -> tuple:
    """A diagnosed synthetic sweep over `grid` (lr, batch_size, hidden_size, train_size)."""
    base = {"lr": [0.1], "batch_size": [32], "hidden_size": [50], "train_size": [None]}
    base.update(grid)
    rows, histories = [], []
    for i, values in enumerate(itertools.product(*base.values())):
        row = dict(zip(base, values, strict=True))
        kind = kinds[i % len(kinds)]
        run_id = f"run{i:03d}"
        h = curve(30, kind=kind, onset=12, noise=0.003, seed=i)
        if kind == "diverged":
            h = h.iloc[:4]
        rows.append(
            {
                "run_id": run_id,
                "name": f"run {i}",
                "status": "FINISHED",
                "seed": 0,
                "diverged": kind == "diverged",
                "diverged_epoch": 4 if kind == "diverged" else None,
                "epochs_logged": len(h),
                **row,
            }
        )
        histories.append(h.assign(run_id=run_id))
    runs = pd.DataFrame(rows)
    runs["train_size"] = runs["train_size"].astype("Int64")
    runs["diverged_epoch"] = runs["diverged_epoch"].astype("Int64")
    history = pd.concat(histories, ignore_index=True)
    return diagnose_runs(runs, history), history


def test_plan_skips_figures_of_factors_the_sweep_holds_fixed():
    diag, history = sweep({"hidden_size": [10, 100]})
    specs = {s.name: s for s in plan_figures(diag, history)}
    assert specs["learning_curves"].draw and specs["gap_vs_hidden"].draw
    assert specs["heatmaps"].draw is None and "both the learning rate" in specs["heatmaps"].note
    assert specs["gap_vs_train_size"].draw is None
    assert "training-set size (all runs: full)" in specs["gap_vs_train_size"].note
    assert specs["lr_sensitivity"].draw is None


def test_plan_draws_every_figure_for_a_full_grid():
    diag, history = sweep(
        {"lr": [0.1, 1], "hidden_size": [10, 100], "train_size": [50, None], "batch_size": [8]}
    )
    assert all(s.draw is not None for s in plan_figures(diag, history))


def test_learning_curves_draw_finite_values_only_and_mark_divergence():
    diag, history = sweep({"hidden_size": [10, 20, 30, 40]}, kinds=("overfit", "diverged"))
    history.loc[history.index[5], "test_loss"] = np.nan
    fig = learning_curve_grid(diag, history)
    lines = [line for ax in fig.get_axes() for line in ax.get_lines()]
    assert lines and all(np.isfinite(np.asarray(line.get_ydata(), float)).all() for line in lines)
    assert any(line.get_marker() == "x" for line in lines)


def test_learning_curves_have_one_cell_per_configuration():
    diag, history = sweep({"hidden_size": [10, 20, 30]})
    assert len(learning_curve_grid(diag, history).get_axes()) == 3 * 2


def test_heatmap_masks_cells_without_a_usable_run():
    diag, _ = sweep({"lr": [0.1, 1], "hidden_size": [10, 100]}, kinds=("good_fit", "diverged"))
    fig = heatmaps(diag)
    images = [i for ax in fig.get_axes() for i in ax.get_images() if isinstance(i, AxesImage)]
    assert len(images) == 2
    assert images[0].get_array().mask.sum() == 2  # the two diverged cells
    texts = [t.get_text() for t in fig.get_axes()[0].texts]
    assert texts.count("div.") == 2


def test_effect_figure_plots_one_line_per_other_configuration():
    diag, _ = sweep({"lr": [0.1, 1, 10], "hidden_size": [10, 100]})
    fig = effect_figure(diag, "lr", ["best_acc"])
    ax = fig.get_axes()[0]
    assert [t.get_text() for t in ax.texts[:3]] == ["0.1", "1", "10"]  # the x tick labels
    assert len(ax.containers) == 2  # one errorbar line per hidden size


def test_figures_are_byte_identical_when_redrawn():
    diag, history = sweep({"lr": [0.1, 1], "hidden_size": [10, 100]})
    spec = {s.name: s for s in plan_figures(diag, history)}["heatmaps"]
    assert png_bytes(spec.draw()) == png_bytes(spec.draw())


def test_a_search_gets_parallel_coordinates_and_no_per_value_charts():
    diag, history = sweep({"lr": list(np.geomspace(0.01, 4, 12)), "hidden_size": [10, 100]})
    specs = {s.name: s for s in plan_figures(diag, history)}
    assert specs["parallel_coordinates"].draw and specs["importance"].draw
    for name in ("heatmaps", "gap_vs_hidden", "lr_sensitivity"):
        assert specs[name].draw is None and "a search samples learning rate" in specs[name].note
    assert png_bytes(specs["parallel_coordinates"].draw()) == png_bytes(
        specs["parallel_coordinates"].draw()
    )


def test_the_run_artifact_figure_takes_a_sweeps_history_frame_too():
    from scratchnet.tracking.artifacts import learning_curve_figure

    _, history = sweep({"hidden_size": [10, 20]})
    fig = learning_curve_figure(history)  # two runs: one line each per split
    acc = fig.get_axes()[0]
    assert len(acc.get_lines()) == 2 * 3
    one = history[history["run_id"] == "run000"]
    assert len(learning_curve_figure(one).get_axes()[0].get_lines()) == 3
    records = one.drop(columns="run_id").to_dict("records")  # the trainer's list of epochs
    assert len(learning_curve_figure(records).get_axes()[0].get_lines()) == 3


def test_figures_drawn_side_by_side_are_the_bytes_drawn_one_by_one():
    from scratchnet.report.render import cores, draw_one_here, draw_pngs

    if cores() < 2:
        pytest.skip("one core: the figures are drawn one by one")
    diag, history = sweep({"lr": [0.1, 1], "hidden_size": [10, 100]})
    specs = [s for s in plan_figures(diag, history) if s.draw is not None][:3]
    assert draw_pngs(specs) == [draw_one_here(s) for s in specs]
