"""A sweep's timeline: when each process started, and when each of its steps began and ended.

    scratchnet-train -m ... +hydra.callbacks.timeline._target_=benchmarks.timeline.Timeline \\
        +hydra.callbacks.timeline.out=/tmp/timeline.jsonl
    python -m benchmarks.timeline /tmp/timeline.jsonl      # the timeline, and where time went

A Hydra callback (the repository must be on PYTHONPATH, as `benchmarks.run` sets it): in the
launching process it wraps the sweep's steps (the pre-flight check, the resume lookup, the
parent run, the launcher, the summary) and the joblib launcher's job and warm-up functions,
which then carry the tracing into each worker: there it wraps a job's steps (composing, the
run, train(), every store call). Each span is one JSON line: pid, name, start, end (seconds
since the epoch); each process's start time comes from /proc.
"""

import atexit
import functools
import gc
import importlib
import importlib.util
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

OUT_ENV = "SCRATCHNET_TIMELINE"  # where workers write, inherited from the launching process
LAUNCHER_STEPS = (
    "scratchnet.sweep.callback:check_sweep",
    "scratchnet.sweep.resume:look_up",
    "scratchnet.sweep.resume:Lookup.link",
    "scratchnet.sweep.callback:start_workers",
    "scratchnet.sweep.parent:open_sweep",
    "scratchnet.sweep.parent:open_experiment",
    "scratchnet.sweep.parent:claim_sweep",
    "scratchnet.sweep.parent:hold_lease",
    "scratchnet.sweep.parent:find_sweep_parent",
    "scratchnet.sweep.parent:resume_parent",
    "scratchnet.sweep.parent:create_parent",
    "scratchnet.sweep.parent:close_sweep",
    "scratchnet.tracking.sweeps:children",
    "scratchnet.tracking.sweeps:members",
    "scratchnet.tracking.sweeps:summarize",
    "scratchnet.tracking.sweeps:log_summary",
    "scratchnet.tracking.sweeps:end_casualties",
    "scratchnet.tracking.sweeps:finished_twins",
    "scratchnet.tracking.store:resolve_uri",
    "scratchnet.sweep.grid:GridSweeper.validate_batch_is_legal",
    "hydra_plugins.hydra_joblib_launcher._core:launch",
    "scratchnet.sweep.grid:SkippedJobs.launch",
)
JOB_STEPS = (
    "hydra.core.utils:run_job",
    "scratchnet.sweep.check:SharedCompositions.load_sweep_config",
    "scratchnet.sweep.job:sweep_job",
    "scratchnet.tracking.run:run",
    "scratchnet.tracking.run:train",
    "scratchnet.tracking.run:record_outcome",
    "scratchnet.tracking.recorder:RunRecorder.start",
    "scratchnet.tracking.recorder:RunRecorder.send",
    "scratchnet.tracking.recorder:RunRecorder.log_inputs",
    "scratchnet.tracking.recorder:RunRecorder.staged_artifacts",
    "scratchnet.tracking.recorder:RunRecorder.end",
    "scratchnet.tracking.run:load_data",
    "scratchnet.tracking.run:open_for_run",
    "scratchnet.tracking.run:write_model",
    # Hydra's own work around each job (run_job and the joblib launcher's execute_job)
    "hydra.core.hydra_config:HydraConfig.set_config",
    "hydra.core.utils:configure_log",
    "hydra.core.utils:_save_config",
    "omegaconf.omegaconf:OmegaConf.to_yaml",
)
_TRACED: set[str] = set()
_ORIGINAL: dict[str, Any] = {}  # what the launching process replaced (its jobs call them)
_IMPORTED = time.time()  # in a worker: when its first task (warm-up or job) was unpickled


def process_start() -> float:
    """This process's start (seconds since the epoch), from /proc (10 ms steps)."""
    ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


def emit(name: str, start: float, end: float) -> None:
    out = os.environ.get(OUT_ENV)
    if out:
        line = json.dumps({"pid": os.getpid(), "name": name, "start": start, "end": end})
        with open(out, "a") as f:
            f.write(line + "\n")


def _spanned(fn: Any, name: str) -> Any:
    if getattr(fn, "_spanned", False):
        return fn
    if name.endswith("staged_artifacts"):  # a context manager: time the whole block

        @functools.wraps(fn)
        def cm(*args, **kwargs):
            import contextlib

            @contextlib.contextmanager
            def timed():
                start = time.time()
                try:
                    with fn(*args, **kwargs) as value:
                        yield value
                finally:
                    emit(name, start, time.time())

            return timed()

        cm._spanned = True  # type: ignore[attr-defined]
        return cm

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = time.time()
        try:
            return fn(*args, **kwargs)
        finally:
            emit(name, start, time.time())

    wrapper._spanned = True  # type: ignore[attr-defined]
    return wrapper


def trace(targets: tuple[str, ...]) -> None:
    """Wrap each `module:Qual.name` in this process (once)."""
    for target in targets:
        if target in _TRACED:
            continue
        module_name, qual = target.split(":")
        owner: Any = importlib.import_module(module_name)
        *path, attr = qual.split(".")
        for part in path:
            owner = getattr(owner, part)
        short = qual if len(path) else f"{module_name.rsplit('.', 1)[-1]}.{qual}"
        setattr(owner, attr, _spanned(getattr(owner, attr), short))
        _TRACED.add(target)


_GC = {"start": 0.0, "young": 0.0}


def _gc_span(phase: str, info: dict) -> None:
    """Each full collection as a span; the younger generations' time summed (emitted at exit)."""
    now = time.time()
    if phase == "start":
        _GC["start"] = now
    elif info["generation"] == 2:
        emit("gc, full collection", _GC["start"], now)
    else:
        _GC["young"] += now - _GC["start"]


def _gc_total() -> None:
    now = time.time()
    emit("gc, generations 0-1 (total, as one span)", now - _GC["young"], now)


def _in_process() -> None:
    if "process" not in _TRACED:
        _TRACED.add("process")
        start = process_start()
        emit("process", start, start)
        gc.callbacks.append(_gc_span)
        atexit.register(_gc_total)
        atexit.register(lambda: emit("atexit, last handler", time.time(), time.time()))


def traced_execute_job(*args: Any, **kwargs: Any) -> Any:
    """The joblib launcher's job function, in a span (and the job's steps traced)."""
    _in_process()
    trace(JOB_STEPS)
    from hydra_plugins.hydra_joblib_launcher import _core

    execute_job = _ORIGINAL.get("execute_job", _core.execute_job)  # a worker's is unreplaced
    start = time.time()
    try:
        return execute_job(*args, **kwargs)
    finally:
        emit("execute_job", start, time.time())


def traced_warm_up(*args: Any, **kwargs: Any) -> Any:
    """scratchnet's worker warm-up, in a span."""
    start = time.time()
    _in_process()
    emit("benchmarks.timeline imported (the task unpickled)", _IMPORTED, _IMPORTED)
    from scratchnet.sweep import workers

    warm_up_worker = _ORIGINAL.get("warm_up_worker", workers.warm_up_worker)
    try:
        return warm_up_worker(*args, **kwargs)
    finally:
        emit("warm_up_worker", start, time.time())
        trace(JOB_STEPS)  # after: its imports are the warm-up's


class Timeline(Callback):
    """Traces the launching process from the moment Hydra makes its callbacks."""

    def __init__(self, out: str) -> None:
        os.environ[OUT_ENV] = out
        _in_process()
        trace(LAUNCHER_STEPS)
        from scratchnet.sweep import workers

        _ORIGINAL.setdefault("warm_up_worker", workers.warm_up_worker)
        workers.__dict__["warm_up_worker"] = traced_warm_up
        if "hydra_plugins.hydra_joblib_launcher._core" in sys.modules or _has_joblib():
            from hydra_plugins.hydra_joblib_launcher import _core

            _ORIGINAL.setdefault("execute_job", _core.execute_job)
            _core.__dict__["execute_job"] = traced_execute_job

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        emit("on_multirun_start (callbacks after scratchnet's)", time.time(), time.time())

    def on_job_start(self, config: Any, **kwargs: Any) -> None:
        trace(JOB_STEPS)  # where jobs run in the launching process (one worker), from now on
        self._job = time.time()

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        emit("job (on_job_start..on_job_end)", self._job, time.time())

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        emit("on_multirun_end (callbacks before scratchnet's)", time.time(), time.time())
        atexit.register(lambda: emit("atexit, first handler", time.time(), time.time()))


def _has_joblib() -> bool:
    return importlib.util.find_spec("hydra_plugins.hydra_joblib_launcher") is not None


# ---------------------------------------------------------------- reading a timeline


def load(path: str) -> list[dict]:
    return [json.loads(x) for x in Path(path).read_text().splitlines() if x]


def summary(spans: list[dict]) -> str:
    """Per process: each span's start and length relative to the launching process's start;
    repeated spans (per job) summed; the idle time between a worker's jobs."""
    launcher = min((s for s in spans if s["name"] == "process"), key=lambda s: s["start"])
    t0 = launcher["start"]
    by_pid: dict[int, list[dict]] = defaultdict(list)
    for s in spans:
        by_pid[s["pid"]].append(s)
    lines = []
    for pid in sorted(by_pid, key=lambda p: min(s["start"] for s in by_pid[p])):
        own = sorted(by_pid[pid], key=lambda s: (s["start"], -s["end"]))
        role = "launching process" if pid == launcher["pid"] else "worker"
        lines.append(f"\n== pid {pid} ({role})")
        counts: dict[str, list[float]] = defaultdict(list)
        for s in own:
            counts[s["name"]].append(s["end"] - s["start"])
        shown = set()
        for s in own:
            n = s["name"]
            if len(counts[n]) == 1:
                lines.append(f"  {s['start'] - t0:7.2f} s  {n:<48} {s['end'] - s['start']:7.3f} s")
            elif n not in shown:
                shown.add(n)
                total, k = sum(counts[n]), len(counts[n])
                lines.append(
                    f"  {s['start'] - t0:7.2f} s  {n:<48} {k:3d}x, total {total:6.2f} s, "
                    f"median {sorted(counts[n])[k // 2] * 1000:6.1f} ms"
                )
        jobs = sorted((s for s in own if s["name"] == "execute_job"), key=lambda s: s["start"])
        if jobs:
            idle = sum(b["start"] - a["end"] for a, b in zip(jobs, jobs[1:], strict=False))
            first, last = jobs[0]["start"] - t0, jobs[-1]["end"] - t0
            lines.append(f"  first job at {first:.2f} s, last ends {last:.2f} s; idle {idle:.2f} s")
    end = max(s["end"] for s in spans)
    lines.append(f"\nlast span ends at {end - t0:.2f} s after the launching process started")
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(load(sys.argv[1])))
