"""A sweep process keeps Hydra's plugin registry from one job to the next, its workers start
warm from a fork server, and a sweep stopped before its first job ends its workers at once
(`sweep.workers`)."""

import os
import sys
import time
from pathlib import Path

import pytest
from hydra.core.plugins import Plugins
from hydra.core.singleton import Singleton
from hydra.plugins.launcher import Launcher
from joblib._parallel_backends import LokyBackend
from omegaconf import OmegaConf

from scratchnet.sweep.workers import (
    keep_plugins_across_jobs,
    preloaded,
    start_fork_server,
    stop_workers,
)


@pytest.fixture
def hydras_own_set_state(monkeypatch):
    """Hydra's `Singleton.set_state` as it was, after the test (the patch is per process)."""
    monkeypatch.setattr(Singleton, "set_state", Singleton.__dict__["set_state"])
    saved = dict(Singleton._instances)
    yield
    Singleton._instances = saved


def test_a_jobs_restored_state_keeps_the_plugin_registry_already_found(hydras_own_set_state):
    keep_plugins_across_jobs()
    keep_plugins_across_jobs()  # idempotent: one wrapper
    found = Plugins.instance()
    state = Singleton.get_state()  # as a launcher sends it: without the registry
    assert Plugins not in state["instances"]
    Singleton.set_state(state)
    assert Plugins.instance() is found
    launchers = {c.__name__ for c in Plugins.instance().discover(Launcher)}
    assert "JoblibLauncher" in launchers


def test_without_the_patch_hydra_finds_its_plugins_anew_for_each_job(hydras_own_set_state):
    found = Plugins.instance()
    Singleton.set_state(Singleton.get_state())
    assert Plugins.instance() is not found


def test_a_worker_forked_from_the_fork_server_has_a_jobs_modules_and_joblibs_thread_limit():
    from joblib.externals.loky import get_reusable_executor

    config = OmegaConf.create({"tracking": {"log_figure": False}})
    assert start_fork_server(config, workers=2)
    executor = get_reusable_executor(max_workers=1, context="forkserver")
    modules, blas_threads = executor.submit(imported_and_blas_threads).result()
    assert set(preloaded(config)) <= modules
    limit = int(LokyBackend()._prepare_worker_env(2)["OPENBLAS_NUM_THREADS"])
    assert blas_threads == {limit}  # as loky's own workers get it from their environment


def imported_and_blas_threads() -> tuple[set[str], set[int]]:
    from threadpoolctl import threadpool_info

    blas = {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
    return set(sys.modules), blas


def test_stopping_the_workers_ends_them_mid_task_rather_than_waiting_for_it(tmp_path):
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=2)  # the one a joblib sweep's Parallel makes
    pids = {f.result() for f in [executor.submit(os.getpid) for _ in range(4)]}
    started = tmp_path / "started"
    busy = executor.submit(busy_for_a_minute, started)  # as a worker busy importing
    while not started.exists() and not busy.done():
        time.sleep(0.01)
    stop_workers()
    for _ in range(200):  # each worker is killed, not left to finish its minute
        if busy.done() and not any(alive(pid) for pid in pids):
            break
        time.sleep(0.05)
    assert busy.done() and not any(alive(pid) for pid in pids)


def busy_for_a_minute(started: Path) -> None:
    started.touch()
    time.sleep(60)


def alive(pid: int) -> bool:
    """Whether `pid` runs still (a zombie, killed but not yet reaped, counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
