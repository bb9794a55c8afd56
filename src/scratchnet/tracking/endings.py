"""How a sweep's runs that cannot close themselves are ended: FAILED when their process died,
KILLED when the sweep (or its launcher, after another worker died) stopped them.

A failure tag says why, and is written before the status: a run that cannot be told why (a
full disk) stays RUNNING, for the reaper (`tracking.reaper`) to end once its owner is gone.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from scratchnet.core.liveness import parse_owner
from scratchnet.tracking.names import FAILED, FAILURE_TAG, KILLED, OWNER_TAG, RUNNING


@dataclass
class Casualties:
    """The runs a sweep's end found RUNNING and ended: their ids, and the pid -> run name of
    those whose process died (not stopped by the launcher)."""

    ended: list[str] = field(default_factory=list)
    died: dict[int, str] = field(default_factory=dict)


def _end_running(client: MlflowClient, runs: Iterable[Run], status: str, why: str) -> list[str]:
    """End every run still RUNNING with `status`, saying why in its failure tag (written first:
    a run that cannot be told why stays RUNNING, for the reaper)."""
    ended = [r.info.run_id for r in runs if r.info.status == RUNNING]
    for run_id in ended:
        client.set_tag(run_id, FAILURE_TAG, why)
        client.set_terminated(run_id, status=status)
    return ended


def mark_dead_runs_failed(client: MlflowClient, runs: Iterable[Run], why: str = "") -> list[str]:
    """Runs still RUNNING when no job can be running any more died (e.g. SIGKILL, or a write
    failed: `why` the sweep failed): FAILED."""
    note = "found RUNNING after its sweep ended" + (f" ({why})" if why else "")
    return _end_running(client, runs, FAILED, note)


def mark_interrupted_runs_killed(client: MlflowClient, runs: Iterable[Run]) -> list[str]:
    """Runs still RUNNING when their sweep is interrupted were stopped with it: KILLED.

    A parallel launcher ends its workers when the sweep is interrupted (joblib's loky sends
    SIGKILL), so their runs cannot close themselves; their logged epochs are kept.
    """
    return _end_running(client, runs, KILLED, "stopped with its sweep (interrupted)")


def end_casualties(
    client: MlflowClient, runs: Sequence[Run], killed: Collection[int], why: str = ""
) -> Casualties:
    """End the runs left RUNNING: KILLED if the launcher killed their process (`killed` pids),
    naming the worker that died first; FAILED otherwise (saying `why` the sweep failed)."""
    running = [r for r in runs if r.info.status == RUNNING]
    stopped = [r for r in running if owner_pid(r) in killed]
    died = [r for r in running if r not in stopped]
    failed = mark_dead_runs_failed(client, died, why)
    culprits = ", ".join(f"pid {owner_pid(r)} (run {r.info.run_name!r})" for r in died)
    why = f"the sweep's launcher killed its worker when another worker died: {culprits or '?'}"
    names = {pid: r.info.run_name for r in died if (pid := owner_pid(r)) is not None}
    return Casualties(failed + _end_running(client, stopped, KILLED, why), names)


def owner_pid(run: Run) -> int | None:
    """The pid of the process that ran `run`, from its owner tag."""
    owner = parse_owner(run.data.tags.get(OWNER_TAG))
    return owner.pid if owner else None
