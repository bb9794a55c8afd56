"""How a sweep job knows whether it runs in the launching process or in a worker beside
others (a joblib, submitit or Ray worker), where its progress bar would interleave."""

import os

from scratchnet.tracking.names import LAUNCHER_PID_ENV


def mark_launcher() -> None:
    """Note this process as the sweep's launching one, in the environment its workers inherit."""
    os.environ[LAUNCHER_PID_ENV] = str(os.getpid())


def in_worker() -> bool:
    """True for a sweep job outside the launching process, where jobs may run side by side;
    the launching process runs its jobs one at a time."""
    return os.environ.get(LAUNCHER_PID_ENV) != str(os.getpid())
