"""`scratchnet-report` (python -m scratchnet.cli.report): help, errors, a real build."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scratchnet.cli.report import main

PROG = "scratchnet-report"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The command as a real process (the console script may not be installed yet)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "scratchnet.cli.report", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def error_of(capsys, *argv: str) -> str:
    """Run main in-process; assert exit 2 and one stderr line; return it."""
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{PROG}: error: ")
    return lines[0]


def test_help_explains_the_options_and_the_thresholds(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for needle in ("--experiment", "--sweep", "--out", "--tracking-uri", "--threshold"):
        assert needle in out
    assert "noise_k=3.5" in out and "overfit.verdict" in out


def test_missing_experiment_argument_is_one_line(capsys):
    assert "--experiment" in error_of(capsys)


def test_unknown_experiment_is_one_line_exit_2(capsys, trained_store):
    line = error_of(capsys, "--experiment", "nope", "--tracking-uri", trained_store.uri)
    assert "unknown experiment 'nope'" in line and "overfit_study" in line


def test_bad_sweep_id_is_one_line_exit_2(capsys, trained_store):
    args = ("--experiment", "overfit_study", "--sweep", "feedbeef", "--tracking-uri")
    assert "no sweep 'feedbeef'" in error_of(capsys, *args, trained_store.uri)


def test_missing_store_is_one_line_exit_2(capsys, tmp_path):
    uri = f"sqlite:///{tmp_path / 'none.db'}"
    assert "no tracking store" in error_of(capsys, "--experiment", "x", "--tracking-uri", uri)


def test_bad_threshold_is_one_line_exit_2(capsys, trained_store):
    args = ("--experiment", "overfit_study", "--threshold", "noise_k=-1")
    line = error_of(capsys, *args, "--tracking-uri", trained_store.uri)
    assert "threshold noise_k=-1.0 is not allowed" in line


def test_experiment_without_sweep_is_one_line_exit_2(capsys, trained_store):
    trained_store.client.create_experiment("no_sweeps_here")
    args = ("--experiment", "no_sweeps_here", "--tracking-uri", trained_store.uri)
    assert "has no sweep" in error_of(capsys, *args)


def test_cli_builds_the_report_and_prints_its_path(trained_store, tmp_path):
    out = tmp_path / "report"
    args = ["--experiment", "overfit_study", "--tracking-uri", trained_store.uri]
    done = cli(
        *args, "--out", str(out), "--sweep", trained_store.parent[:8], "--no-write", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out / "report.html")
    assert (out / "report.md").is_file() and (out / "learning_curves.png").is_file()


def test_help_has_an_example_of_every_mode(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for example in ("--sweep latest~1", "--export out/", "--run 8c1f0e2a", "--compare 3f2a9c01"):
        assert example in out


def test_run_with_experiment_is_one_line_exit_2(capsys):
    assert "--run is not allowed with --experiment" in error_of(
        capsys, "--run", "ab", "--experiment", "x"
    )


def test_export_with_compare_is_one_line_exit_2(capsys):
    line = error_of(capsys, "--compare", "a", "b", "--export", "out")
    assert "--export is not allowed with --compare" in line


def test_a_bad_run_id_is_one_line_exit_2(capsys, trained_store):
    line = error_of(capsys, "--run", "not-hex!", "--tracking-uri", trained_store.uri)
    assert "--run 'not-hex!' is not allowed" in line


def test_latest_back_beyond_the_sweeps_is_one_line_exit_2(capsys, trained_store):
    args = ("--experiment", "overfit_study", "--sweep", "latest~5", "--tracking-uri")
    line = error_of(capsys, *args, trained_store.uri)
    assert "--sweep 'latest~5' is not allowed" in line and "latest to latest~0" in line


@pytest.mark.slow
def test_an_experiment_with_runs_but_no_sweep_gets_a_one_run_report(tmp_path):
    from harness import run_cli

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ("trainer.epochs=3", "data.train_size=100", "trainer.progress=false")
    trained = run_cli(
        "scratchnet-train", f"tracking.uri={uri}", "tracking.experiment=alone", *args, cwd=tmp_path
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    done = cli(
        "--experiment", "alone", "--tracking-uri", uri, "--out", str(tmp_path / "r"), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "has no sweep: reporting its newest run" in done.stderr
    md = (tmp_path / "r" / "report.md").read_text()
    assert md.startswith("# Run report: alone / lr=") and "## Diagnosis" in md
