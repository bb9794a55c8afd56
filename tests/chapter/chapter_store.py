"""Fresh MLflow stores for the chapter tests, copied from one already-migrated empty store.

Creating an MLflow SQLite store runs its migrations (seconds); copying a migrated one does
not, which keeps the chapter tests within the suite's time budget. (A helper module, not a
conftest.py: a second conftest would shadow `from conftest import ...` in other tests.)
"""

import functools
import shutil
from pathlib import Path

from mlflow.tracking import MlflowClient


@functools.cache
def migrated_store(base: Path) -> Path:
    """An empty, fully migrated MLflow database under `base`, made once per process."""
    db = base / "chapter-migrated-store" / "mlflow.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()
    return db


def fresh_store(tmp_path: Path, base: Path) -> str:
    """The URI of a new store at `tmp_path/store/mlflow.db`, a copy of the migrated one."""
    db = tmp_path / "store" / "mlflow.db"
    db.parent.mkdir(exist_ok=True)
    shutil.copyfile(migrated_store(base), db)
    return f"sqlite:///{db}"
