"""Relocation: a store's recorded artifact locations rewritten to point into its own folder.

MLflow records absolute artifact locations, so a store copied or moved elsewhere still points
at the folder it was made in. Relocating maps each location outside the store's folder to the
same place inside it: the old artifact root (`<old folder>/artifacts`, and anything else under
the old folder) becomes `<store folder>/artifacts` (and the same relative path), a run's URI
follows its experiment's. All of it is one transaction (`sqlite_store.rewrite_locations`).
"""

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from scratchnet.core.errors import ScratchnetError
from scratchnet.tracking.sqlite_store import Recorded, rewrite_locations

ARTIFACTS_DIR = "artifacts"  # a store's artifact root: <store folder>/artifacts
SEARCH_LEVELS = 3  # how far up an old root new_root looks for a folder the store brought along


def plural(count: int, noun: str) -> str:
    """'1 run', '2 runs'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def local_path(location: str) -> Path | None:
    """The local folder of a `file:` URI or an absolute path; None for any other scheme."""
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if not parsed.scheme and location.startswith("/"):
        return Path(location)
    return None


def as_location(path: Path, like: str) -> str:
    """`path` written the way `like` is: a `file:` URI or a plain path (as MLflow wrote it)."""
    return path.as_uri() if like.startswith("file:") else str(path)


def is_inside(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or below it, symbolic links resolved."""
    return path.resolve().is_relative_to(folder.resolve())


def is_foreign(location: str, folder: Path) -> bool:
    """A local location outside the store's folder (other schemes are not the store's own)."""
    path = local_path(location)
    return path is not None and not is_inside(path, folder)


def split_root(path: Path, experiment_id: str) -> tuple[Path, str]:
    """An experiment location as (artifact root, tail): MLflow's `<root>/<id>` layout
    (the Default experiment, ones made by `mlflow ui`), or scratchnet's, the root itself."""
    return (path.parent, path.name) if path.name == experiment_id else (path, "")


def old_folders(roots: Iterable[Path], known: Iterable[Path] = ()) -> list[Path]:
    """Store folders the roots came from (`<folder>/artifacts`), deepest first."""
    found = {root.parent for root in roots if root.name == ARTIFACTS_DIR} | set(known)
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def new_root(root: Path, homes: Sequence[Path], folder: Path) -> Path:
    """Where an old artifact root goes: the same place under `folder` if it was under an old
    store folder, or if that place exists in `folder` (a store moved with its artifacts:
    MLflow's `<folder>/mlruns`), else `<folder>/artifacts`."""
    for home in homes:
        if root.is_relative_to(home):
            return folder / root.relative_to(home)
    for home in list(root.parents)[:SEARCH_LEVELS]:
        if (folder / root.relative_to(home)).is_dir():
            return folder / root.relative_to(home)
    return folder / ARTIFACTS_DIR


def creation_location(row: Recorded) -> Path | None:
    """The experiment location a run or model was created under (`<loc>/<id>/artifacts`,
    `<loc>/models/<id>/artifacts`), when its URI has that shape."""
    path = local_path(row.location)
    if path is None or path.name != ARTIFACTS_DIR or path.parent.name != row.key:
        return None
    return path.parent.parent.parent if row.table == "logged_models" else path.parent.parent


@dataclass(frozen=True)
class Mapper:
    """Maps old experiment locations into `folder`, given the old store folders `homes`."""

    folder: Path
    homes: Sequence[Path]

    def experiment(self, path: Path, experiment_id: str) -> Path:
        root, tail = split_root(path, experiment_id)
        moved = new_root(root, self.homes, self.folder)
        return moved / tail if tail else moved

    def below(self, row: Recorded, base: Path, new_base: Path) -> str | None:
        path = local_path(row.location)
        if path is None or not path.is_relative_to(base):
            return None
        return as_location(new_base / path.relative_to(base), row.location)


def path_of(row: Recorded) -> Path:
    """The local path of a row known to be local."""
    path = local_path(row.location)
    if path is None:
        raise ValueError(f"not a local artifact location: {row.location}")
    return path


def plan(
    rows: Sequence[Recorded], folder: Path, known_folders: Iterable[Path] = ()
) -> dict[tuple[str, str], str]:
    """{(table, key): new location} for every location outside `folder`; pure.

    `known_folders`: old store folders known for certain (a backup's source); others are
    inferred from scratchnet's `<folder>/artifacts` roots. A run or model follows its
    experiment, or when that was relocated before it, the location it was created under.
    """
    foreign = [r for r in rows if is_foreign(r.location, folder)]
    bases = {r.key: path_of(r) for r in foreign if r.table == "experiments"}
    items = [r for r in foreign if r.table != "experiments"]
    origins = [creation_location(r) for r in items]
    roots = [split_root(path, key)[0] for key, path in bases.items()]
    roots += [split_root(o, r.experiment_id)[0] for r, o in zip(items, origins, strict=True) if o]
    mapper = Mapper(folder, old_folders(roots, known_folders))
    moved = {key: mapper.experiment(path, key) for key, path in bases.items()}
    changes = {
        (r.table, r.key): as_location(moved[r.key], r.location)
        for r in foreign
        if r.table == "experiments"
    }
    for row, origin in zip(items, origins, strict=True):
        owner = row.experiment_id
        new = mapper.below(row, bases[owner], moved[owner]) if owner in moved else None
        if new is None and origin is not None:
            new = mapper.below(row, origin, mapper.experiment(origin, owner))
        if new is not None:
            changes[(row.table, row.key)] = new
    return changes


@dataclass(frozen=True)
class Relocation:
    """What a relocation changed: rows per table, the old roots, the store's folder."""

    folder: Path
    old_roots: tuple[str, ...]
    experiments: int = 0
    runs: int = 0
    models: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.experiments or self.runs or self.models)

    def counts(self) -> str:
        """'2 experiments and 14 runs' (logged models only when there are some)."""
        parts = [plural(self.experiments, "experiment"), plural(self.runs, "run")]
        if self.models:
            parts.append(plural(self.models, "logged model"))
        return ", ".join(parts[:-1]) + f" and {parts[-1]}"


def old_roots(rows: Sequence[Recorded], folder: Path) -> tuple[str, ...]:
    """The distinct artifact roots outside `folder` of experiments holding runs or models."""
    holding = {r.experiment_id for r in rows if r.table != "experiments"}
    found = {
        str(split_root(path, r.key)[0])
        for r in rows
        if r.table == "experiments" and r.key in holding
        if (path := local_path(r.location)) is not None and not is_inside(path, folder)
    }
    return tuple(sorted(found))


class RelocationError(ScratchnetError):
    """The store's locations could not be rewritten (read-only, locked): nothing changed."""


def relocate(db: Path, folder: Path | None = None, known: Iterable[Path] = ()) -> Relocation:
    """Rewrite every location of the store `db` outside `folder` (default: the database's
    folder) into it, in one transaction."""
    folder = folder or db.parent
    known = tuple(known)
    seen: list[tuple[str, ...]] = []

    def planned(rows: list[Recorded]) -> Mapping[tuple[str, str], str]:
        seen.append(old_roots(rows, folder))
        return plan(rows, folder, known)

    try:
        counts = rewrite_locations(db, planned)
    except sqlite3.Error as err:
        raise RelocationError(
            f"cannot relocate the tracking store {folder} ({err}); nothing was changed"
        ) from err
    return Relocation(
        folder,
        seen[0] if seen else (),
        counts["experiments"],
        counts["runs"],
        counts["logged_models"],
    )
