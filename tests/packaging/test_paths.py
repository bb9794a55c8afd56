"""Where the config tree and the default store are, in a checkout and in an installed package
(simulated here by pointing `core.paths` at a package folder in site-packages' shape;
tests/packaging/test_wheel.py checks the real install)."""

from pathlib import Path

import pytest

from harness import REPO
from scratchnet.core import paths
from scratchnet.tracking.store import artifact_root_for

ENV = ("SCRATCHNET_TRACKING_URI", "MLFLOW_TRACKING_URI", "SCRATCHNET_HOME")


@pytest.fixture(autouse=True)
def no_store_variables(monkeypatch):
    for variable in ENV:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def installed(tmp_path, monkeypatch) -> Path:
    """`core.paths` as in a wheel: `<venv>/lib/python3.11/site-packages/scratchnet/`."""
    package = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "scratchnet"
    (package / "conf").mkdir(parents=True)
    monkeypatch.setattr(paths, "PACKAGE_DIR", package)
    return package


def test_in_the_checkout_the_config_tree_is_its_conf_folder():
    assert paths.checkout_root() == REPO
    assert paths.config_dir() == REPO / "conf"


def test_in_the_checkout_the_default_store_is_the_checkouts_whatever_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert paths.default_tracking_uri() == f"sqlite:///{REPO / 'mlruns' / 'mlflow.db'}"


def test_installed_the_config_tree_is_the_packages_copy(installed):
    assert paths.checkout_root() is None
    assert paths.config_dir() == installed / "conf"


def test_installed_the_default_store_is_mlruns_in_the_current_folder(
    installed, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert paths.default_tracking_uri() == f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    assert paths.repo_root() == tmp_path  # reports/ go there too


def test_installed_inside_another_projects_folder_is_not_a_checkout(tmp_path, monkeypatch):
    """`pip install --target vendor` in a project with its own conf/: still not our checkout."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text("{}\n")
    package = tmp_path / "vendor" / "scratchnet"
    (package / "conf").mkdir(parents=True)
    monkeypatch.setattr(paths, "PACKAGE_DIR", package)
    assert paths.checkout_root() is None
    assert paths.config_dir() == package / "conf"


@pytest.mark.parametrize("where", ["checkout", "installed"])
def test_scratchnet_tracking_uri_wins_over_mlflows_and_the_default(where, request, monkeypatch):
    if where == "installed":
        request.getfixturevalue("installed")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    monkeypatch.setenv("SCRATCHNET_TRACKING_URI", "sqlite:////data/runs/mlflow.db")
    assert paths.default_tracking_uri() == "sqlite:////data/runs/mlflow.db"


def test_mlflow_tracking_uri_is_the_default_when_ours_is_unset(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    assert paths.default_tracking_uri() == "http://mlflow.example:5000"


def test_an_empty_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv("SCRATCHNET_TRACKING_URI", "")
    assert paths.default_tracking_uri() == f"sqlite:///{REPO / 'mlruns' / 'mlflow.db'}"


def test_a_configured_uri_wins_over_every_default(monkeypatch):
    monkeypatch.setenv("SCRATCHNET_TRACKING_URI", "sqlite:////data/runs/mlflow.db")
    assert paths.tracking_uri("sqlite:////x/mlflow.db") == "sqlite:////x/mlflow.db"
    assert paths.tracking_uri(None) == "sqlite:////data/runs/mlflow.db"


def test_scratchnet_home_is_the_checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRATCHNET_HOME", str(tmp_path))
    assert paths.default_tracking_uri() == f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"


def test_artifacts_go_beside_the_default_sqlite_database(installed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (
        artifact_root_for(paths.default_tracking_uri())
        == (tmp_path / "mlruns" / "artifacts").as_uri()
    )


def test_a_server_store_from_the_environment_keeps_its_own_artifacts(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    assert artifact_root_for(paths.default_tracking_uri()) is None
