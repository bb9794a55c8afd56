"""Which of a parallel sweep's workers its launcher killed, so their runs end KILLED.

When one loky worker dies (SIGKILL, the OOM killer, a crash), joblib's executor is broken and
kills every other worker with SIGKILL, healthy ones included; none of them can close its run.
Told apart only here: loky's own `kill_process_tree`, the one call it kills its workers with,
is wrapped so that this process records each pid it kills. A run whose process the launcher
killed was interrupted (KILLED); the one whose process died first failed (FAILED).
"""

import logging
from typing import Any

from scratchnet.core.liveness import is_running

log = logging.getLogger("scratchnet.sweep")
_KILLED_BY_LAUNCHER: set[int] = set()


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
        return original(process, *args, **kwargs)

    kill_recorded.records_kills = True  # type: ignore[attr-defined]
    process_executor.kill_process_tree = kill_recorded


def killed_by_launcher() -> frozenset[int]:
    """The pids of the workers this process's launcher has killed so far."""
    return frozenset(_KILLED_BY_LAUNCHER)
