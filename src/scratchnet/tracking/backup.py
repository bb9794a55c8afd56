"""`scratchnet-store backup`: a consistent copy of a local store while runs may be writing.

SQLite's online backup copies the database as of one read transaction (counted in the same
transaction), then the artifacts of the runs and models in that copy are copied, and the
copy's locations are rewritten to point into it. It is built in a hidden folder beside the
destination and renamed into place at the end, so an interrupted backup leaves no half-made
store behind.
"""

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scratchnet.core.checks import fail
from scratchnet.tracking.relocation import Relocation, is_inside, local_path, relocate
from scratchnet.tracking.sqlite_store import Recorded, Snapshot, quick_check, snapshot
from scratchnet.tracking.store import open_client

DB_NAME = "mlflow.db"
DEST_ALLOWED = "a new or empty folder outside the store"


@dataclass(frozen=True)
class Backup:
    """What a backup holds: the source's counts at its instant, files, and its integrity."""

    dest: Path
    runs: int
    metric_rows: int
    files: int
    outside: int  # runs and models whose artifacts were outside the store: not copied
    relocation: Relocation
    problems: tuple[str, ...]  # PRAGMA quick_check of the copy


def check_dest(dest: Path, folder: Path) -> None:
    """DEST is new (or an empty folder) and not inside the store being backed up."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        fail("DEST", str(dest), DEST_ALLOWED)
    if is_inside(dest, folder) or is_inside(folder, dest):
        fail("DEST", str(dest), DEST_ALLOWED)


def copy_artifacts(locations: list[Recorded], folder: Path, into: Path) -> tuple[int, int]:
    """Copy the artifact folders of the snapshot's runs and models found under `folder` to the
    same place under `into`; returns (files copied, locations outside the store)."""
    files = outside = 0
    for row in locations:
        if row.table == "experiments":
            continue
        path = local_path(row.location)
        if path is None or not is_inside(path, folder):
            outside += 1
            continue
        if path.is_dir():
            target = into / path.resolve().relative_to(folder.resolve())
            shutil.copytree(path, target, dirs_exist_ok=True)
            files += sum(1 for p in target.rglob("*") if p.is_file())
    return files, outside


def backup(db: Path, dest: Path) -> Backup:
    """Back the store `db` up into `dest` (its mlflow.db and artifacts), pointing into `dest`."""
    folder = db.parent
    dest = dest.absolute()
    check_dest(dest, folder)
    open_client(f"sqlite:///{db}")  # a moved source is relocated first, a copy refused
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        snap: Snapshot = snapshot(db, work / DB_NAME)
        files, outside = copy_artifacts(snap.locations, folder, work)
        moved = relocate(work / DB_NAME, folder=dest, known=(folder,))
        problems = tuple(quick_check(work / DB_NAME))
        if dest.exists():
            dest.rmdir()  # empty, checked above
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Backup(dest, snap.runs, snap.metric_rows, files, outside, moved, problems)
