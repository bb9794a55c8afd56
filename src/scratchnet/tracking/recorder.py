"""One MLflow run as it is recorded: created with params and tags, fed metrics and files,
and always ended FINISHED, FAILED or KILLED.

`recorded_run` is the one run lifecycle, used by training runs and the chapter scripts alike:
every write holds Ctrl-C and SIGTERM until it is done (`core.interrupts.interrupts_deferred`),
so an interrupt never leaves a store locked, and the run's status says how it ended. Each run
records its owner (`core.liveness`) and beats a heartbeat, so that a run whose process is
killed outright can be told dead later (`tracking.reaper`).
"""

import contextlib
import itertools
import logging
import math
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlflow.entities import DatasetInput, Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.tracking import MlflowClient

from scratchnet.core.interrupts import interrupts_deferred
from scratchnet.core.liveness import current_owner
from scratchnet.core.png import png_bytes
from scratchnet.tracking.bulk import insert_metrics, split_latest, sql_store
from scratchnet.tracking.failures import as_store_error, failure_note
from scratchnet.tracking.heartbeat import Heartbeat
from scratchnet.tracking.names import (
    FAILED,
    FAILURE_TAG,
    FINISHED,
    HEARTBEAT_TAG,
    KILLED,
    MAX_ENTITIES,
    METRICS_PER_CALL,
    OWNER_TAG,
    PARAMS_PER_CALL,
)
from scratchnet.tracking.provenance import mask_secrets
from scratchnet.tracking.store import get_or_create_experiment

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore


def now_ms() -> int:
    return int(time.time() * 1000)


log = logging.getLogger("scratchnet")


def is_unique_violation(err: Exception) -> bool:
    """A database's unique-key error, as MLflow passes it on (PostgreSQL or SQLite)."""
    text = str(err)
    return "UniqueViolation" in text or "UNIQUE constraint failed" in text


def epoch_chunks(metrics: Sequence[Metric], size: int = METRICS_PER_CALL) -> Iterator[list[Metric]]:
    """Consecutive runs of whole steps, at most `size` metrics each: one log_batch call (one
    transaction) each, so a step's metrics are stored all together or not at all. A step of
    more than `size` metrics (none of scratchnet's) is split."""
    chunk: list[Metric] = []
    for _, group in itertools.groupby(metrics, key=lambda m: m.step):
        step = list(group)
        if chunk and len(chunk) + len(step) > size:
            yield chunk
            chunk = []
        while len(step) > size:
            yield step[:size]
            step = step[size:]
        chunk.extend(step)
    if chunk:
        yield chunk


class RunRecorder:
    """An open MLflow run; every write holds interrupts until it is done."""

    def __init__(
        self,
        client: MlflowClient,
        run_id: str,
        params: Sequence[Param] = (),
        experiment_id: str = "",
        artifact_uri: str = "",
    ) -> None:
        self.client = client
        self.run_id = run_id
        self._params = list(params)  # sent with the run's first write (one call fewer)
        self.experiment_id = experiment_id
        self.artifact_uri = artifact_uri
        self.bulk = True  # metrics below MLflow's ORM on a SQL store (`tracking.bulk`)
        self._sql: tuple[MlflowClient, SqlAlchemyStore | None] | None = None

    @classmethod
    def start(
        cls,
        uri: str,
        experiment: str,
        name: str,
        params: Mapping[str, str],
        tags: Mapping[str, str],
        experiment_id: str | None = None,
    ) -> "RunRecorder":
        """Create the run in `experiment` (made if missing, unless its `experiment_id` is
        known) with its tags; its masked params go with its first write (`send`), or when it
        ends, whichever comes first."""
        with interrupts_deferred():
            client = MlflowClient(tracking_uri=uri)
            experiment_id = experiment_id or get_or_create_experiment(client, uri, experiment)
            owned = {**tags, OWNER_TAG: current_owner().encode()}
            run = client.create_run(experiment_id, run_name=name, tags=owned)
        items = [Param(k, v) for k, v in mask_secrets(params).items()]
        return cls(client, run.info.run_id, items, experiment_id, run.info.artifact_uri)

    def room(self, tags: Mapping[str, object] = {}) -> int:
        """The metrics one call can carry beside `tags` and the params it takes along
        (1,000 entities a call, MLflow's limit)."""
        return MAX_ENTITIES - min(len(self._params), PARAMS_PER_CALL) - len(tags)

    def send(self, metrics: Sequence[Metric] = (), tags: Mapping[str, object] = {}) -> None:
        """One `log_batch` call: `metrics` (at most `room(tags)`), `tags`, and up to 100 of
        the params not yet sent (they ride the run's first writes).

        On a SQL store the steps before each key's last go first, in one bulk insert
        (`tracking.bulk`), and only the last steps through `log_batch`, which keeps MLflow's
        latest metrics; each transaction holds whole steps."""
        params = self._params[:PARAMS_PER_CALL]
        run_tags = [RunTag(k, str(v)) for k, v in tags.items()]
        earlier, latest = split_latest(metrics)
        with interrupts_deferred():
            if earlier and not self._insert(earlier):
                latest = list(metrics)  # log_batch decides: MLflow's own checks and errors
            self.client.log_batch(
                self.run_id, metrics=latest, params=params, tags=run_tags, synchronous=True
            )
        del self._params[: len(params)]

    def _insert(self, metrics: Sequence[Metric]) -> bool:
        """Bulk-insert `metrics` if the client's store is a SQL one; False if not written."""
        if not self.bulk:
            return False
        if self._sql is None or self._sql[0] is not self.client:
            self._sql = (self.client, sql_store(self.client))
        store = self._sql[1]
        return store is not None and insert_metrics(store, self.run_id, metrics)

    def send_params(self) -> None:
        """Send the params not yet sent, at most 100 per call (MLflow's limit)."""
        while self._params:
            self.send()

    def log_inputs(self, datasets: Sequence[DatasetInput]) -> None:
        """Record the datasets the run reads (MLflow dataset inputs), in one call.

        MLflow's SQL store gets or creates each dataset without a lock, so two runs of a
        parallel sweep logging the same new dataset at once can collide on its unique key;
        the loser's second try finds the row the winner made."""
        for attempt in (1, 2):
            try:
                with interrupts_deferred():
                    self.client.log_inputs(self.run_id, datasets=list(datasets))
                return
            except MlflowException as err:
                if attempt == 2 or not is_unique_violation(err):
                    raise
                log.debug("run %s: a parallel run created its dataset first; again", self.run_id)

    def log_metric_batch(self, metrics: Sequence[Metric]) -> None:
        """Send metrics as they are, whole steps per call, the params riding the first."""
        for chunk in epoch_chunks(metrics, self.room()):
            self.send(chunk)

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        """Log finite values as metrics at `step`; NaN/inf ones as tags of the same key."""
        now = now_ms()
        finite = [Metric(k, float(v), now, step) for k, v in metrics.items() if math.isfinite(v)]
        odd = {k: str(float(v)) for k, v in metrics.items() if not math.isfinite(v)}
        self.log_metric_batch(finite)
        if odd:
            self.set_tags(odd)

    def log_series(self, key: str, values: Sequence[float], first_step: int = 0) -> None:
        """Log values[i] at step first_step + i; non-finite ones are skipped and described in
        the tag `<key>.nonfinite` instead."""
        now = now_ms()
        points = [(first_step + i, float(v)) for i, v in enumerate(values)]
        self.log_metric_batch([Metric(key, v, now, s) for s, v in points if math.isfinite(v)])
        skipped = [(s, v) for s, v in points if not math.isfinite(v)]
        if skipped:
            note = f"{len(skipped)} non-finite values not logged; first at step {skipped[0][0]}"
            self.set_tags({f"{key}.nonfinite": f"{note}: {skipped[0][1]}"})

    def set_tags(self, tags: Mapping[str, object]) -> None:
        """Set tags (values as strings)."""
        self.send(tags=tags)

    @contextlib.contextmanager
    def staged_artifacts(self) -> Iterator[Path]:
        """A temporary folder whose contents become the run's artifacts, uploaded in one call
        when the block ends (nothing is uploaded if it raises)."""
        with tempfile.TemporaryDirectory(prefix="scratchnet-") as tmp:
            yield Path(tmp)
            with interrupts_deferred():
                self._upload(tmp)

    def _upload(self, folder: str) -> None:
        """Upload `folder` into the run's artifacts through the artifact URI its creation
        gave: MLflow's `log_artifacts` would read the whole run back first to learn it."""
        if not self.artifact_uri:
            return self.client.log_artifacts(self.run_id, folder)
        repository = get_artifact_repository(self.artifact_uri, self.client.tracking_uri)
        repository.log_artifacts(folder)

    def log_files(self, files: Mapping[str, bytes]) -> None:
        """Upload in-memory files (name -> bytes) as artifacts at the run's root."""
        with self.staged_artifacts() as folder:
            for name, content in files.items():
                (folder / name).write_bytes(content)

    def log_figures(self, figures: Mapping[str, "Figure"]) -> None:
        """Upload each figure as `<name>.png` (deterministic bytes)."""
        self.log_files({f"{name}.png": png_bytes(fig) for name, fig in figures.items()})

    def end(self, status: str, why: str | None = None) -> None:
        """Close the run with `status` (and, if given, why in its failure tag); its params
        are sent first if no write has carried them."""
        self.send_params()
        with interrupts_deferred():
            if why:
                self.client.set_tag(self.run_id, FAILURE_TAG, why)
            self.client.set_terminated(self.run_id, status=status)

    def beat(self, now_ms: int) -> None:
        """Record a sign of life (the heartbeat thread's call)."""
        self.client.set_tag(self.run_id, HEARTBEAT_TAG, str(now_ms))

    def end_failed(self, err: BaseException) -> None:
        """End the run FAILED saying why; if even that cannot be written (a full disk, a server
        gone), say so and leave it to the reaper (its owner is dead once this process ends)."""
        try:
            self.end(FAILED, failure_note(err))
        except Exception as end_err:
            log.warning(
                "could not end run %s FAILED (%s): the next command on this store ends it FAILED",
                *(self.run_id, failure_note(end_err)),
            )


@contextlib.contextmanager
def recorded_run(
    uri: str,
    experiment: str,
    name: str,
    params: Mapping[str, str],
    tags: Mapping[str, str],
    experiment_id: str | None = None,
) -> Iterator[RunRecorder]:
    """A run that ends FINISHED, FAILED if the block raises, KILLED on Ctrl-C (or SIGTERM).

    MLflow's errors leave as a one-line StoreError (a full disk says "no space left").
    """
    with store_failures(uri):
        recorder = RunRecorder.start(uri, experiment, name, params, tags, experiment_id)
    heartbeat = Heartbeat(recorder.beat, name="run-heartbeat").start()
    with store_failures(uri):
        try:
            yield recorder
        except KeyboardInterrupt:
            heartbeat.stop()
            recorder.end(KILLED)
            raise
        except BaseException as err:
            heartbeat.stop()
            recorder.end_failed(err)
            raise
        heartbeat.stop()
        recorder.end(FINISHED)


@contextlib.contextmanager
def store_failures(uri: str) -> Iterator[None]:
    """MLflow's, SQLite's and the file system's errors in the block as a one-line StoreError
    naming the store; anything else passes as it is."""
    try:
        yield
    except Exception as err:
        store_like = type(err).__module__.split(".")[0] in ("mlflow", "sqlite3", "sqlalchemy")
        if not (store_like or isinstance(err, OSError)):
            raise
        raise as_store_error(uri, err) from err
