"""The figure a training run leaves as an artifact: its learning curves."""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def learning_curve_figure(history: Sequence[Mapping[str, float]], title: str = "") -> "Figure":
    """Train vs test accuracy and loss per epoch, side by side (the chapter's figure, twice).

    matplotlib is imported here, when a figure is asked for: a sweep's launching process
    imports the run module but draws nothing.
    """
    from matplotlib.figure import Figure

    epochs = [row["epoch"] for row in history]
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax_acc, ax_loss = fig.subplots(1, 2)
    for ax, kind in ((ax_acc, "acc"), (ax_loss, "loss")):
        ax.plot(epochs, [row[f"train_{kind}"] for row in history], label="train", marker=".")
        ax.plot(
            epochs,
            [row[f"test_{kind}"] for row in history],
            label="test",
            marker=".",
            linestyle="--",
        )
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy" if kind == "acc" else "cross-entropy loss")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig
