"""One MLflow run per chapter study: params, finite metrics, series, tags, figures, status.

Built on `scratchnet.tracking` (store, experiment, RunRecorder); adds what the studies need:
metric series logged in chunks, and NaN/inf kept out of metrics (they become tags).
"""

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from matplotlib.figure import Figure
from mlflow.entities import Metric
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from omegaconf import DictConfig, OmegaConf

import scratchnet
from scratchnet.config import flatten
from scratchnet.interrupt import interrupts_deferred
from scratchnet.plotting import png_bytes
from scratchnet.tracking import TAG_PREFIX, RunRecorder, git_state

METRICS_PER_CALL = 1000  # MLflow's log_batch limit


def _now_ms() -> int:
    return int(time.time() * 1000)


def chunks(items: Sequence[Metric], size: int = METRICS_PER_CALL) -> Iterator[Sequence[Metric]]:
    """Consecutive slices of at most `size` items: one log_batch call each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def nonfinite_note(steps: Sequence[int], values: Sequence[float]) -> str:
    """What a tag says about the values a series could not log: how many, and the first."""
    return f"{len(steps)} non-finite values not logged; first at step {steps[0]}: {values[0]}"


class ChapterRun:
    """An open run of a chapter script; every value it logs as a metric is finite."""

    def __init__(self, recorder: RunRecorder) -> None:
        self.recorder = recorder

    @property
    def run_id(self) -> str:
        return self.recorder.run_id

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        """Log finite values as metrics at `step`; NaN/inf ones as tags of the same key."""
        now = _now_ms()
        finite = [Metric(k, float(v), now, step) for k, v in metrics.items() if math.isfinite(v)]
        odd = {k: str(float(v)) for k, v in metrics.items() if not math.isfinite(v)}
        if finite:
            with interrupts_deferred():
                self.recorder.client.log_batch(self.run_id, metrics=finite, synchronous=True)
        if odd:
            self.set_tags(odd)

    def log_series(self, key: str, values: Sequence[float], first_step: int = 0) -> None:
        """Log values[i] at step first_step + i, <= 1000 per call; non-finite ones are skipped
        and described in the tag `<key>.nonfinite` instead."""
        now = _now_ms()
        steps = range(first_step, first_step + len(values))
        points = [(s, float(v)) for s, v in zip(steps, values, strict=True)]
        batch = [Metric(key, v, now, s) for s, v in points if math.isfinite(v)]
        for part in chunks(batch):
            with interrupts_deferred():
                self.recorder.client.log_batch(self.run_id, metrics=list(part), synchronous=True)
        skipped = [(s, v) for s, v in points if not math.isfinite(v)]
        if skipped:
            bad_steps, bad_values = zip(*skipped, strict=True)
            self.set_tags({f"{key}.nonfinite": nonfinite_note(bad_steps, bad_values)})

    def set_tags(self, tags: Mapping[str, object]) -> None:
        """Set tags (values as strings)."""
        with interrupts_deferred():
            self.recorder.set_tags({k: str(v) for k, v in tags.items()})

    def log_figures(self, figures: Mapping[str, Figure]) -> None:
        """Upload each figure as `<name>.png` (deterministic bytes)."""
        files = {f"{name}.png": png_bytes(fig) for name, fig in figures.items()}
        with interrupts_deferred():
            self.recorder.log_files(files)


def run_tags(chapter: str, overrides: Sequence[str], parent_run_id: str | None) -> dict[str, str]:
    """Provenance of a chapter run: code version, the study, the Hydra overrides, its parent."""
    commit, dirty = git_state()
    tags = {
        "mlflow.source.git.commit": commit,
        f"{TAG_PREFIX}git_commit": commit,
        f"{TAG_PREFIX}git_dirty": str(dirty).lower(),
        f"{TAG_PREFIX}version": scratchnet.__version__,
        f"{TAG_PREFIX}chapter": chapter,
        f"{TAG_PREFIX}overrides": " ".join(overrides),
    }
    if parent_run_id:
        tags[MLFLOW_PARENT_RUN_ID] = parent_run_id
    return tags


@contextmanager
def chapter_run(
    uri: str,
    cfg: DictConfig,
    chapter: str,
    *,
    name: str | None = None,
    params: Mapping[str, str] | None = None,
    overrides: Sequence[str] = (),
    parent_run_id: str | None = None,
) -> Iterator[ChapterRun]:
    """Open a run in `cfg.tracking.experiment` with the config as params and `config.yaml`;
    it ends FINISHED, FAILED if the block raises, KILLED on Ctrl-C (or SIGTERM). Interrupts
    wait while the store is written (see `interrupts_deferred`)."""
    with interrupts_deferred():
        recorder = RunRecorder.start(
            uri,
            cfg.tracking.experiment,
            name or cfg.tracking.run_name or chapter,
            {**flatten(cfg), **(params or {})},
            run_tags(chapter, overrides, parent_run_id),
        )
    try:
        with interrupts_deferred():
            recorder.log_files({"config.yaml": OmegaConf.to_yaml(cfg, resolve=True).encode()})
        yield ChapterRun(recorder)
    except KeyboardInterrupt:
        with interrupts_deferred():
            recorder.end("KILLED")
        raise
    except BaseException:
        with interrupts_deferred():
            recorder.end("FAILED")
        raise
    with interrupts_deferred():
        recorder.end("FINISHED")
