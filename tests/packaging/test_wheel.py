"""The package as a user gets it: `python -m build` makes the sdist and, from it, the wheel; the
wheel goes into a new virtual environment; its three commands run from an empty folder.

What this proves: the sdist carries conf/ and the wheel built from it carries the config tree
(as scratchnet/conf/), the sweepers (hydra_plugins/) and the three console scripts; installed,
the code, configs and sweepers come from the wheel and not from this checkout; training, a
parallel sweep, its report and a chapter study work from any folder and record in that
folder's ./mlruns/ (database, and artifacts beside it); a user's config folder composes on top
(`--config-dir`, `hydra.searchpath`); `twine check --strict` accepts the metadata.

What it does not, by default: that pip resolves the wheel's dependencies from PyPI. The new
environment reuses the packages already installed in this venv (a folder of links to them,
minus scratchnet, put on its path by a .pth file) and the wheel is installed with --no-deps;
`pip check` then confirms those packages satisfy the wheel's declared requirements. A full
install from PyPI, with a warm pip cache on the shared 2-core machine, took 135 s (the whole
module 197 s, against about 2 min with the reuse); SCRATCHNET_PACKAGING_FULL_INSTALL=1 runs it
that way. Both are built once per session and shared by the pytest-xdist workers.
"""

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness import REPO

pytestmark = pytest.mark.slow

FULL_INSTALL = os.environ.get("SCRATCHNET_PACKAGING_FULL_INSTALL") == "1"
SITE = Path(next(p for p in sys.path if p.endswith("site-packages")))
CONSOLE_SCRIPTS = {"scratchnet-train", "scratchnet-report", "scratchnet-chapter"}
OURS = ("scratchnet", "_editable_impl_scratchnet", "__editable__")  # left out of the links


def run(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """A process with none of the variables that would point it at a store or this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRATCHNET_", "MLFLOW_"))}
    for name in ("PYTHONPATH", "HYDRA_FULL_ERROR", "VIRTUAL_ENV"):
        env.pop(name, None)
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def ok(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, f"{done.args}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done


@contextlib.contextmanager
def once_for_all_workers(tmp_path_factory, name: str) -> Iterator[tuple[Path, bool]]:
    """A folder shared by the pytest-xdist workers; True if it still has to be made. The first
    worker makes it under the lock while the others wait, then reuse it."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    root.mkdir(exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "done"
        yield root, not done.exists()
        done.touch()


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    """The sdist and the wheel, as `python -m build` makes them."""
    with once_for_all_workers(tmp_path_factory, "packaging-dist") as (out, todo):
        if todo:
            ok(run(sys.executable, "-m", "build", "--outdir", out / "dist", REPO, cwd=out))
    return out / "dist"


def wheel_of(dist: Path) -> Path:
    (wheel,) = dist.glob("scratchnet-*.whl")
    return wheel


def reuse_installed_packages(venv: Path, links: Path) -> None:
    """Put this venv's packages, minus scratchnet itself, on the new venv's path."""
    links.mkdir()
    for entry in SITE.iterdir():
        if not entry.name.startswith(OURS) and entry.name != "__pycache__":
            (links / entry.name).symlink_to(entry)
    (site_packages(venv) / "_reused_packages.pth").write_text(f"{links}\n")


def site_packages(venv: Path) -> Path:
    return (
        venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    )


@pytest.fixture(scope="session")
def venv(dist, tmp_path_factory) -> Path:
    """A new virtual environment with the wheel installed; its bin/ folder."""
    with once_for_all_workers(tmp_path_factory, "packaging-venv") as (root, todo):
        if todo:
            install(wheel_of(dist), root)
    return root / "venv" / "bin"


def install(wheel: Path, root: Path) -> None:
    """Make `root/venv` and install `wheel` into it (see the module's docstring for how)."""
    venv = root / "venv"
    if FULL_INSTALL:
        ok(run(sys.executable, "-m", "venv", venv, cwd=root))
        ok(run(venv / "bin" / "python", "-m", "pip", "install", wheel, cwd=root))
        return
    ok(run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=root))
    reuse_installed_packages(venv, root / "reused")
    pip = (sys.executable, "-m", "pip", "--python", venv / "bin" / "python")
    ok(run(*pip, "install", "--no-deps", "--no-index", wheel, cwd=root))
    ok(run(*pip, "check", cwd=root))


@pytest.fixture(scope="module")
def empty(tmp_path_factory) -> Path:
    """An empty working folder, shared by the commands as a user's would be (one store)."""
    return tmp_path_factory.mktemp("empty")


def client_of(folder: Path) -> MlflowClient:
    db = folder / "mlruns" / "mlflow.db"
    assert db.is_file(), f"no store at {db}: {sorted(p.name for p in folder.iterdir())}"
    return MlflowClient(tracking_uri=f"sqlite:///{db}")


def test_the_wheel_carries_the_config_tree_the_sweepers_and_the_commands(dist):
    with zipfile.ZipFile(wheel_of(dist)) as wheel:
        names = set(wheel.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = wheel.read(entry_points).decode()
    configs = {
        f"scratchnet/conf/{p.relative_to(REPO / 'conf')}" for p in (REPO / "conf").rglob("*.yaml")
    }
    sweepers = {f"hydra_plugins/{p.name}" for p in (REPO / "src" / "hydra_plugins").glob("*.py")}
    assert configs and configs <= names
    assert sweepers and sweepers <= names
    assert not [n for n in names if n.startswith(("conf/", "tests/", "experiments/"))]
    assert all(f"{script} = " in scripts for script in CONSOLE_SCRIPTS)


def test_the_sdist_carries_conf_the_sources_and_the_license(dist):
    (sdist,) = dist.glob("scratchnet-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"conf/config.yaml", "LICENSE", "README.md", "pyproject.toml"} <= names
    assert "src/scratchnet/core/paths.py" in names
    assert not [n for n in names if n.startswith((".venv/", "mlruns/", "reports/"))]


def test_twine_accepts_both(dist):
    done = ok(
        run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()), cwd=dist)
    )
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_metadata_names_python_license_readme_and_classifiers(dist):
    with zipfile.ZipFile(wheel_of(dist)) as wheel:
        metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith("/METADATA"))).decode()
    headers = metadata.split("\n\n", 1)[0]
    for field in ("Requires-Python: >=3.11", "License-Expression: MIT", "License-File: LICENSE"):
        assert field in headers
    assert "Description-Content-Type: text/markdown" in headers
    assert headers.count("Classifier: ") >= 5


def test_installed_the_code_configs_and_sweepers_come_from_the_wheel(venv, empty):
    probe = (
        "import json, scratchnet, hydra_plugins.scratchnet_grid_sweeper as grid;"
        "from scratchnet.core import paths;"
        "print(json.dumps([scratchnet.__file__, grid.__file__, str(paths.config_dir()),"
        " paths.checkout_root(), paths.default_tracking_uri()]))"
    )
    done = ok(run(venv / "python", "-c", probe, cwd=empty))
    package, sweeper, conf, checkout, store = json.loads(done.stdout)
    here = site_packages(venv.parent)
    assert Path(package).is_relative_to(here) and Path(sweeper).is_relative_to(here)
    assert Path(conf) == here / "scratchnet" / "conf" and (Path(conf) / "config.yaml").is_file()
    assert checkout is None
    assert store == f"sqlite:///{empty / 'mlruns' / 'mlflow.db'}"


def test_train_records_in_the_current_folders_mlruns(venv, empty):
    done = ok(
        run(venv / "scratchnet-train", "trainer.epochs=2", "trainer.progress=false", cwd=empty)
    )
    store = f"sqlite:///{empty / 'mlruns' / 'mlflow.db'}"
    assert f"tracking store: {store}" in done.stdout + done.stderr
    client = client_of(empty)
    (run_,) = client.search_runs([client.get_experiment_by_name("scratchnet").experiment_id])
    assert run_.info.status == "FINISHED"
    assert run_.info.artifact_uri.startswith((empty / "mlruns" / "artifacts").as_uri())
    assert (
        empty / "mlruns" / "artifacts" / run_.info.run_id / "artifacts" / "config.yaml"
    ).is_file()


def test_a_parallel_sweep_and_its_report_from_the_current_folder(venv, empty):
    sweep = ("-m", "trainer.lr=0.05,0.1", "trainer.epochs=2", "trainer.progress=false")
    where = (
        "tracking.experiment=installed_sweep",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
    )
    ok(run(venv / "scratchnet-train", *sweep, *where, cwd=empty))
    client = client_of(empty)
    runs = client.search_runs([client.get_experiment_by_name("installed_sweep").experiment_id])
    assert len(runs) == 3 and {r.info.status for r in runs} == {"FINISHED"}  # parent + 2 jobs
    done = ok(run(venv / "scratchnet-report", "--experiment", "installed_sweep", cwd=empty))
    html = Path(done.stdout.strip().splitlines()[-1])
    assert html.is_file() and html.is_relative_to(empty / "reports" / "installed_sweep")


def test_a_chapter_study_from_the_current_folder(venv, empty):
    ok(run(venv / "scratchnet-chapter", "gradient_descent", "step_num=10", cwd=empty))
    client = client_of(empty)
    experiment = client.get_experiment_by_name("chapter.gradient_descent")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 6 and {r.info.status for r in runs} == {"FINISHED"}  # parent + 5 lrs


@pytest.mark.parametrize("how", ["--config-dir", "hydra.searchpath"])
def test_a_users_config_folder_composes_on_top_of_the_installed_tree(venv, tmp_path, how):
    mine = tmp_path / "myconf" / "experiment"
    mine.mkdir(parents=True)
    (mine / "mine.yaml").write_text("# @package _global_\nmodel:\n  hidden_size: 7\n")
    where = (
        ["--config-dir", "myconf"]
        if how == "--config-dir"
        else ["hydra.searchpath=[file://myconf]"]
    )
    done = ok(
        run(venv / "scratchnet-train", *where, "experiment=mine", "--cfg", "job", cwd=tmp_path)
    )
    assert "hidden_size: 7" in done.stdout
    assert "name: digits" in done.stdout  # the rest still from the installed tree
