"""The chapter studies' figures, built as Figure objects (no pyplot state, Agg backend)."""

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import NDArray

from scratchnet.chapter.descent import Descent, Field
from scratchnet.chapter.differentiation import Tangent
from scratchnet.chapter.gradcheck import Check
from scratchnet.chapter.landscape import Sweep
from scratchnet.chapter.losses import LossCurves
from scratchnet.chapter.minibatch import EpochPoint
from scratchnet.chapter.paths import OptimizerPath, valley


def loss_curves_figure(curves: LossCurves, near_zero: LossCurves, delta: float) -> Figure:
    """SSE and CEE against the correct class's probability p (left); near p = 0 on a log
    axis (right), where CEE without delta grows without bound and with delta stops at
    -log(delta)."""
    fig = Figure(figsize=(9.5, 3.8), layout="constrained")
    ax_lin, ax_log = fig.subplots(1, 2)
    for ax, c in ((ax_lin, curves), (ax_log, near_zero)):
        ax.plot(c.p, c.sse, label="sum of squares")
        ax.plot(c.p, c.cee, label=f"cross-entropy, delta={delta:g}")
        ax.plot(c.p, c.cee_without_delta, "--", label="cross-entropy, no delta")
        ax.set_xlabel("probability p of the correct class")
        ax.grid(alpha=0.3, which="both")
    ax_lin.set_ylabel("loss")
    ax_lin.set_ylim(0, 5)
    ax_lin.legend()
    ax_log.set_xscale("log")
    ax_log.set_title(
        f"at p = 0: -log(0 + {delta:g}) = {-np.log(delta):.2f}; without delta: log(0) = -inf",
        fontsize=9,
    )
    return fig


def error_vs_h_figure(
    hs: NDArray[np.float64],
    errors: Mapping[tuple[str, str], NDArray[np.float64]],
    exact: float,
) -> Figure:
    """|estimate - exact| against h, log-log, one line per (method, dtype); NaN not drawn."""
    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    ax = fig.subplots()
    for (method, dtype), err in errors.items():
        shown = np.where(err > 0, err, np.nan)  # exact hits have no place on a log axis
        style = "-" if method == "central" else "--"
        ax.loglog(hs, shown, style, marker=".", label=f"{method}, {dtype}")
    if exact != 0:
        ax.axhline(abs(exact), color="grey", linewidth=0.8, linestyle=":")
        ax.annotate(
            "estimate 0: x + h rounds to x",
            (hs[-1], abs(exact)),
            fontsize=8,
            xytext=(0, 4),
            textcoords="offset points",
            ha="right",
        )
    vanished = hs[np.float32(hs) == 0]
    if vanished.size:
        ax.axvline(vanished[0], color="grey", linewidth=0.8, linestyle=":")
        ax.annotate(
            "float32(h) = 0: 0/0 = NaN",
            (vanished[0], ax.get_ylim()[0]),
            fontsize=8,
            xytext=(4, 4),
            textcoords="offset points",
            rotation=90,
        )
    ax.invert_xaxis()
    ax.set_xlabel("h (smaller to the right)")
    ax.set_ylabel("|numerical - exact derivative|")
    ax.set_title("truncation error falls with h, rounding error rises", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower left")
    return fig


def tangent_figure(
    f: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    low: float,
    high: float,
    tangents: Sequence[Tangent],
) -> Figure:
    """f over [low, high] with its numerically sloped tangent line at each point."""
    x = np.linspace(low, high, 200)
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(x, f(x), label="f(x)")
    for tan in tangents:
        ax.plot(
            x, tan.slope * x + tan.intercept, "--", label=f"x={tan.x0:g}, slope {tan.slope:.4f}"
        )
        ax.plot([tan.x0], [tan.slope * tan.x0 + tan.intercept], "ko", markersize=4)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def gradient_field_figure(field: Field) -> Figure:
    """Arrows of -grad f over the grid, with f's contours: all point to the minimum."""
    fig = Figure(figsize=(5.5, 5), layout="constrained")
    ax = fig.subplots()
    ax.contour(field.x0, field.x1, field.x0**2 + field.x1**2, levels=8, alpha=0.3)
    ax.quiver(field.x0, field.x1, -field.g0, -field.g1, angles="xy", color="#444")
    ax.plot([0], [0], "r+", markersize=10)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_aspect("equal")
    ax.set_title("-grad f for f = x0^2 + x1^2", fontsize=10)
    return fig


def _contour(ax: Axes, extent: float) -> None:
    """f = x0^2 + x1^2 as contour lines over [-extent, extent]^2."""
    axis = np.linspace(-extent, extent, 101)
    x0, x1 = np.meshgrid(axis, axis)
    ax.contour(x0, x1, x0**2 + x1**2, levels=12, alpha=0.4)
    ax.plot([0], [0], "r+", markersize=10)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")


def descent_path_figure(descent: Descent, extent: float) -> Figure:
    """The path over f's contours (clipped to the window) beside distance to the minimum."""
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax_path, ax_dist = fig.subplots(1, 2)
    _draw_path(ax_path, descent, extent)
    _draw_distance(ax_dist, [descent])
    return fig


def _draw_path(ax: Axes, descent: Descent, extent: float) -> None:
    _contour(ax, extent)
    path = descent.path
    with np.errstate(invalid="ignore"):
        shown = path[np.all(np.isfinite(path), axis=1)]
    ax.plot(shown[:, 0], shown[:, 1], "o-", markersize=2.5, linewidth=0.8)
    ax.set_title(
        f"lr={descent.lr:g}: {descent.verdict}, final distance {descent.final_distance:.3g}",
        fontsize=9,
    )


def _draw_distance(ax: Axes, descents: Sequence[Descent]) -> None:
    for d in descents:
        shown = np.where(np.isfinite(d.distances) & (d.distances > 0), d.distances, np.nan)
        ax.semilogy(np.arange(len(shown)), shown, label=f"lr={d.lr:g} ({d.verdict})")
    ax.set_xlabel("step")
    ax.set_ylabel("distance to the minimum")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)


def lr_study_figure(descents: Sequence[Descent], extent: float) -> Figure:
    """Every learning rate's path side by side, then all distances on one log axis."""
    n = len(descents)
    fig = Figure(figsize=(3.2 * (n + 1), 3.6), layout="constrained")
    axes = fig.subplots(1, n + 1)
    for ax, d in zip(axes[:-1], descents, strict=True):
        _draw_path(ax, d, extent)
    _draw_distance(axes[-1], descents)
    return fig


def gradcheck_figure(checks: Sequence[Check]) -> Figure:
    """Relative error per parameter for each size (against the numerical gradient with and
    without delta), and the numerical gradient's slowdown against parameter count."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_err, ax_speed = fig.subplots(1, 2)
    names = list(checks[0].errors)
    xs = np.arange(len(names))
    for c in checks:
        (line,) = ax_err.semilogy(xs, [c.errors[n] for n in names], "o-", label=c.size.label)
        bare = [max(c.errors_without_delta[n], 1e-18) for n in names]
        ax_err.semilogy(xs, bare, "o:", color=line.get_color(), markerfacecolor="none")
    ax_err.set_xticks(xs, names)
    ax_err.set_ylabel("max relative error vs backprop")
    ax_err.set_title("solid: chapter's loss (delta 1e-7); dotted: delta-free loss", fontsize=9)
    ax_err.legend(fontsize=8)
    ax_err.grid(alpha=0.3, axis="y", which="both")
    counts = [c.size.num_params for c in checks]
    ax_speed.loglog(counts, [c.slowdown for c in checks], "o-")
    for c in checks:
        ax_speed.annotate(c.size.label, (c.size.num_params, c.slowdown), fontsize=8)
    ax_speed.set_xlabel("number of parameters")
    ax_speed.set_ylabel("numerical time / backprop time")
    ax_speed.grid(alpha=0.3, which="both")
    return fig


def weight_sweep_figure(sweep: Sweep) -> Figure:
    """Loss (smooth) and accuracy (steps) against one weight, trained value marked."""
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    name = f"{sweep.param}[{', '.join(map(str, sweep.index))}]"
    ax_loss.plot(sweep.values, sweep.losses)
    ax_loss.set_ylabel("cross-entropy loss")
    ax_acc.plot(sweep.values, sweep.accuracies, drawstyle="steps-mid")
    ax_acc.set_ylabel("accuracy")
    for ax in (ax_loss, ax_acc):
        ax.axvline(sweep.trained_value, color="grey", linestyle=":", label="trained value")
        ax.set_xlabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def minibatch_figure(losses: Sequence[float], points: Sequence[EpochPoint]) -> Figure:
    """Each mini-batch's loss (before its update) and the full train/test loss at each epoch,
    against the number of updates so far."""
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(len(losses)), losses, linewidth=0.6, alpha=0.6, label="mini-batch")
    its = [p.iteration for p in points]
    ax.plot(its, [p.metrics["train_loss"] for p in points], "o-", label="train set (epoch)")
    if all("val_loss" in p.metrics for p in points):
        ax.plot(its, [p.metrics["val_loss"] for p in points], "^-.", label="validation (epoch)")
    ax.plot(its, [p.metrics["test_loss"] for p in points], "s--", label="test set (epoch)")
    ax.set_xlabel("updates so far")
    ax.set_ylabel("cross-entropy loss")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def optimizer_paths_figure(
    paths: Sequence[OptimizerPath], x_range: Sequence[float], y_range: Sequence[float]
) -> Figure:
    """Each optimizer's path over the contours of x^2 / 20 + y^2, one panel each, as the
    book's figure (minimum marked +; points outside the window clipped)."""
    cols = 2 if len(paths) > 1 else 1
    rows = int(np.ceil(len(paths) / cols))
    fig = Figure(figsize=(5.2 * cols, 3.2 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    x, y = np.meshgrid(np.linspace(*x_range, 201), np.linspace(*y_range, 101))
    for ax, path in zip(axes, paths, strict=False):
        ax.contour(x, y, valley(x, y), levels=np.linspace(0.5, 25, 14) ** 1.2, alpha=0.35)
        ax.plot(path.points[:, 0], path.points[:, 1], "o-", color="red", ms=3, lw=1)
        ax.plot(0, 0, "+", color="black", ms=10)
        ax.set_xlim(*x_range)
        ax.set_ylim(*y_range)
        end_x, end_y = path.end
        ax.set_title(
            f"{path.name} (lr={path.lr:g}): ends at ({end_x:.3g}, {end_y:.3g})", fontsize=9
        )
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    for ax in axes[len(paths) :]:
        ax.set_visible(False)
    return fig
