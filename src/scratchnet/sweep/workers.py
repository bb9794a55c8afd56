"""A parallel sweep's worker processes, started and warmed up before the first job arrives.

Uses hydra-joblib-launcher's private `process_joblib_cfg`, to give loky exactly the arguments
the launcher will, so that the launcher reuses the warmed-up workers; joblib's private
`LokyBackend._prepare_worker_env`, for the thread limits of workers forked from a fork server
(loky passes its environment only to workers it spawns itself); and loky's private reusable
executor (`_executor`) and multiprocessing's fork server (`forkserver._forkserver`) to end
them early.
"""

import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from omegaconf import DictConfig, OmegaConf

from scratchnet.config import load_data
from scratchnet.core.environ import environment
from scratchnet.core.heap import imports_settled
from scratchnet.tracking.names import RUN_MODULES

log = logging.getLogger("scratchnet.sweep")


def joblib_arguments(config: DictConfig) -> dict[str, Any] | None:
    """The arguments Hydra's joblib launcher gives `joblib.Parallel`; None for other launchers."""
    launcher = OmegaConf.select(config, "hydra.launcher")
    if launcher is None or not str(launcher.get("_target_", "")).endswith(".JoblibLauncher"):
        return None
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg

    found = OmegaConf.to_container(launcher, resolve=True)
    arguments = {str(k): v for k, v in found.items() if k != "_target_"}
    arguments["backend"] = "loky"  # as the launcher sets it
    process_joblib_cfg(arguments)
    return arguments


def keep_plugins_across_jobs() -> None:
    """Let each job in this process reuse Hydra's plugin registry instead of rescanning it.

    Hydra's launchers restore their singletons for every job (`Singleton.set_state`) from a
    state that leaves the plugin registry out, so `Plugins` scans every installed plugin again:
    ~23 ms a job here. The plugins a process can load do not change between its jobs, so the
    registry already found is kept. Idempotent; without a registry yet, Hydra scans as before.
    """
    from hydra.core.plugins import Plugins
    from hydra.core.singleton import Singleton

    restore = Singleton.set_state
    if getattr(restore, "keeps_plugins", False):
        return

    def set_state(state: Any) -> None:
        found = Singleton._instances.get(Plugins)
        if found is not None and Plugins not in state["instances"]:
            state = {**state, "instances": {**state["instances"], Plugins: found}}
        restore(state)

    set_state.keeps_plugins = True  # type: ignore[attr-defined]
    Singleton.set_state = staticmethod(set_state)  # type: ignore[method-assign]


def preloaded(config: DictConfig) -> list[str]:
    """The modules a job imports (`warm_up_worker`'s), for the fork server to import once."""
    modules = [
        "hydra_plugins.hydra_joblib_launcher._core",  # the launcher's job
        "scratchnet.sweep.job",  # what the task function runs
        *RUN_MODULES,  # the run, its datasets, its model and its store
    ]
    if OmegaConf.select(config, "tracking.log_figure", default=False):
        modules += ["scratchnet.core.png", "scratchnet.tracking.artifacts"]
    return modules


def start_fork_server(config: DictConfig, workers: int) -> bool:
    """Start this process's fork server, which imports what a job needs once (`preloaded`), so
    the workers forked from it start warm instead of each importing for seconds on the shared
    cores; whether it runs (if it cannot start, loky starts its workers as before).

    Its environment is this process's with the thread limits joblib gives its workers
    (`LokyBackend._prepare_worker_env`, private), as BLAS reads them on import, in the server.
    A server already running (an earlier sweep in this process) is kept, as loky keeps its
    workers: its modules and limits are that sweep's.
    """
    import multiprocessing
    from multiprocessing import forkserver

    from joblib._parallel_backends import LokyBackend

    limits = LokyBackend()._prepare_worker_env(workers)
    try:
        multiprocessing.get_context("forkserver").set_forkserver_preload(preloaded(config))
        with environment(limits):
            forkserver.ensure_running()
        return True
    except (OSError, ValueError) as err:
        log.debug("no fork server for the sweep's workers: %r", err)
        return False


def prepare_workers(config: DictConfig) -> None:
    """Start a joblib sweep's fork server now (for 2 or more workers), its workers later."""
    arguments = joblib_arguments(config)
    workers = 1 if arguments is None else worker_count(arguments)
    if workers >= 2:
        start_fork_server(config, workers)


@contextlib.contextmanager
def loky_start_method(method: str | None) -> Iterator[None]:
    """Loky's default start method for the executors made in the block (None: unchanged)."""
    from joblib.externals.loky.backend import context

    before = context.get_start_method()
    if method is not None:
        context.set_start_method(method, force=True)
    try:
        yield
    finally:
        context.set_start_method(before, force=True)


def warm_up_worker(config: DictConfig) -> int:
    """In a sweep worker: import what a job needs and load the sweep's data; returns the pid.

    A job in a fresh worker first spends ~4 s importing MLflow, its SQLAlchemy store,
    scikit-learn (digits) and, when runs draw their curves (`tracking.log_figure`),
    matplotlib: a worker forked from the fork server has them already, one that loky spawned
    imports them here. What it imports is kept out of later garbage collections
    (`imports_settled`). Nothing here touches the tracking store.
    """
    keep_plugins_across_jobs()
    with imports_settled():
        for module in preloaded(config):
            importlib.import_module(module)
        if OmegaConf.select(config, "tracking.log_figure", default=False):
            from scratchnet.core.png import png_bytes
            from scratchnet.tracking.artifacts import learning_curve_figure

            row = {"epoch": 0, "train_acc": 0.0, "test_acc": 0.0, "train_loss": 0.0,
                   "test_loss": 0.0}  # fmt: skip
            png_bytes(learning_curve_figure([row]))  # matplotlib's font cache, on first text
        try:  # an error here is the jobs' to report
            load_data(config)  # kept by the data layer's per-process cache for the jobs
        except Exception as err:
            log.debug("warm-up could not load the data: %r", err)
    return os.getpid()


def worker_count(arguments: dict[str, Any]) -> int:
    """How many processes joblib runs the jobs in, given the launcher's arguments (1: this one,
    no worker)."""
    from joblib import effective_n_jobs

    return effective_n_jobs(arguments.get("n_jobs", -1))


def starts_workers(config: DictConfig) -> bool:
    """Whether the sweep's launcher runs its jobs in worker processes (joblib, 2 or more)."""
    arguments = joblib_arguments(config)
    return arguments is not None and worker_count(arguments) >= 2


def start_workers(config: DictConfig) -> threading.Thread | None:
    """Start a joblib sweep's worker processes now, in the background, warmed up for jobs.

    Hydra's joblib launcher starts its loky workers when it sends the first job, and each worker
    then imports for seconds while the launching process waits. Started here, once the grid is
    checked, the workers are forked from a fork server that imports once (`start_fork_server`)
    while this process creates the store and the parent run and Hydra composes every job
    again. `joblib.Parallel` with the launcher's own arguments makes loky's reusable executor,
    which the launcher's `Parallel` then reuses, workers and all.
    """
    arguments = joblib_arguments(config)
    if arguments is None:
        return None
    keep_plugins_across_jobs()  # with one worker, joblib runs the jobs in this process
    from scratchnet.sweep.casualties import record_launcher_kills

    record_launcher_kills()
    from joblib import Parallel, delayed

    workers = worker_count(arguments)
    if workers < 2:  # one job at a time runs in this process: no worker
        return None

    method = "forkserver" if start_fork_server(config, workers) else None

    def warm_up() -> None:
        try:
            with loky_start_method(method):  # the executor made here is the launcher's
                tasks = (delayed(warm_up_worker)(config) for _ in range(workers))
                pids = Parallel(**arguments)(tasks)
            log.debug("sweep workers warmed up: %s", sorted(set(pids)))
        except Exception as err:  # only ever a head start: the jobs import what they need
            log.debug("warming up the sweep's workers failed: %r", err)

    thread = threading.Thread(target=warm_up, name="scratchnet-warm-up", daemon=True)
    thread.start()
    return thread


LOKY_EXECUTOR_MODULE = "joblib.externals.loky.reusable_executor"


def stop_workers() -> None:
    """End the sweep's started workers and fork server now, mid-import if need be (a sweep
    stopped before its first job): loky's own exit waits for each worker to finish its warm-up,
    and the server would import on after this process ends. A no-op if none run."""
    module = sys.modules.get(LOKY_EXECUTOR_MODULE)
    executor = getattr(module, "_executor", None)  # loky's reusable executor, once made
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)
    server = getattr(sys.modules.get("multiprocessing.forkserver"), "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)  # the fork server, maybe mid-import
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # its next `ensure_running` reaps it, starts another
