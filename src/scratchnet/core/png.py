"""PNG bytes that depend only on a figure's content, so reports rebuild byte for byte.

Figures are made as `matplotlib.figure.Figure` objects and saved through their own canvas:
nothing here selects a backend or touches pyplot, so importing scratchnet never changes the
user's matplotlib set-up.
"""

import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PNG_METADATA = {"Software": None}  # no matplotlib version in the file: same bytes on rebuild


def png_bytes(fig: "Figure", dpi: int = 100) -> bytes:
    """The PNG of `fig` as bytes, without the metadata that varies between builds."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata=PNG_METADATA)
    return buf.getvalue()


def save_png(fig: "Figure", path: Path, dpi: int = 100) -> Path:
    """Write `fig` as a PNG whose bytes depend only on its content."""
    path.write_bytes(png_bytes(fig, dpi))
    return path
