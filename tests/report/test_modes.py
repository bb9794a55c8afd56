"""`scratchnet-report --export DIR` and `--run RUN_ID` on the trained sweep, as real processes."""

import csv

import pandas as pd
from test_cli_report import cli

from scratchnet.report.export import has_parquet


def test_export_writes_exactly_the_runs_and_epochs_the_report_used(trained_store, tmp_path):
    out, export = tmp_path / "report", tmp_path / "frames"
    args = ["--experiment", trained_store.experiment, "--tracking-uri", trained_store.uri]
    done = cli(*args, "--out", str(out), "--export", str(export), "--no-write", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = pd.read_csv(export / "runs.csv")
    history = pd.read_csv(export / "history.csv")
    assert len(runs) == 10 and set(history["run_id"]) == set(runs["run_id"])
    for column in (
        "verdict",
        "best_epoch",
        "best_acc",
        "test_acc_at_best",
        "reused",
        "superseded_by",
    ):
        assert column in runs.columns
    md = (out / "report.md").read_text()
    assert f"{len(runs)} runs:" in md
    with (export / "runs.csv").open() as f:
        assert next(csv.reader(f))[0] == "run_id"
    assert (export / "runs.parquet").exists() == has_parquet()
    if has_parquet():
        assert pd.read_parquet(export / "history.parquet").shape == history.shape


def test_a_one_run_report_shows_curves_diagnosis_and_provenance(trained_store, tmp_path):
    out = tmp_path / "run"
    args = ["--run", first_child(trained_store)[:10]]  # a prefix is enough
    done = cli(
        *args, "--tracking-uri", trained_store.uri, "--out", str(out), "--no-write", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out / "report.html")
    md = (out / "report.md").read_text()
    for heading in (
        "# Run report: overfit_study",
        "## Diagnosis",
        "## Learning curves",
        "## Provenance",
    ):
        assert heading in md
    assert "| choices made on | validation |" in md and "| dataset digest (SHA-256) |" in md
    assert sorted(p.name for p in out.iterdir()) == [
        ".figure-inputs.json",
        "learning_curves.png",
        "report.html",
        "report.md",
    ]


def first_child(store) -> str:
    """The id of a FINISHED child run of the trained sweep."""
    exp = store.client.get_experiment_by_name(store.experiment).experiment_id
    found = store.client.search_runs(
        [exp], f"tags.`mlflow.parentRunId` = '{store.parent}' and attributes.status = 'FINISHED'"
    )
    return sorted(r.info.run_id for r in found)[0]


def test_a_one_run_report_rebuilds_byte_for_byte(trained_store, tmp_path):
    from scratchnet.report.single import build_run_report

    run = first_child(trained_store)
    one = build_run_report(trained_store.client, run, tmp_path / "one", write=False)
    two = build_run_report(trained_store.client, run, tmp_path / "two", write=False)
    for a, b in zip(one.files, two.files, strict=True):
        assert a.name == b.name and a.read_bytes() == b.read_bytes()
