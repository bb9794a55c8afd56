"""Which of a parallel sweep's workers died and which its launcher killed, so that their runs
end FAILED and KILLED, and the user reads one line naming the worker that died.

When one loky worker dies (SIGKILL, the OOM killer, a crash), joblib's executor is broken and
kills every other worker with SIGKILL, healthy ones included; none of them can close its run.
Told apart only here: loky's own `kill_process_tree`, the one call it kills its workers with,
is wrapped so that this process records each pid it kills, and which were dead already. A run
whose process the launcher killed was interrupted (KILLED); the one whose process died first
failed (FAILED). loky's TerminatedWorkerError (a traceback of the launcher's threads) becomes
`WorkerDied`: one line, exit 1.
"""

import logging
import signal
from collections.abc import Mapping
from typing import Any

from scratchnet.core.errors import RuntimeFailure
from scratchnet.core.liveness import is_running

log = logging.getLogger("scratchnet.sweep")
_KILLED_BY_LAUNCHER: set[int] = set()
_FOUND_DEAD: dict[int, int | None] = {}  # pid -> exit code, of workers dead before the kill
_RUN_NAMES: dict[int, str] = {}  # pid -> the run its worker was training, once known


class WorkerDied(RuntimeFailure):
    """A parallel sweep's worker died, and the launcher stopped the others (exit 1)."""


def record_launcher_kills() -> None:
    """Wrap loky's `process_executor.kill_process_tree` (once per process) to record pids."""
    try:
        from joblib.externals.loky import process_executor
    except ImportError:  # no joblib: no loky workers to tell apart
        return
    original = getattr(process_executor, "kill_process_tree", None)
    if original is None or getattr(original, "records_kills", False):
        if original is None:
            log.debug("loky has no kill_process_tree: killed siblings will read FAILED")
        return

    def kill_recorded(process: Any, *args: Any, **kwargs: Any) -> Any:
        if is_running(process.pid):  # the worker that died first is in loky's list too
            _KILLED_BY_LAUNCHER.add(int(process.pid))
        else:
            _FOUND_DEAD[int(process.pid)] = getattr(process, "exitcode", None)
        return original(process, *args, **kwargs)

    kill_recorded.records_kills = True  # type: ignore[attr-defined]
    process_executor.kill_process_tree = kill_recorded


def killed_by_launcher() -> frozenset[int]:
    """The pids of the workers this process's launcher has killed so far."""
    return frozenset(_KILLED_BY_LAUNCHER)


def name_runs(names: Mapping[int, str]) -> None:
    """Remember which run each dead worker (by pid) was training, as the sweep's end found."""
    _RUN_NAMES.update(names)


def _exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            pass
    return "exit code unknown" if code is None else f"exit code {code}"


def worker_death(err: BaseException) -> WorkerDied | None:
    """loky's TerminatedWorkerError as one line naming the dead worker and its run; None for
    any other error."""
    try:
        from joblib.externals.loky.process_executor import TerminatedWorkerError
    except ImportError:
        return None
    if not isinstance(err, TerminatedWorkerError):
        return None
    dead = [
        f"pid {pid} ({_exit(code)}; run {_RUN_NAMES.get(pid, 'unknown')!r})"
        for pid, code in sorted(_FOUND_DEAD.items())
    ]
    stopped = len(_KILLED_BY_LAUNCHER)
    return WorkerDied(
        f"a sweep worker died: {', '.join(dead) or 'pid unknown'}; its run ended FAILED and "
        f"the launcher stopped the {stopped} other worker(s), their runs KILLED. Run the same "
        "command again to finish the sweep (sweep.resume)"
    )
