"""A sweep process keeps Hydra's plugin registry from one job to the next (`sweep.workers`)."""

import pytest
from hydra.core.plugins import Plugins
from hydra.core.singleton import Singleton
from hydra.plugins.launcher import Launcher

from scratchnet.sweep.workers import keep_plugins_across_jobs


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
