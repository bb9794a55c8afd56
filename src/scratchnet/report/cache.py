"""Figures drawn again only when what they are drawn from changed.

A report is rebuilt after every sweep, often of an unchanged sweep (a re-run whose jobs were
all skipped). Each figure is keyed by a digest of its inputs: the frames it reads, its name,
the source of the code that draws it and the versions of matplotlib, numpy and pandas. The
report folder keeps, in `.figure-inputs.json`, each figure's key and the SHA-256 of its PNG; a
figure whose key matches and whose file is still those bytes is read back, not drawn.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path

import pandas as pd

import scratchnet.analysis
import scratchnet.core.png
import scratchnet.report

CACHE_FILE = ".figure-inputs.json"
LIBRARIES = ("matplotlib", "numpy", "pandas")


@cache
def code_fingerprint() -> str:
    """A digest of the source that draws the figures (report/, analysis/, core/png.py) and of
    the drawing libraries' versions."""
    h = hashlib.sha256()
    files = [Path(scratchnet.core.png.__file__)]
    for package in (scratchnet.report, scratchnet.analysis):
        files += sorted(Path(package.__file__).parent.glob("*.py"))
    for path in files:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in LIBRARIES:
        h.update(f"{name}={metadata.version(name)}".encode())
    return h.hexdigest()


def frames_digest(frames: Sequence[pd.DataFrame]) -> str:
    """A digest of the frames' columns, dtypes, index and values."""
    h = hashlib.sha256()
    for frame in frames:
        h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
        h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class FigureCache:
    """The figures of one report folder: what they were drawn from (`.figure-inputs.json`)."""

    folder: Path | None
    inputs: str  # `frames_digest` of what every figure of the report reads
    entries: dict[str, dict[str, str]] = field(default_factory=dict)  # this build's figures
    drawn: list[str] = field(default_factory=list)  # the figures this build had to draw

    def key(self, name: str) -> str:
        """The figure's key: its name, its inputs, the code and the libraries."""
        return sha256(f"{name}\0{self.inputs}\0{code_fingerprint()}".encode())

    @cached_property
    def stored(self) -> dict[str, dict[str, str]]:
        """The keys recorded in the folder by the last build (none when unreadable)."""
        path = self.folder / CACHE_FILE if self.folder else None
        try:
            found = json.loads(path.read_text()) if path else {}
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def get(self, name: str) -> bytes | None:
        """The figure's PNG as the last build wrote it, if drawn from the same inputs."""
        entry = self.stored.get(name)
        if self.folder is None or not isinstance(entry, dict) or entry.get("key") != self.key(name):
            return None
        try:
            png = (self.folder / f"{name}.png").read_bytes()
        except OSError:
            return None
        return png if sha256(png) == entry.get("sha256") else None

    def put(self, name: str, png: bytes) -> None:
        """Record the figure this build shows."""
        self.entries[name] = {"key": self.key(name), "sha256": sha256(png)}

    def save(self) -> None:
        """Write this build's keys into the folder (after its PNGs are written)."""
        if self.folder is not None:
            text = json.dumps(self.entries, indent=1, sort_keys=True) + "\n"
            (self.folder / CACHE_FILE).write_text(text)
