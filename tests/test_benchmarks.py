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


def test_a_jobs_fixed_cost_is_the_gap_between_job_ends_minus_its_training(tmp_path):
    from benchmarks.jobtimer import job_costs

    lines = [  # two processes; each one's first job is not warm
        '{"pid": 1, "end": 10.0, "train": 2.0, "logger": 0.5}',
        '{"pid": 2, "end": 10.5, "train": 3.0, "logger": 0.0}',
        '{"pid": 1, "end": 12.25, "train": 2.5, "logger": 0.5}',
        '{"pid": 2, "end": 14.0, "train": 3.25, "logger": 0.25}',
    ]
    (tmp_path / "jobs.jsonl").write_text("\n".join(lines) + "\n")
    fixed, trained = job_costs(str(tmp_path / "jobs.jsonl"))
    assert fixed == [0.25, 0.5]  # 2.25 - (2.5 - 0.5), 3.5 - (3.25 - 0.25)
    assert trained == 1.5 + 3.0 + 2.0 + 3.0


def test_a_timeline_shows_each_process_from_the_launchers_start_with_repeats_summed():
    from benchmarks.timeline import summary

    spans = [
        {"pid": 1, "name": "process", "start": 100.0, "end": 100.0},
        {"pid": 1, "name": "resume.look_up", "start": 101.0, "end": 102.5},
        {"pid": 2, "name": "process", "start": 102.0, "end": 102.0},
        {"pid": 2, "name": "execute_job", "start": 104.0, "end": 106.0},
        {"pid": 2, "name": "execute_job", "start": 106.5, "end": 110.0},
    ]
    text = summary(spans)
    assert "pid 1 (launching process)" in text and "pid 2 (worker)" in text
    assert "1.00 s  resume.look_up" in text and "1.500 s" in text
    assert "execute_job" in text and "2x, total   5.50 s" in text
    assert "first job at 4.00 s, last ends 10.00 s; idle 0.50 s" in text


def test_a_traced_function_leaves_one_span_per_call(tmp_path, monkeypatch):
    import json

    from benchmarks import timeline

    monkeypatch.setenv(timeline.OUT_ENV, str(tmp_path / "t.jsonl"))
    monkeypatch.setattr(timeline, "_TRACED", set())
    import textwrap

    monkeypatch.setattr(textwrap, "dedent", textwrap.dedent)  # restored after the test
    timeline.trace(("textwrap:dedent",))
    textwrap.dedent("  a")
    textwrap.dedent("  b")
    spans = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [s["name"] for s in spans] == ["textwrap.dedent", "textwrap.dedent"]
    assert all(s["end"] >= s["start"] for s in spans)


def test_a_jobs_fixed_cpu_time_is_its_process_cpu_between_job_ends_minus_its_training(tmp_path):
    from benchmarks.jobtimer import job_cpu_costs

    lines = [
        '{"pid": 1, "end": 10.0, "cpu": 5.0, "train_cpu": 2.0, "logger_cpu": 0.5}',
        '{"pid": 1, "end": 12.0, "cpu": 7.5, "train_cpu": 2.25, "logger_cpu": 0.25}',
        '{"pid": 2, "end": 11.0, "cpu": 4.0, "train_cpu": 1.0, "logger_cpu": 0.0}',
    ]
    (tmp_path / "jobs.jsonl").write_text("\n".join(lines) + "\n")
    assert job_cpu_costs(str(tmp_path / "jobs.jsonl")) == [0.5]  # 2.5 - (2.25 - 0.25)
