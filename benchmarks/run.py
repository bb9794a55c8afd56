"""`make bench`: scratchnet's trainer against the book's loop, PyTorch, scikit-learn and BLAS.

    .venv/bin/python -m benchmarks.run            # full run; rewrites benchmarks/README.md
    .venv/bin/python -m benchmarks.run --quick    # smoke test: MNIST subset, fewer repetitions
    .venv/bin/python -m benchmarks.run --levers-only   # optimizers, dropout, decay vs plain SGD

Epoch figures are measured side by side: every contender runs one epoch in turn, round
after round, so a busy neighbour slows them all alike; each figure is min/median/max over
`--reps` rounds after `--warmup` rounds. Whole-process figures (peak RSS, start-up, sweep)
come from fresh subprocesses. See benchmarks/README.md for what each row means.
"""

import argparse
import datetime
import math
import os
import platform
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

from benchmarks import jobtimer, levers, limits, loops, system
from scratchnet.data import load_dataset
from scratchnet.training.blas import EVAL_BLOCK_ROWS, STEP_BLAS_THREADS, default_eval_threads

REPO = Path(__file__).resolve().parents[1]
MNIST = REPO.parent / "shared" / "data" / "mnist"
README = Path(__file__).resolve().parent / "README.md"
TARGETS = {"book": 3.0, "torch": 0.75, "limit": 1.25, "mlflow": 0.03, "rss_mb": 350.0, "sweep": 1.8}
TARGETS["cli_epoch"] = 1.1
SWEEP_TARGETS = {"fixed_ms": 40.0, "wall_factor": 1.3, "wall_start_s": 3.0, "rerun_s": 5.0}
SWEEP_TARGETS["report_s"] = 3.0


@dataclass
class Row:
    """One line of the table: min/median/max of `values` in `unit`."""

    name: str
    values: list[float]
    unit: str = "s/epoch"
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return float(np.median(self.values)) if self.values else math.nan


# ---------------------------------------------------------------- epoch rows, interleaved


SETTLE_S = 0.25  # OpenBLAS's idle threads spin ~0.1 s after a threaded call: let them sleep


def interleave(
    contenders: dict[str, Iterator[None]], warmup: int, reps: int, epochs: dict[str, int]
):
    """Time one `next()` of each contender per round, round after round, per epoch.

    A `next()` is one epoch, or `epochs[name]` epochs for whole-run contenders. A pause
    before each keeps one contender's spinning BLAS threads from taxing the next one.
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for gen in contenders.values():
        next(gen)  # set-up and, for train(), the epoch-0 evaluation
    for round_ in range(warmup + reps):
        for name, gen in contenders.items():
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            next(gen)
            if round_ >= warmup:
                times[name].append((time.perf_counter() - start) / epochs.get(name, 1))
        print(f"  round {round_ + 1}/{warmup + reps}", end="\r", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    for gen in contenders.values():
        gen.close()
    return times


def epoch_rows(data, args, pool: ThreadPoolExecutor) -> tuple[list[Row], dict]:
    """Every contender and the matmul limit, one epoch each per round."""
    runs = args.run_epochs
    contenders: dict[str, Iterator[None]] = {
        "scratchnet train()": loops.scratchnet_runs(data, runs),
        "scratchnet train(), evaluation not overlapped": loops.scratchnet_runs(
            data, runs, overlap_evaluation=False
        ),
        "scratchnet train(), BLAS default threads": loops.scratchnet_runs(
            data, runs, step_threads=None
        ),
        "book's loop (float64)": loops.book_epochs(data),
    }
    torch_version = loops.torch_available()
    if torch_version:
        contenders["PyTorch, default threads"] = loops.torch_epochs(data)
        contenders["PyTorch, 1 thread"] = loops.torch_epochs(data, threads=1)
    else:
        print("PyTorch not importable: its rows are skipped (pip install torch==2.13.0)")
    contenders["scikit-learn MLPClassifier"] = loops.sklearn_epochs(data)
    contenders["scratchnet updates only"] = loops.scratchnet_phase_epochs(data, "steps")
    contenders["scratchnet evaluation only"] = loops.scratchnet_phase_epochs(data, "eval")
    contenders |= levers.lever_contenders(data)
    shapes = limits.epoch_shapes(data, pool)
    records: dict[str, dict[str, list[float]]] = {label: {} for label in limits.SETTINGS}
    for label in limits.SETTINGS:
        contenders[f"matmul limit, {label}"] = limits.limit_epochs(shapes, label, records[label])

    print(f"epochs: {len(contenders)} contenders, {args.warmup} + {args.reps} rounds")
    whole_runs = {name: runs for name in contenders if name.startswith("scratchnet train()")}
    measured = interleave(contenders, args.warmup, args.reps, whole_runs)
    per_run = f"whole {runs}-epoch runs / {runs}"
    notes = {
        "scratchnet train()": f"public API, tracking off, defaults; {per_run}",
        "scratchnet train(), evaluation not overlapped": f"overlap_evaluation=False; {per_run}",
        "scratchnet train(), BLAS default threads": f"step_threads=None; {per_run}",
        "book's loop (float64)": "choice(), one-hot, 2nd forward pass, accuracy only",
        "PyTorch, default threads": f"torch {torch_version}, default intra-op threads",
        "PyTorch, 1 thread": f"torch {torch_version}, set_num_threads(1)",
        "scikit-learn MLPClassifier": "partial_fit: training only, no evaluation",
        "scratchnet updates only": "train()'s updates (FastStepper, prefetched), no evaluation",
        "scratchnet evaluation only": "train()'s evaluation: loss+accuracy, train+test",
        "matmul limit, 1 thread": "the epoch's products alone",
        "matmul limit, BLAS default": "the epoch's products alone",
        f"matmul limit, {limits.CORES} threads x 1": "evaluation blocks over threads",
    }
    notes |= {row: LEVER_NOTE for row in levers.LEVER_ROWS}
    rows = [Row(name, measured[name], note=notes.get(name, "")) for name in contenders]

    found = limits.summarize(shapes, records)
    best = sum(x.seconds[x.best] for x in found)
    gflop = sum(x.gflop for x in found)
    rows.append(
        Row(
            "matmul limit (faster thread setting per product)",
            [best],
            note=f"{gflop:.2f} GFLOP/epoch at {gflop / best:.0f} GFLOP/s (sum of medians)",
        )
    )
    detail = [
        f"| {x.name} | {x.phase} | {x.gflop:.3f} | "
        + " | ".join(f"{1e3 * x.seconds[label]:.2f}" for label in limits.SETTINGS)
        + f" | {x.gflops:.0f} |"
        for x in found
    ]
    return rows, {"torch": torch_version or "", "limit": best, "detail": "\n".join(detail)}


LEVER_NOTE = "train()'s updates with this lever (FastStepper), no evaluation; see Targets"


def lever_only(data, args) -> None:
    """`--levers-only`: the lever rows alone, side by side, and their targets."""
    contenders = levers.lever_contenders(data)
    print(f"levers: {len(contenders)} contenders, {args.warmup} + {args.reps} rounds")
    measured = interleave(contenders, args.warmup, args.reps, {})
    print("\n" + levers.lever_table(measured) + "\n")
    print("\n".join(levers.lever_verdicts({k: float(np.median(v)) for k, v in measured.items()})))


# ---------------------------------------------------------------- MLflow overhead


def tracking_rows(data, args, store: Path) -> list[Row]:
    """Runs of consecutive epochs with and without MLflow, alternating, one run per round.

    Not interleaved epoch by epoch: `EpochLogger` flushes by wall time, so it must see
    epochs back to back as in a real run. The overhead is the time spent inside the
    callback (timed directly, final flush included) over the run's epoch time.
    """
    from scratchnet.tracking.epochs import EpochLogger
    from scratchnet.tracking.recorder import RunRecorder

    uri = f"sqlite:///{store / 'mlflow.db'}"
    variants: dict[str, dict] = {"off": {}, "on": {}, "every epoch": {"flush_seconds": 0}}
    per_epoch: dict[str, list[float]] = {v: [] for v in variants}
    share: dict[str, list[float]] = {v: [] for v in variants}
    for round_ in range(args.warmup + args.reps):
        for variant, kwargs in variants.items():
            callbacks: list = []
            timed = None
            if variant != "off":
                recorder = RunRecorder.start(uri, "bench", variant, {}, {})
                timed = loops.Timed(EpochLogger(recorder, **kwargs))
                callbacks.append(timed)
            start = time.perf_counter()
            loops.train_run(data, args.tracking_epochs, callbacks=callbacks)
            run_time = time.perf_counter() - start
            if variant != "off":
                recorder.end("FINISHED")
            if round_ >= args.warmup:
                per_epoch[variant].append(run_time / args.tracking_epochs)
                share[variant].append(timed.seconds / run_time if timed else 0)
        print(f"  run {round_ + 1}/{args.warmup + args.reps}", end="\r", file=sys.stderr)
    print(file=sys.stderr)
    note = f"{args.tracking_epochs} consecutive epochs per run"
    rows = [Row("scratchnet train(), runs of epochs", per_epoch["off"], note=note)]
    labels = {"on": "+ MLflow (EpochLogger defaults)", "every epoch": "+ MLflow, flush each epoch"}
    for variant, label in labels.items():
        if variant in per_epoch:
            row = Row(f"scratchnet train() {label}", per_epoch[variant], note=note)
            row.extra["callback_share"] = float(np.median(share[variant]))
            rows.append(row)
    return rows


# ---------------------------------------------------------------- whole processes


def system_rows(args, mnist: Path) -> list[Row]:
    """Fresh processes against one scratch store, made by an untimed first run (as a user's
    mlruns/ exists already; creating an MLflow database takes seconds)."""
    cli_rss, lib_rss, first, total, marginal = [], [], [], [], []
    with system.scratch_store() as tmp:
        cmd = system.cli_mnist(mnist, Path(tmp))
        longer = system.cli_mnist(mnist, Path(tmp), iters=600 * (1 + MARGINAL_EPOCHS))
        warm = system.run_child(cmd, cwd=REPO)
        if warm.returncode != 0:
            print(f"scratchnet-train failed ({warm.returncode}):\n{warm.stderr_tail}")
            return []
        for i in range(args.system_reps):
            child = system.run_child(cmd, cwd=REPO)
            lib = system.run_child(system.library_mnist(mnist), cwd=REPO)
            cli_rss.append(child.max_rss_mb)
            total.append(child.seconds)
            if child.first_epoch is not None:
                first.append(child.first_epoch)
            if lib.returncode == 0:
                lib_rss.append(lib.max_rss_mb)
            eleven = system.run_child(longer, cwd=REPO)
            if eleven.returncode == 0:
                marginal.append((eleven.seconds - child.seconds) / MARGINAL_EPOCHS)
            print(f"  process {i + 1}/{args.system_reps}", end="\r", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return [
        Row("peak RSS, scratchnet-train MNIST run", cli_rss, "MB", "CLI, MLflow on"),
        Row("peak RSS, library MNIST run", lib_rss, "MB", "load + train(), no MLflow"),
        Row("start-up: launch to epoch 0", first, "s", "scratchnet-train seed_mnist"),
        Row("scratchnet-train, 1 epoch, launch to exit", total, "s", "iters_num=600"),
        Row(MARGINAL_ROW, marginal, note=f"({1 + MARGINAL_EPOCHS} epochs - 1 epoch) / 10, CLI"),
    ]


MARGINAL_EPOCHS = 10
MARGINAL_ROW = "scratchnet-train MNIST epoch, marginal"


def sweep_rows(args) -> list[Row]:
    """The demo study with 1 and 2 workers, alternating, into one store made by an untimed
    first sweep (as a user's mlruns/ exists already); each sweep gets its own experiment, and
    is then run again, every job a skip. `benchmarks.jobtimer` records each job's train()."""
    if not (REPO / "conf" / "experiment" / "lr_batch_hidden.yaml").exists():
        print("conf/experiment/lr_batch_hidden.yaml not found: sweep rows skipped")
        return []
    extra = [f"trainer.epochs={args.sweep_epochs}"] if args.sweep_epochs else []
    times: dict[int, list[float]] = {1: [], 2: []}
    trained: dict[int, list[float]] = {1: [], 2: []}
    fixed: dict[int, list[float]] = {1: [], 2: []}
    fixed_cpu: dict[int, list[float]] = {1: [], 2: []}
    rerun: list[float] = []
    reports: dict[str, list[float]] = {REPORT_ROW: [], REPORT_AGAIN_ROW: []}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.getenv("PYTHONPATH")]))
    with system.scratch_store() as tmp:
        store = Path(tmp)
        runs = [(None, 2)] + [(i, w) for i in range(args.sweep_reps) for w in times]
        for i, workers in runs:
            timer = store / f"jobs-{i}-{workers}.jsonl"
            experiment = [
                f"tracking.experiment=bench-sweep-{i}-{workers}",
                f"+hydra.callbacks.job_timer._target_={JOB_TIMER}",
                f"+hydra.callbacks.job_timer.out={timer}",
            ]
            cmd = system.sweep(store, workers, extra + experiment)
            child = system.run_child(cmd, cwd=REPO)
            if child.returncode != 0:
                print(f"sweep failed ({child.returncode}):\n{child.stderr_tail}")
                return []
            if i is None:
                continue
            times[workers].append(child.seconds)
            costs, total = jobtimer.job_costs(str(timer))
            fixed[workers] += costs
            fixed_cpu[workers] += jobtimer.job_cpu_costs(str(timer))
            trained[workers].append(total)
            if workers == 1:  # the same sweep again: every job already FINISHED
                again = system.run_child(cmd, cwd=REPO)
                if again.returncode == 0:
                    rerun.append(again.seconds)
                time_reports(store, f"bench-sweep-{i}-{workers}", reports)
            print(f"  sweep {i + 1}/{args.sweep_reps}", end="\r", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    epochs = args.sweep_epochs or "the study's 100"
    rows = []
    for w, t in times.items():
        train_sum = float(np.median(trained[w]))
        note = f"27 runs x {epochs} epochs, digits; sum of train(): median {train_sum:.2f} s"
        row = Row(f"lr_batch_hidden sweep, {w} worker{'s' * (w > 1)}", t, "s", note)
        row.extra |= {"workers": w, "train_sum": train_sum}
        rows.append(row)
    for w, costs in fixed.items():
        rows.append(Row(f"a job's fixed cost, {w} worker{'s' * (w > 1)}", costs, "ms", FIXED_NOTE))
    for w, costs in fixed_cpu.items():
        name = f"a job's CPU time outside train(), {w} worker{'s' * (w > 1)}"
        rows.append(Row(name, costs, "ms", FIXED_CPU_NOTE))
    rows.append(Row("finished sweep re-run (every job skipped)", rerun, "s", "1 worker asked"))
    rows.append(Row(REPORT_ROW, reports[REPORT_ROW], "s", REPORT_NOTE))
    rows.append(Row(REPORT_AGAIN_ROW, reports[REPORT_AGAIN_ROW], "s", REPORT_AGAIN_NOTE))
    return rows


REPORT_ROW = "the demo report (scratchnet-report, launch to exit)"
REPORT_AGAIN_ROW = "the demo report again (after the re-run)"
REPORT_NOTE = "a new sweep's first report, as make demo: every figure drawn, 27 runs written back"
REPORT_AGAIN_NOTE = "into the same folder: no figure drawn (unchanged inputs), nothing written"


def time_reports(store: Path, experiment: str, reports: dict[str, list[float]]) -> None:
    """`scratchnet-report` of the sweep just run (its first report, as `make demo` makes it),
    then again into the same folder (the report after a re-run of the unchanged sweep)."""
    cmd = system.report(store, experiment, store / "reports" / experiment)
    for row in (REPORT_ROW, REPORT_AGAIN_ROW):
        child = system.run_child(cmd, cwd=REPO)
        if child.returncode != 0:
            print(f"report failed ({child.returncode}):\n{child.stderr_tail}")
            return
        reports[row].append(child.seconds)


JOB_TIMER = "benchmarks.jobtimer.JobTimer"
FIXED_NOTE = "warm jobs: between job ends in one process, minus train() (logger writes counted)"
FIXED_CPU_NOTE = "the same in the job's process's CPU time (holds up under other load)"


# ---------------------------------------------------------------- report


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = [
        f"{i['internal_api']} {i.get('version', '')} {i.get('architecture', '')} "
        f"({i['num_threads']} threads, {Path(i['filepath']).name})"
        for i in threadpool_info()
    ]
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": f"Python {platform.python_version()}, numpy {np.__version__}",
        "blas": "; ".join(blas),
        "env": ", ".join(f"{k}={v}" for k, v in env.items()) or "OPENBLAS_CORETYPE unset",
        "load": "load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
    }


def threads_note() -> str:
    return (
        f"updates with {STEP_BLAS_THREADS} BLAS thread; evaluation in {EVAL_BLOCK_ROWS}-row "
        f"blocks over {default_eval_threads()} threads of 1 BLAS thread each"
    )


def fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "-"
    if unit == "MB":
        return f"{value:.0f}"
    if unit == "s/epoch" or unit == "ms":
        return f"{value * 1e3:.1f}"
    return f"{value:.2f}"


def table(rows: list[Row], book: float, torch_best: float, limit: float) -> str:
    lines = [
        "| what | unit | min | median | max | n | book / this | this / PyTorch | this / limit "
        "| notes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        unit = "ms/epoch" if r.unit == "s/epoch" else r.unit
        lo, med, hi = (min(r.values), r.median, max(r.values)) if r.values else (math.nan,) * 3
        ratios = ["", "", ""]
        if r.unit == "s/epoch" and r.values:
            ratios = [
                f"{book / med:.2f}x",
                f"{med / torch_best:.2f}" if torch_best else "",
                f"{med / limit:.2f}",
            ]
        note = r.note
        if "callback_share" in r.extra:
            note += f"; in callback: {100 * r.extra['callback_share']:.2f}% of epoch time"
        lines.append(
            f"| {r.name} | {unit} | {fmt(lo, r.unit)} | {fmt(med, r.unit)} | {fmt(hi, r.unit)} "
            f"| {len(r.values)} | {' | '.join(ratios)} | {note} |"
        )
    return "\n".join(lines)


def verdict(value: float, target: float, at_most: bool = True) -> str:
    ok = value <= target if at_most else value >= target
    return "met" if ok else "MISSED"


def verdicts(rows: dict[str, Row], book: float, torch_best: float, limit: float) -> list[str]:
    ours = rows["scratchnet train()"].median
    speedup = book / ours
    out = [
        f"- epoch vs the book's loop: {speedup:.2f}x faster (target >= {TARGETS['book']}x): "
        + verdict(speedup, TARGETS["book"], at_most=False)
    ]
    if torch_best:
        ratio = ours / torch_best
        out.append(
            f"- epoch vs PyTorch (its faster thread setting): {ratio:.2f} of its time "
            f"(target <= {TARGETS['torch']}): {verdict(ratio, TARGETS['torch'])}"
        )
    ratio = ours / limit
    out.append(
        f"- epoch vs the matmul limit: {ratio:.2f}x (target <= {TARGETS['limit']}): "
        + verdict(ratio, TARGETS["limit"])
    )
    out += levers.lever_verdicts({name: r.median for name, r in rows.items()})
    cli = rows.get(MARGINAL_ROW)
    if cli and cli.values:
        ratio, target = cli.median / ours, TARGETS["cli_epoch"]
        out.append(
            f"- scratchnet-train MNIST epoch (marginal, 11 vs 1 epochs) vs train()'s epoch: "
            f"{ratio:.2f}x (target <= {target}x): {verdict(ratio, target)}"
        )
    base = rows.get("scratchnet train(), runs of epochs")
    for name, r in rows.items():
        if "callback_share" in r.extra and base is not None:
            cb = r.extra["callback_share"]
            out.append(
                f"- {name}: {100 * cb:.2f}% of epoch time spent in the MLflow callback; median "
                f"epoch {100 * (r.median / base.median - 1):+.1f}% vs tracking off "
                f"(target <= {100 * TARGETS['mlflow']:.0f}%): {verdict(cb, TARGETS['mlflow'])}"
            )
    for name in ("peak RSS, library MNIST run", "peak RSS, scratchnet-train MNIST run"):
        r = rows.get(name)
        if r and r.values:
            out.append(
                f"- {name}: {max(r.values):.0f} MB at most (target <= {TARGETS['rss_mb']:.0f} MB):"
                f" {verdict(max(r.values), TARGETS['rss_mb'])}"
            )
    return out + sweep_verdicts(rows)


def sweep_verdicts(rows: dict[str, Row]) -> list[str]:
    """The sweep targets: fixed cost per job, wall vs training, 2 workers vs 1, re-run."""
    out, t = [], SWEEP_TARGETS
    for name, r in rows.items():
        if name.startswith("a job's fixed cost") and r.values:
            ms = 1e3 * r.median
            out.append(
                f"- {name}: median {ms:.0f} ms (target <= {t['fixed_ms']:.0f} ms): "
                + verdict(ms, t["fixed_ms"])
            )
        if name.startswith("lr_batch_hidden sweep") and r.values:
            w, train_sum = r.extra["workers"], r.extra["train_sum"]
            bound = t["wall_factor"] * train_sum / w + t["wall_start_s"]
            out.append(
                f"- {name}: wall {r.median:.2f} s vs 1.3 x (sum of train() {train_sum:.2f} s"
                f" / {w:.0f}) + 3 s = {bound:.2f} s ({r.median / bound:.2f} of it): "
                + verdict(r.median, bound)
            )
    one = rows.get("lr_batch_hidden sweep, 1 worker")
    two = rows.get("lr_batch_hidden sweep, 2 workers")
    if one and two and one.values and two.values:
        gain = one.median / two.median
        out.append(
            f"- sweep throughput, 2 workers vs 1: {gain:.2f}x (target >= {TARGETS['sweep']}x): "
            + verdict(gain, TARGETS["sweep"], at_most=False)
        )
    for name in (REPORT_ROW, REPORT_AGAIN_ROW):
        r = rows.get(name)
        if r and r.values:
            out.append(
                f"- {name}: {r.median:.2f} s (target <= {t['report_s']:.0f} s): "
                + verdict(r.median, t["report_s"])
            )
    again = rows.get("finished sweep re-run (every job skipped)")
    if again and again.values:
        out.append(
            f"- finished sweep re-run: {again.median:.2f} s (target <= {t['rerun_s']:.0f} s): "
            + verdict(again.median, t["rerun_s"])
        )
    return out


README_HEAD = """# Benchmarks

`make bench` (or `.venv/bin/python -m benchmarks.run`; `--quick` for a smoke test, `--help`
for the knobs) measures the chapter's MNIST workload — 784-50-10 sigmoid net, SGD with lr
0.1, batch 100 drawn with replacement, an epoch = 600 updates followed by loss and accuracy
on the full 60,000-image train and 10,000-image test sets — and rewrites this file.
MNIST is read from `../shared/data/mnist`; without it the run stops with a message.

- **Epoch rows** are timed side by side: each round runs one epoch of every contender in
  turn, so a busy neighbour on the machine slows all of them alike; min/median/max over the
  rounds after the warm-up, with a 0.25 s pause before each epoch (OpenBLAS's idle threads
  spin for ~0.1 s after a threaded call). `scratchnet train()` goes through the public
  `scratchnet.training.train` in whole runs (`--run-epochs`, 10) from a fresh net, timed whole
  and divided by the epochs: `train` evaluates epoch e while epoch e + 1 trains, so no
  instant between epochs splits their work, and a run's set-up and epoch-0 evaluation are
  counted in (an upper bound). The `updates only` and `evaluation only` rows time its two
  phases apart, one after the other (the updates with their batches gathered ahead on the
  spare core, as `train` does when it overlaps).
- **The book's loop** is the chapter's code re-implemented here as the baseline: float64
  weights, `np.random.choice`, one-hot labels, the batch loss recomputed by a second forward
  pass after each update, full-set accuracy (not loss) each epoch.
- **PyTorch** runs the same model and loop (same initial weights, float32, CPU), with its
  default threads and with one; **scikit-learn**'s `MLPClassifier` (logistic, sgd, momentum
  0, alpha 0, batch 100, lr 0.1) trains only, so read it against `updates only`.
- **The matmul limit** is the epoch's matrix products alone (the five per-update products
  x 600, and the evaluation's over the real data in the trainer's 2048-row blocks), timed in
  the same rounds with 1 BLAS thread, with the BLAS default (OpenBLAS's threads), and with
  the evaluation's blocks spread over one Python thread per core at 1 BLAS thread each;
  the limit adds up, per product, the fastest median: what an epoch would cost if it were
  nothing but BLAS calls.
- **MLflow overhead**: whole runs of consecutive epochs (the logger flushes by wall time, so
  it must not be interleaved), with `RunRecorder`'s `EpochLogger` on a scratch SQLite store
  and without, alternating; the time spent inside the callback (its epoch reports after
  epoch 0 and its final flush; not the run's set-up) is measured directly and given as a
  share of the run's time.
- **The levers' rows** (`updates only, <optimizer or lever>`; `--levers-only` runs just
  them) time `train()`'s updates with each optimizer (at the book's lr), with dropout 0.5 and
  with weight decay 0.01, side by side with plain SGD's updates in the same rounds; the
  targets are ratios of median epochs to plain SGD's: Adam <= 1.3x, dropout <= 1.3x, weight
  decay <= 1.1x. `SGD through update()` is plain SGD with the fast path's fold switched off
  (the gradients computed, then `SGD.update`): what folding lr into dL/da2 saves.
- **Peak RSS, start-up, sweeps** come from fresh subprocesses (`os.wait4`'s `ru_maxrss`;
  launch to the progress bar's first epoch-0 report; `scratchnet-train -m` wall time). The
  sweeps are the `lr_batch_hidden` study (27 runs on digits, 100 epochs each) through Hydra's
  joblib launcher with 1 and 2 workers, alternating, each into a new experiment of one store
  that an untimed first sweep created (as a user's `mlruns/` exists already).
- **Sweep rows** (`--sweeps-only` runs just them, on digits with `--dataset digits`): each
  sweep runs with `benchmarks/jobtimer.py`, a Hydra callback that records, per job, when it
  ended and how long its `train()` took without the MLflow callback's writes. *A job's fixed
  cost* is the time between two consecutive job ends in one process minus the second job's
  training: Hydra composing it and its output folder, the resume lookup, run creation,
  params, tags, every metric flush, artifacts and ending (warm jobs only: a process's first
  job pays its imports). Targets: fixed cost median <= 40 ms; each sweep's wall <= 1.3 x
  (sum of its jobs' train() / workers) + 3 s; 2 workers >= 1.8x the throughput of 1; the
  1-worker sweep run again (every job FINISHED, so skipped) <= 5 s. After each 1-worker sweep
  and its re-run, `scratchnet-report --experiment <that sweep's>` from a fresh process, as
  `make demo` runs it (every figure drawn, 27 diagnoses written back), then again into the same
  folder (what the report after a re-run costs: no figure drawn, nothing written); target for
  the demo report <= 3 s. The MNIST
  `scratchnet-train` epoch's marginal cost, (11 epochs - 1 epoch) / 10 from fresh
  processes, must be <= 1.1x `train()`'s epoch in the same run.

The benchmark unsets `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` for its own process (see
the Makefile's `bench` target), so OpenBLAS picks the kernel for the actual CPU; the BLAS
line below says which it ran. The machine is shared: the load average is printed too.
"""


def write_readme(info: dict[str, str], body: str) -> None:
    text = (
        README_HEAD
        + "\n## Latest results\n\n"
        + "\n".join(f"- {k}: {v}" for k, v in info.items())
        + "\n\n"
        + body
        + "\n"
    )
    README.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: subset, fewer reps")
    parser.add_argument("--reps", type=int, help="timed rounds per figure (default 7; quick 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--train-size", type=int, help="MNIST training subset (quick: 6000)")
    parser.add_argument("--mnist", type=Path, default=MNIST, help="folder of the IDX files")
    parser.add_argument(
        "--dataset", default="mnist", help="mnist, or digits for a tiny offline run"
    )
    parser.add_argument(
        "--tracking-epochs", type=int, help="epochs per MLflow overhead run (default 10; quick 3)"
    )
    parser.add_argument(
        "--run-epochs", type=int, help="epochs per whole train() run timed (default 10; quick 3)"
    )
    parser.add_argument("--system-reps", type=int, help="subprocess runs (default 5; quick 1)")
    parser.add_argument("--sweep-reps", type=int, help="sweeps per worker count (default 5)")
    parser.add_argument(
        "--sweep-epochs", type=int, help="epochs of each sweep run (default: the study's 100)"
    )
    parser.add_argument("--skip-tracking", action="store_true", help="no MLflow overhead rows")
    parser.add_argument("--skip-system", action="store_true", help="no subprocess rows")
    parser.add_argument("--skip-sweep", action="store_true", help="no sweep rows")
    parser.add_argument(
        "--levers-only", action="store_true", help="only the optimizer/dropout/decay rows"
    )
    parser.add_argument(
        "--sweeps-only", action="store_true", help="only the sweep, job-cost and re-run rows"
    )
    parser.add_argument(
        "--readme",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rewrite benchmarks/README.md (default: only for a full run)",
    )
    args = parser.parse_args(argv)
    args.reps = args.reps or (3 if args.quick else 7)
    args.system_reps = args.system_reps or (1 if args.quick else 5)
    args.tracking_epochs = args.tracking_epochs or (3 if args.quick else 10)
    args.run_epochs = args.run_epochs or (3 if args.quick else 10)
    args.sweep_reps = args.sweep_reps or 5
    if args.quick:
        args.train_size = args.train_size or (6000 if args.dataset == "mnist" else None)
        args.skip_sweep = True
    full = not (args.quick or args.train_size or args.dataset != "mnist")
    write = full if args.readme is None else args.readme

    if args.dataset == "mnist" and not any(args.mnist.glob("train-images-idx3-ubyte*")):
        print(f"MNIST not found in {args.mnist}: benchmark skipped (pass --mnist DIR)")
        return 0
    info = machine()
    for key, value in info.items():
        print(f"{key}: {value}")
    print(f"trainer's threads: {threads_note()}")
    root = str(args.mnist) if args.dataset == "mnist" else None
    data = load_dataset(args.dataset, root=root, train_size=args.train_size)
    print(f"data: {data!r}")
    if args.levers_only:
        lever_only(data, args)
        return 0
    if args.sweeps_only:
        rows = sweep_rows(args)
        print("\n" + table(rows, math.nan, 0.0, math.nan) + "\n")
        print("\n".join(sweep_verdicts({r.name: r for r in rows})))
        return 0

    with ThreadPoolExecutor(limits.CORES) as pool:
        rows, meta = epoch_rows(data, args, pool)
    by_name = {r.name: r for r in rows}
    book = by_name["book's loop (float64)"].median
    torch_rows = [r.median for n, r in by_name.items() if n.startswith("PyTorch")]
    torch_best = min(torch_rows) if torch_rows else 0.0
    limit = meta["limit"]
    if not args.skip_tracking:
        print("MLflow overhead: runs of consecutive epochs, alternating")
        with system.scratch_store() as tmp:
            rows += tracking_rows(data, args, Path(tmp))
    if not args.skip_system and args.dataset == "mnist":
        print("whole processes: peak RSS and start-up")
        rows += system_rows(args, args.mnist)
    if not args.skip_sweep:
        print(f"sweeps: lr_batch_hidden, 1 and 2 workers, {args.sweep_reps} each")
        rows += sweep_rows(args)
    by_name = {r.name: r for r in rows}

    body = "\n".join(
        [
            f"Workload: {data!r}; {args.warmup} warm-up + {args.reps} timed rounds.",
            f"Trainer's threads: {threads_note()}.",
            "",
            table(rows, book, torch_best, limit),
            "",
            "Targets:",
            "",
            *verdicts(by_name, book, torch_best, limit),
            "",
            "Matmul limit by shape (ms per epoch, median):",
            "",
            "| product | phase | GFLOP/epoch | "
            + " | ".join(limits.SETTINGS)
            + " | best GFLOP/s |",
            "|---|---|---:|" + "---:|" * len(limits.SETTINGS) + "---:|",
            meta["detail"],
        ]
    )
    print()
    print(body)
    if write:
        write_readme(info, body)
        print(f"\nwritten to {README.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
