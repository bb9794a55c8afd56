"""The order the suite's modules start in: the longest first.

pytest-xdist's `--dist loadscope` gives whole modules to workers in collection order (with
`--no-loadscope-reorder`; by default it orders them by their number of tests, which puts a
long module of few tests, a sweep's signals or a SLURM cluster, last). A long module started
last keeps one worker busy while the other has nothing left to do; started first, it runs
beside the short ones. The list comes from `pytest --durations=0` summed per module; a module
left off it starts after them, in collection order. A stale list costs time, never a result.
"""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
LONGEST_FIRST = (
    "faults/test_interruption.py",
    "chapter/test_scripts.py",
    "test_sweep.py",
    "packaging/test_wheel.py",
    "faults/test_bad_config.py",
    "faults/test_bad_data.py",
    "test_cli_train.py",
    "store/test_make_ui.py",
    "integration/test_slurm.py",
    "test_optuna_search.py",
    "faults/test_divergence.py",
    "faults/test_concurrency.py",
    "store/test_moved_clone.py",
    "faults/test_store_damage.py",
    "store/test_backup.py",
    "integration/test_server.py",
    "integration/test_launchers.py",
    "faults/test_dead_owners.py",
    "report/test_remedies_report.py",
    "integration/test_mlflow_ui.py",
)
RANK = {name: rank for rank, name in enumerate(LONGEST_FIRST)}


def start_rank(path: Path) -> int:
    """Where a test module's tests start: its place in LONGEST_FIRST, else after them all."""
    return RANK.get(path.resolve().relative_to(TESTS).as_posix(), len(RANK))
