"""What every `experiments/<name>.py` shares: config location, error handling, signals."""

import os
import signal
from collections.abc import Callable
from typing import TypeVar

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from scratchnet.chapter.config import register_chapter_configs
from scratchnet.cli.errors import fail, run_cli
from scratchnet.errors import ScratchnetError
from scratchnet.paths import config_dir

T = TypeVar("T")
CONFIG_PATH = str(config_dir())  # the scripts' configs are conf/chapter/<name>.yaml


def config_name(name: str) -> str:
    """The Hydra config name of a chapter script: `chapter/<name>`."""
    return f"chapter/{name}"


def prog(name: str) -> str:
    """How a script names itself in error messages: `experiments/<name>.py`."""
    return f"experiments/{name}.py"


def checked(name: str, check: Callable[[], T]) -> T:
    """Run a config check inside a Hydra job: a bad value is one line and exit 2 for a single
    run (before any MLflow run exists); in a sweep it raises so Hydra records the failed job."""
    try:
        return check()
    except ScratchnetError as err:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise
        fail(prog(name), err)
        raise  # unreachable: fail exits


def task_overrides() -> list[str]:
    """The command-line overrides of the current Hydra job (recorded as a tag)."""
    return list(HydraConfig.get().overrides.task)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_script(name: str, entry: Callable[[], object]) -> None:
    """Script entry point: typed configs registered, SIGTERM as Ctrl-C, errors as one line."""
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")  # let run_cli format Hydra's errors
    signal.signal(signal.SIGTERM, _terminate)
    register_chapter_configs()
    run_cli(prog(name), entry)
