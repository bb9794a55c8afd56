"""The store's upkeep as `scratchnet-store` asks for it: which store, relocate, check.

The command line (`scratchnet.cli.store`) only parses and prints; what each command does to
a store is here and in `relocation`, `follow`, `backup` and `health`.
"""

from pathlib import Path

from scratchnet.core.checks import fail
from scratchnet.core.paths import default_tracking_uri
from scratchnet.tracking.backup import DB_NAME
from scratchnet.tracking.follow import follow_store
from scratchnet.tracking.health import Problem, check_store
from scratchnet.tracking.relocation import Relocation, relocate
from scratchnet.tracking.sqlite_store import is_mlflow_store
from scratchnet.tracking.store import Client, sqlite_path

STORE_ALLOWED = "a store folder holding mlflow.db, its mlflow.db, or a sqlite:/// URI"


def store_db(spec: str | None, must_exist: bool = True) -> Path:
    """The database file of `--store` (default: the store every command uses by default)."""
    if spec is None or spec.startswith("sqlite:"):
        uri = spec or default_tracking_uri()
        db = sqlite_path(uri)
        if db is None:
            fail("--store", uri, f"{STORE_ALLOWED} (a tracking server's store is not a file)")
    else:
        path = Path(spec).expanduser().resolve()
        db = path / DB_NAME if path.is_dir() or not path.suffix else path
    shown = spec or str(db.parent)
    if must_exist and not db.is_file():
        fail("--store", shown, f"{STORE_ALLOWED}; {db} does not exist")
    if db.is_file() and is_mlflow_store(db) is False:  # unreadable: `check` says why
        fail("--store", shown, f"{STORE_ALLOWED}; {db} is not an MLflow store")
    return db


def relocate_explicitly(db: Path) -> tuple[Relocation, list[Problem]]:
    """Relocate the store whatever its old locations hold (the user's decision, a copy's
    included); also returns the runs whose artifacts are then missing in its folder."""
    done = relocate(db)
    missing = [p for p in check_store(db) if p.kind == "missing"]
    return done, missing


def relocate_if_moved(db: Path) -> Relocation | None:
    """What opening the store does: relocate if moved (saying so in one line), refuse a copy
    (ForeignStoreError); nothing for a store that does not exist yet (its opener makes it)."""
    if not db.is_file():
        return None
    return follow_store(db, Client(tracking_uri=f"sqlite:///{db}"))
