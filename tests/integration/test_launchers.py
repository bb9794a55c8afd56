"""Sweeps beyond joblib: submitit's local executor, the SLURM preset, Ray (optional extra).

Each launcher runs jobs in fresh processes that learn their sweep's parent run only from
SCRATCHNET_SWEEP_PARENT, set by the launching process: a job that missed it fails, so a
sweep whose children all name the parent shows the variable arrived.
"""

import importlib.util
import os
import stat
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from integration_support import parent_and_children, sweep
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from harness import new_store, run_cli
from scratchnet.config import register_configs
from scratchnet.core.paths import config_dir
from scratchnet.tracking.names import PARENT_ENV

pytestmark = pytest.mark.slow
SUBMITIT = importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is not None
RAY = importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None
NEEDS_SUBMITIT = pytest.mark.skipif(
    not SUBMITIT, reason="hydra-submitit-launcher is not installed (pip install -e '.[cluster]')"
)
FAKE_SBATCH = """#!/bin/sh
# Stands in for SLURM's sbatch: keeps the batch script and the environment, then refuses.
cp "$1" "$FAKE_SLURM_DIR/script.sh"
env > "$FAKE_SLURM_DIR/env.txt"
echo "sbatch: error: fake sbatch, nothing submitted" >&2
exit 1
"""


@pytest.fixture
def store(tmp_path: Path, tmp_path_factory) -> tuple[str, MlflowClient]:
    """A fresh, already migrated SQLite store: (URI, client)."""
    uri = new_store(tmp_path / "store")
    return uri, MlflowClient(tracking_uri=uri)


def fake_slurm(folder: Path) -> Path:
    """A bin folder with a recording `sbatch` and a dummy `srun` (submitit looks for it)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("srun", "#!/bin/sh\nexit 1\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    return bin_dir


@NEEDS_SUBMITIT
def test_submitit_local_jobs_are_children_of_the_sweep_parent(tmp_path, store):
    uri, client = store
    sweep(uri, tmp_path, "hydra/launcher=submitit_local", "trainer.lr=0.1,0.5")
    parent, kids = parent_and_children(client)
    assert len(kids) == 2
    assert {k.info.status for k in kids} == {"FINISHED"}
    assert parent.data.params["sweep.launcher"].endswith("submitit_launcher.LocalLauncher")
    assert list((tmp_path / "multirun").glob("*/*/.submitit/*/*_result.pkl"))


@NEEDS_SUBMITIT
def test_slurm_preset_submits_one_array_with_our_resources_and_the_parent(tmp_path, store):
    uri, client = store
    path = f"{fake_slurm(tmp_path)}{os.pathsep}{os.environ['PATH']}"
    done = run_cli(
        "scratchnet-train", "-m", f"tracking.uri={uri}", "trainer.lr=0.1,0.5,1",
        "hydra/launcher=slurm", "hydra.launcher.partition=debug",
        cwd=tmp_path, env={"PATH": path, "FAKE_SLURM_DIR": str(tmp_path)},
    )  # fmt: skip
    assert "fake sbatch" in done.stderr
    script = (tmp_path / "script.sh").read_text()
    for line in ("--array=0-2%3", "--partition=debug", "--time=60", "--cpus-per-task=1",
                 "--mem=2GB", "--job-name=scratchnet"):  # fmt: skip
        assert f"#SBATCH {line}\n" in script
    parent, _ = parent_and_children(client)
    env = (tmp_path / "env.txt").read_text().splitlines()
    assert f"{PARENT_ENV}={parent.info.run_id}" in env  # sbatch exports it to the array's jobs


@pytest.mark.skipif(not RAY, reason="hydra-ray-launcher is not installed (pip install -e '.[ray]')")
def test_ray_local_jobs_are_children_of_the_sweep_parent(tmp_path, store):
    uri, client = store
    sweep(uri, tmp_path, "hydra/launcher=ray_local", "trainer.lr=0.1,0.5")
    parent, kids = parent_and_children(client)
    assert len(kids) == 2
    assert {k.info.status for k in kids} == {"FINISHED"}
    assert parent.data.params["sweep.launcher"].endswith("ray_launcher.RayLauncher")


@pytest.mark.skipif(not RAY, reason="hydra-ray-launcher is not installed (pip install -e '.[ray]')")
def test_ray_cluster_preset_hands_the_parent_to_remote_workers(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "ray://head-node:10001")
    monkeypatch.setenv(PARENT_ENV, "parent-run-id")
    register_configs()
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        cfg = compose("config", overrides=["hydra/launcher=ray_cluster"], return_hydra_config=True)
    init = OmegaConf.to_container(cfg.hydra.launcher.ray.init, resolve=True)
    assert init["address"] == "ray://head-node:10001"
    assert init["runtime_env"]["env_vars"][PARENT_ENV] == "parent-run-id"
