"""The files a training run leaves as artifacts: its config, weights and learning curves."""

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def weights_npz(params: Mapping[str, np.ndarray]) -> bytes:
    """The network's parameters as the bytes of an .npz file."""
    buf = io.BytesIO()
    np.savez(buf, **params)
    return buf.getvalue()


def history_runs(history: "Sequence[Mapping[str, float]] | pd.DataFrame") -> list[pd.DataFrame]:
    """A history as one frame per run: a trainer's list of epoch dicts is one run; a frame
    (a run's, or a sweep's with a `run_id` column, as the store reader returns) one per run."""
    frame = history if isinstance(history, pd.DataFrame) else pd.DataFrame(list(history))
    if "run_id" not in frame:
        return [frame.sort_values("epoch", kind="stable")] if len(frame) else []
    return [h.sort_values("epoch", kind="stable") for _, h in frame.groupby("run_id", sort=True)]


def learning_curve_figure(
    history: "Sequence[Mapping[str, float]] | pd.DataFrame", title: str = ""
) -> "Figure":
    """Train, validation (when logged) and test accuracy and loss per epoch, side by side.

    `history` is a trainer's history (a list of epoch dicts) or a history frame, of one run
    or of several (one line each). matplotlib is imported here, when a figure is asked for:
    a sweep's launching process imports the run module but draws nothing.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax_acc, ax_loss = fig.subplots(1, 2)
    runs = history_runs(history)
    styles = (("train", "-", "C0"), ("val", "-.", "C4"), ("test", "--", "C3"))
    for ax, kind in ((ax_acc, "acc"), (ax_loss, "loss")):
        for i, h in enumerate(runs):
            for split, style, color in styles:
                column = f"{split}_{kind}"
                if column not in h or not h[column].notna().any():
                    continue
                label = ("validation" if split == "val" else split) if i == 0 else None
                marker = "." if len(runs) == 1 else None
                ax.plot(h["epoch"], h[column], ls=style, color=color, marker=marker, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy" if kind == "acc" else "cross-entropy loss")
        ax.grid(alpha=0.3)
        if runs:
            ax.legend()
    if title:
        fig.suptitle(title)
    return fig
