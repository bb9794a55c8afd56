"""`scratchnet-store check`: what is wrong with a local store, one line per problem.

SQLite's own integrity check comes first (a damaged file is not read further); then each
check in `CHECKS` looks at the store's experiments and runs as the client returns them. A new
check is one more function in `CHECKS`.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mlflow.entities import Experiment, Run, ViewType
from mlflow.tracking import MlflowClient

from scratchnet.core.liveness import ALIVE, DEAD
from scratchnet.tracking.follow import every_experiment
from scratchnet.tracking.heartbeat import now_ms
from scratchnet.tracking.names import (
    CHAPTER_TAG,
    CONFIG_ARTIFACT,
    CONFIG_HASH_TAG,
    FINISHED,
    RUNNING,
)
from scratchnet.tracking.reaper import judge, utc
from scratchnet.tracking.relocation import is_inside, local_path
from scratchnet.tracking.sqlite_store import quick_check


@dataclass(frozen=True)
class Problem:
    """One problem: its kind (integrity, outside, missing, running, dead) and its line."""

    kind: str
    text: str

    def line(self) -> str:
        return f"{self.kind}: {self.text}"


@dataclass(frozen=True)
class StoreView:
    """The store as the checks see it: its folder, experiments by id, and every run."""

    folder: Path
    experiments: dict[str, Experiment]
    runs: list[Run]

    def describe(self, run: Run) -> str:
        exp = self.experiments.get(run.info.experiment_id)
        name = exp.name if exp is not None else run.info.experiment_id
        return f"run {run.info.run_id} ({run.info.run_name!r} in {name!r})"


Check = Callable[[StoreView], Iterable[Problem]]


def every_run(client: MlflowClient, experiment_ids: list[str]) -> list[Run]:
    """Every run of these experiments, deleted ones too, page by page."""
    found: list[Run] = []
    token = None
    while experiment_ids:
        page = client.search_runs(
            experiment_ids, run_view_type=ViewType.ALL, max_results=10000, page_token=token
        )
        found.extend(page)
        token = page.token
        if not token:
            break
    return found


def outside_the_store(view: StoreView) -> Iterator[Problem]:
    """Experiments and runs whose artifact location is not in the store's folder."""
    where = f"outside the store {view.folder}"
    for exp in view.experiments.values():
        path = local_path(exp.artifact_location)
        if path is None or not is_inside(path, view.folder):
            text = f"experiment {exp.name!r} ({exp.experiment_id}): artifacts at "
            yield Problem("outside", f"{text}{exp.artifact_location}, {where}")
    for run in view.runs:
        path = local_path(run.info.artifact_uri)
        if path is None or not is_inside(path, view.folder):
            text = f"{view.describe(run)}: artifacts at {run.info.artifact_uri}, {where}"
            yield Problem("outside", text)


def expected_artifacts(run: Run) -> tuple[str, ...]:
    """Files a run must have: a finished scratchnet run (training or chapter) its config."""
    tags = run.data.tags
    ours = CONFIG_HASH_TAG in tags or CHAPTER_TAG in tags
    return (CONFIG_ARTIFACT,) if ours and run.info.status == FINISHED else ()


def missing_artifacts(view: StoreView) -> Iterator[Problem]:
    """Runs in the store whose expected artifacts are not where their location says."""
    for run in view.runs:
        path = local_path(run.info.artifact_uri)
        if path is None or not is_inside(path, view.folder):
            continue  # reported as outside the store
        missing = [name for name in expected_artifacts(run) if not (path / name).is_file()]
        if missing:
            text = f"{view.describe(run)}: {', '.join(missing)} not found in {path}"
            yield Problem("missing", text)


def running_runs(view: StoreView) -> Iterator[Problem]:
    """Runs still RUNNING, each judged by its owner (`tracking.reaper.judge`): `running:` when
    its process is alive or cannot be judged, `dead:` when it is provably gone (the next run,
    sweep or report that opens the store ends it FAILED)."""
    now = now_ms()
    for run in view.runs:
        if run.info.status != RUNNING:
            continue
        judged = judge(run, now)
        since = f"{view.describe(run)}: RUNNING since {utc(run.info.start_time)}"
        who = judged.owner.describe() if judged.owner else ""
        if judged.state == DEAD:
            gone = f"its process ({who}) is gone (last sign of life {utc(judged.last_sign_ms)})"
            yield Problem(
                "dead", f"{since}, but {gone}: the next run, sweep or report ends it FAILED"
            )
        elif judged.state == ALIVE:
            yield Problem("running", f"{since}; its process ({who}) is alive")
        else:
            unknown = f"its process ({who}) cannot be judged" if who else "no owner recorded"
            yield Problem("running", f"{since}; {unknown}, so whether it still runs is unknown")


CHECKS: tuple[Check, ...] = (outside_the_store, missing_artifacts, running_runs)


def check_store(db: Path) -> list[Problem]:
    """Every problem of the store `db`: integrity first, then each of `CHECKS`.

    Only reads: a copy is reported, not refused or relocated.
    """
    damaged = [Problem("integrity", line) for line in quick_check(db)]
    if damaged:
        return damaged
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiments = {e.experiment_id: e for e in every_experiment(client)}
    view = StoreView(db.parent, experiments, every_run(client, list(experiments)))
    return [problem for check in CHECKS for problem in check(view)]
