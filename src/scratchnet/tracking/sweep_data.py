"""Which sweep `--sweep` names, and a sweep's data assembled from what was read of it, the same
whether it came through MLflow's client (`reader`) or straight from a SQLite file (`sql_reader`).
"""

from collections.abc import Iterable, Sequence

from scratchnet.tracking.failures import StoreError
from scratchnet.tracking.frames import (
    RunRecord,
    Sweep,
    SweepData,
    history_frame,
    runs_frame,
    with_membership,
    with_summary,
)
from scratchnet.tracking.names import SWEEP_ID_TAG, SWEEP_PARENT_TAG

Point = tuple[str, str, int, int, float]  # (run_id, key, step, timestamp, value)


def unknown_experiment(name: str, known: Iterable[str]) -> StoreError:
    """The error for an experiment that is not in the store (or not active)."""
    names = ", ".join(sorted(known)) or "none"
    return StoreError(f"unknown experiment {name!r} (known: {names})")


def newest_first(parents: Iterable[Sweep]) -> list[Sweep]:
    """Sweep parents newest first, ties broken by run id."""
    return sorted(parents, key=lambda s: (s.start_time or 0, s.run_id), reverse=True)


def latest_back(sweep: str) -> int | None:
    """`latest` -> 0, `latest~2` -> 2 (the sweep two before the newest); else None."""
    head, sep, back = sweep.partition("~")
    if head != "latest" or (sep and not back.isdigit()):
        return None
    return int(back) if sep else 0


def pick_sweep(parents: Sequence[Sweep], experiment: str, sweep: str = "latest") -> Sweep:
    """Of `parents` (newest first), the sweep `latest` (or `latest~N`, N before it), or the one
    whose parent run id (or a prefix) or sweep id is `sweep`."""
    sweep = sweep.strip()
    back = latest_back(sweep)
    if back is not None:
        if not parents:
            raise StoreError(
                f"experiment {experiment!r} has no sweep (no run tagged "
                f"{SWEEP_PARENT_TAG}=true); run one with scratchnet-train -m"
            )
        if len(parents) <= back:
            raise StoreError(
                f"--sweep {sweep!r} is not allowed: experiment {experiment!r} has "
                f"{len(parents)} sweeps (allowed: latest to latest~{len(parents) - 1})"
            )
        return parents[back]
    matches = [
        p
        for p in parents
        if sweep and (p.run_id.startswith(sweep) or p.tags.get(SWEEP_ID_TAG) == sweep)
    ]
    if len(matches) > 1 and len({p.tags.get(SWEEP_ID_TAG) for p in matches}) > 1:
        ids = ", ".join(p.run_id[:8] for p in matches)
        raise StoreError(f"--sweep {sweep!r} is ambiguous: it matches {ids}")
    if matches:
        return matches[0]
    known = ", ".join(p.run_id[:8] for p in parents[:5]) or "none"
    raise StoreError(
        f"no sweep {sweep!r} in experiment {experiment!r} "
        f"(allowed: latest, latest~N, a parent run id or prefix, a sweep id; recent: {known})"
    )


def assemble(parent: Sweep, members: Sequence[RunRecord], points: Sequence[Point]) -> SweepData:
    """The sweep's data from its members' records and their metric points."""
    if not members:
        raise StoreError(
            f"sweep {parent.short_id} of experiment {parent.experiment!r} has no child runs yet"
        )
    runs = with_membership(runs_frame(members), parent.run_id)
    history = history_frame(points)
    return SweepData(parent, with_summary(runs, history), history)
