"""Two sweeps started at once in one folder each get their own Hydra output folder (the
launcher's pid after the time), so their job folders and `multirun.yaml` never mix, even when
they start in the same second; a parallel sweep's workers write into their launcher's."""

import subprocess
from pathlib import Path

import pytest
from faults_support import PROG, QUIET
from omegaconf import OmegaConf

from harness import BIN, new_store

pytestmark = pytest.mark.slow
TINY = ("trainer.epochs=2", "data.train_size=50", "seed=0,1")


def test_two_sweeps_started_at_once_write_separate_folders(tmp_path: Path) -> None:
    store = f"tracking.uri={new_store(tmp_path / 'store')}"
    launches = {
        "plain": [],
        "parallel": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    }
    procs = {
        name: subprocess.Popen(
            [str(BIN / PROG), "-m", store, *QUIET, *TINY, f"tracking.experiment={name}", *extra],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, extra in launches.items()
    }
    for proc in procs.values():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    folders = sorted(tmp_path.glob("multirun/*/*"))
    assert sorted(f.name.rsplit("-", 1)[1] for f in folders) == sorted(
        str(p.pid) for p in procs.values()
    )
    for folder in folders:
        sweep = OmegaConf.load(folder / "multirun.yaml")
        experiment = sweep.tracking.experiment
        assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["0", "1"]
        for job in ("0", "1"):
            overrides = OmegaConf.load(folder / job / ".hydra" / "overrides.yaml")
            assert f"tracking.experiment={experiment}" in overrides
