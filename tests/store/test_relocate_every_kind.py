"""`scratchnet-store relocate` on a copy: every run, sweep parent and chapter experiment."""

import shutil
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from store_support import every_run, locations, ok, store_cli, store_digest, uri_of

from scratchnet.tracking.names import CHAPTER_TAG, CONFIG_HASH_TAG, PARENT_TAG, SWEEP_PARENT_TAG
from scratchnet.tracking.relocation import local_path

pytestmark = pytest.mark.slow


def kind(run) -> str:
    tags = run.data.tags
    if tags.get(SWEEP_PARENT_TAG) == "true":
        return "sweep parent"
    if PARENT_TAG in tags:
        return "sweep child"
    if CHAPTER_TAG in tags:
        return "chapter"
    return "training run" if CONFIG_HASH_TAG in tags else "made in the ui"


def relative(location: str, folder: Path) -> Path:
    return local_path(location).relative_to(folder)


def test_relocate_points_every_run_parent_and_chapter_experiment_into_the_copy(source, tmp_path):
    copy = tmp_path / "clone" / "mlruns"
    shutil.copytree(source.folder, copy)
    before = locations(source.folder), store_digest(source.folder)
    said = ok(store_cli("relocate", "--store", str(copy), cwd=tmp_path)).stdout
    assert said.startswith("scratchnet-store: relocated 5 experiments and 6 runs of ")

    moved, original = locations(copy), before[0]
    assert moved.keys() == original.keys()
    for name, location in moved.items():  # same place inside the copy as inside the original
        assert relative(location, copy) == relative(original[name], source.folder), name
    runs = {r.info.run_id: r for r in every_run(MlflowClient(tracking_uri=uri_of(copy)))}
    assert sorted(kind(r) for r in runs.values()) == [
        "chapter",
        "made in the ui",
        "sweep child",
        "sweep child",
        "sweep parent",
        "training run",
    ]
    for run_id, run in runs.items():
        files = local_path(run.info.artifact_uri)
        if run.data.tags.get(SWEEP_PARENT_TAG) == "true":
            continue  # a parent has no files until its report is logged
        assert any(files.iterdir()), f"{kind(run)} {run_id} has no artifacts in the copy"
        for path in files.rglob("*"):
            twin = source.folder / path.relative_to(copy)
            assert path.is_dir() or path.read_bytes() == twin.read_bytes()

    assert ok(store_cli("check", "--store", str(copy), cwd=tmp_path)).stdout == ""
    assert (locations(source.folder), store_digest(source.folder)) == before  # untouched
