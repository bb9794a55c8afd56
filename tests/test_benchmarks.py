"""The benchmark suite still runs: its quick mode on the bundled digits, no subprocess rows."""

import subprocess
import sys

import pytest

from harness import REPO


@pytest.mark.slow
def test_quick_benchmark_on_digits_prints_the_table():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--quick",
            "--dataset=digits",
            "--skip-system",
            "--skip-tracking",
            "--reps=1",
            "--warmup=0",
            "--no-readme",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "| scratchnet train() | ms/epoch |" in out.stdout
    assert "| book's loop (float64) | ms/epoch |" in out.stdout
    assert "matmul limit (faster thread setting per product)" in out.stdout
    assert "epoch vs the book's loop:" in out.stdout


@pytest.mark.slow
def test_the_lever_rows_run_side_by_side_with_their_targets():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--levers-only",
            "--dataset=digits",
            "--reps=1",
            "--warmup=0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    for row in ("plain SGD (lr folded in)", "Adam", "SGD + dropout 0.5", "SGD + weight decay"):
        assert f"| {row}" in out.stdout
    assert "updates only, Adam: " in out.stdout and "(target <= 1.3x)" in out.stdout
