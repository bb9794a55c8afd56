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
