"""Finding what a report is asked about: a sweep anywhere in the store, or one run.

`scratchnet-report --compare A B` names sweeps by parent run id (or prefix) or sweep id,
in any experiment; `--run ID` names a run by id or prefix. Each lookup is one search.
"""

from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from scratchnet.tracking.frames import Sweep, SweepData, runs_frame, with_summary
from scratchnet.tracking.names import PARENT_TAG, SWEEP_ID_TAG, SWEEP_PARENT_TAG
from scratchnet.tracking.reader import (
    find_experiment,
    find_sweep,
    read_history,
    record,
    search_all,
    to_sweep,
)
from scratchnet.tracking.store import StoreError
from scratchnet.tracking.sweep_data import latest_back

RUN_ID_LENGTH = 32


def experiment_ids(client: MlflowClient) -> list[str]:
    """The ids of every active experiment."""
    return [e.experiment_id for e in client.search_experiments()]


def search_everywhere(client: MlflowClient, filter_string: str) -> list[Run]:
    """Runs of every active experiment matching the filter (one search per result page)."""
    runs: list[Run] = []
    ids = experiment_ids(client)
    token = None
    while ids:
        page = client.search_runs(ids, filter_string, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    return runs


def matches(parent: Run, ref: str) -> bool:
    """Whether `ref` is the parent's run id, a prefix of it, or its sweep id."""
    return parent.info.run_id.startswith(ref) or parent.data.tags.get(SWEEP_ID_TAG) == ref


def find_parent(client: MlflowClient, ref: str, experiment: str | None = None) -> Sweep:
    """The sweep `ref` names: in `experiment` when given (`latest`, `latest~N` allowed), else
    anywhere in the store by parent run id, prefix or sweep id."""
    ref = ref.strip()
    if experiment:
        return find_sweep(client, find_experiment(client, experiment), ref)
    if latest_back(ref) is not None:
        raise StoreError(f"sweep {ref!r} needs --experiment (the experiment whose sweeps to count)")
    parents = search_everywhere(client, f"tags.`{SWEEP_PARENT_TAG}` = 'true'")
    found = [r for r in parents if ref and matches(r, ref)]
    found.sort(key=lambda r: (r.info.start_time or 0, r.info.run_id), reverse=True)
    if len(found) > 1 and len({r.data.tags.get(SWEEP_ID_TAG) for r in found}) > 1:
        ids = ", ".join(r.info.run_id[:8] for r in found)
        raise StoreError(f"sweep {ref!r} is ambiguous: it matches {ids}")
    if not found:
        raise StoreError(
            f"no sweep {ref!r} in the store (allowed: a parent run id or prefix, a sweep id; "
            "latest or latest~N with --experiment)"
        )
    run = found[0]
    return to_sweep(run, client.get_experiment(run.info.experiment_id))


def find_run(client: MlflowClient, ref: str) -> Run:
    """The run with this id, or the one run whose id starts with it."""
    ref = ref.strip().lower()
    if not ref or not all(c in "0123456789abcdef" for c in ref):
        raise StoreError(f"--run {ref!r} is not allowed (allowed: a run id or its prefix, hex)")
    if len(ref) == RUN_ID_LENGTH:
        try:
            return client.get_run(ref)
        except MlflowException as err:
            raise StoreError(f"no run {ref!r} in the store ({err.message})") from err
    found = search_everywhere(client, f"attributes.run_id LIKE '{ref}%'")
    if len(found) > 1:
        ids = ", ".join(sorted(r.info.run_id[:12] for r in found)[:5])
        raise StoreError(f"--run {ref!r} is ambiguous: it matches {ids}")
    if not found:
        raise StoreError(f"no run {ref!r} in the store (allowed: a run id or its prefix)")
    return found[0]


def standalone_runs(client: MlflowClient, experiment_id: str) -> list[Run]:
    """The experiment's runs outside any sweep (no parent, not a parent), newest first."""
    runs = search_all(client, experiment_id, "")
    alone = [
        r
        for r in runs
        if PARENT_TAG not in r.data.tags and r.data.tags.get(SWEEP_PARENT_TAG) != "true"
    ]
    return sorted(alone, key=lambda r: (r.info.start_time or 0, r.info.run_id), reverse=True)


def load_run(client: MlflowClient, run: Run) -> SweepData:
    """One run as a SweepData whose `sweep` is the run itself (the subject of the report)."""
    experiment = client.get_experiment(run.info.experiment_id)
    runs = runs_frame([record(run)])
    history = read_history(client, runs["run_id"])
    return SweepData(to_sweep(run, experiment), with_summary(runs, history), history)
