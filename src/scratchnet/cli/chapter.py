"""What every chapter study shares (`scratchnet-chapter <name>`, `experiments/<name>.py`):
config location, error handling, signals, its store and its MLflow run."""

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from scratchnet.chapter.checks import check_tracking
from scratchnet.cli.errors import fail, run_cli
from scratchnet.cli.launch_id import register_launch_resolver
from scratchnet.cli.store_notice import announce_store, register_store_resolver
from scratchnet.config import flatten
from scratchnet.config.chapter import register_chapter_configs
from scratchnet.core.errors import ScratchnetError
from scratchnet.core.interrupts import install_sigterm_handler
from scratchnet.core.paths import config_dir
from scratchnet.tracking.names import CHAPTER_TAG, CONFIG_ARTIFACT, PARENT_TAG
from scratchnet.tracking.provenance import mask_tree, provenance_tags
from scratchnet.tracking.recorder import RunRecorder, recorded_run
from scratchnet.tracking.store import resolve_uri

T = TypeVar("T")
CONFIG_PATH = str(config_dir())  # the studies' configs are conf/chapter/<name>.yaml
log = logging.getLogger("scratchnet")
PROGS: dict[str, str] = {}  # how the running study names itself, when not experiments/<name>.py
FINISHED_RUNS: list[tuple[str, str, str]] = []  # (run id, experiment, artifact URI) so far


def config_name(name: str) -> str:
    """The Hydra config name of a chapter script: `chapter/<name>`."""
    return f"chapter/{name}"


def prog(name: str) -> str:
    """How a study names itself in error messages: as it was started (`run_script`'s `prog_name`),
    by default `experiments/<name>.py`."""
    return PROGS.get(name, f"experiments/{name}.py")


def checked(name: str, check: Callable[[], T]) -> T:
    """Run a config check inside a Hydra job: a bad value is one line and exit 2 for a single
    run (before any MLflow run exists); in a sweep it raises so Hydra records the failed job."""
    try:
        return check()
    except ScratchnetError as err:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise
        fail(prog(name), err)


def task_overrides() -> list[str]:
    """The command-line overrides of the current Hydra job (recorded as a tag)."""
    return list(HydraConfig.get().overrides.task)


@contextlib.contextmanager
def chapter_run(
    uri: str,
    cfg: DictConfig,
    chapter: str,
    *,
    name: str | None = None,
    params: Mapping[str, str] | None = None,
    overrides: Sequence[str] = (),
    parent_run_id: str | None = None,
) -> Iterator[RunRecorder]:
    """A run in `cfg.tracking.experiment` with the config as params and `config.yaml`; it ends
    FINISHED (and is listed in FINISHED_RUNS), FAILED if the block raises, KILLED on Ctrl-C
    (or SIGTERM)."""
    tags = provenance_tags(overrides) | {CHAPTER_TAG: chapter}
    if parent_run_id:
        tags[PARENT_TAG] = parent_run_id
    run_name = name or cfg.tracking.run_name or chapter
    run_params = {**flatten(cfg), **(params or {})}
    with recorded_run(uri, cfg.tracking.experiment, run_name, run_params, tags) as run:
        resolved = mask_tree(OmegaConf.to_container(cfg, resolve=True))
        run.log_files({CONFIG_ARTIFACT: OmegaConf.to_yaml(resolved).encode()})
        yield run
    FINISHED_RUNS.append((run.run_id, cfg.tracking.experiment, run.artifact_uri))


def run_script(name: str, entry: Callable[[], object], prog_name: str | None = None) -> None:
    """Study entry point: typed configs registered, SIGTERM as Ctrl-C, errors as one line
    starting with `prog_name` (default `experiments/<name>.py`)."""
    if prog_name:
        PROGS[name] = prog_name
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")  # let run_cli format Hydra's errors
    install_sigterm_handler()
    register_chapter_configs()
    register_store_resolver()  # before Hydra renders --help
    register_launch_resolver()  # before Hydra names its output folders
    run_cli(prog(name), lambda: (entry(), report_runs()))


def report_runs() -> None:
    """The last lines of a study: each run it recorded, and where its figures went."""
    for run_id, experiment, artifacts in FINISHED_RUNS:
        log.info("MLflow run %s in experiment %r: artifacts in %s", run_id, experiment, artifacts)


def tracked_store(name: str, tracking: DictConfig) -> str:
    """Check `tracking.*` (a bad value: one line, exit 2), say which store, open it; its URI."""
    checked(name, lambda: check_tracking(tracking))
    announce_store(tracking.uri)
    return checked(name, lambda: resolve_uri(tracking.uri))
