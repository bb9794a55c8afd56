"""Figure basics shared by tracking and reports: Agg backend, deterministic PNGs."""

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

PNG_METADATA = {"Software": None}  # no matplotlib version in the file: same bytes on rebuild


def save_png(fig: Figure, path: Path, dpi: int = 100) -> Path:
    """Write `fig` as a PNG whose bytes depend only on its content."""
    fig.savefig(path, format="png", dpi=dpi, metadata=PNG_METADATA)
    return path


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """The PNG of `fig` as bytes, with the same fixed metadata as `save_png`."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata=PNG_METADATA)
    return buf.getvalue()


def learning_curve_figure(history: Sequence[dict[str, float]], title: str = "") -> Figure:
    """Train vs test accuracy and loss per epoch, side by side (the chapter's figure, twice)."""
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
