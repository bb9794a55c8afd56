"""Every chapter figure renders, to the same PNG bytes each time."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from scratchnet.chapter import figures
from scratchnet.chapter.descent import descend, gradient_field
from scratchnet.chapter.differentiation import (
    abs_errors,
    chapter_function,
    decade_steps,
    estimates,
    tangent,
)
from scratchnet.chapter.gradcheck import Check, Size
from scratchnet.chapter.landscape import Sweep
from scratchnet.chapter.losses import linear_grid, loss_curves, near_zero_grid
from scratchnet.chapter.minibatch import EpochPoint
from scratchnet.chapter.paths import optimizer_path
from scratchnet.core.png import png_bytes


def loss_figure() -> Figure:
    curves = [loss_curves(grid(11), 2, 10, 1e-7) for grid in (linear_grid, near_zero_grid)]
    return figures.loss_curves_figure(*curves, 1e-7)


def error_figure() -> Figure:
    hs = decade_steps(1, 50)
    errors = {
        (m, d): abs_errors(estimates(chapter_function, 5.0, hs, m, d), 0.2)
        for m in ("forward", "central")
        for d in ("float64", "float32")
    }
    return figures.error_vs_h_figure(hs, errors, 0.2)


def tangent_figure() -> Figure:
    return figures.tangent_figure(chapter_function, 0, 20, [tangent(chapter_function, 5.0)])


def lr_study_figure() -> Figure:
    runs = [descend(lr, [-3.0, 4.0], 20, 1e-6, 2.0) for lr in (0.1, 1e200)]
    return figures.lr_study_figure(runs, 5.0)


def gradcheck_figure() -> Figure:
    errors = {"W1": 1e-7, "b1": 2e-7, "W2": 0.0, "b2": 1e-7}
    checks = [Check(Size(4, 3, 2, 1), errors, errors, 0.01, 0.0001)]
    return figures.gradcheck_figure(checks)


def sweep_figure() -> Figure:
    values = np.linspace(-1, 1, 5)
    sweep = Sweep("W2", (0, 0), 0.0, values, values**2, np.array([0.5, 0.5, 0.6, 0.6, 0.6]))
    return figures.weight_sweep_figure(sweep)


def minibatch_figure() -> Figure:
    points = [
        EpochPoint(0, 0, {"train_loss": 2.3, "test_loss": 2.3}),
        EpochPoint(1, 3, {"train_loss": 1.0, "test_loss": 1.1}),
    ]
    return figures.minibatch_figure([2.3, 1.8, 1.2], points)


BUILDERS = [
    loss_figure,
    error_figure,
    tangent_figure,
    lambda: figures.gradient_field_figure(gradient_field(-2, 2, 5)),
    lambda: figures.descent_path_figure(descend(10.0, [-3.0, 4.0], 20, 1e-6, 2.0), 5.0),
    lr_study_figure,
    gradcheck_figure,
    sweep_figure,
    minibatch_figure,
    lambda: figures.optimizer_paths_figure(
        [optimizer_path(n, lr, [-7, 2], 5) for n, lr in (("sgd", 0.95), ("adam", 0.3))],
        [-10, 10],
        [-5, 5],
    ),
]


@pytest.mark.parametrize("build", BUILDERS)
def test_a_figure_renders_to_identical_png_bytes_twice(build):
    first, second = png_bytes(build()), png_bytes(build())
    assert first.startswith(b"\x89PNG")
    assert first == second
