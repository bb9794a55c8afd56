"""Which process owns a run or a sweep, and whether that process is provably gone.

An owner is recorded as one line, `host=<name> pid=<n> start=<ticks> machine=<id>`: the
process's start time (clock ticks after boot, from /proc) tells a live owner from a reused
pid, and `machine` (the kernel's boot id and pid namespace) tells whether a pid can be looked
up here at all. On the same machine an owner is dead when its pid is gone or belongs to a
process started at another time; elsewhere only its heartbeat can say, and it is dead once the
heartbeat is older than the timeout. Anything else (no owner recorded, an unreadable one, a
machine without /proc) is "unknown", which nothing treats as dead.
"""

import functools
import os
import socket
from dataclasses import dataclass
from pathlib import Path

ALIVE, DEAD, UNKNOWN = "alive", "dead", "unknown"
# Owners elsewhere beat every HEARTBEAT_SECONDS; one silent for STALE_SECONDS is dead. Ten
# missed beats: generous for clock skew between hosts and a store slow to answer.
HEARTBEAT_SECONDS = 15.0
STALE_SECONDS = 150.0


@dataclass(frozen=True)
class Owner:
    """A process as a run or lease records it."""

    host: str
    pid: int
    start: str  # clock ticks after boot when it started; "" where /proc is missing
    machine: str  # boot id + pid namespace; "" where /proc is missing

    def encode(self) -> str:
        """The one-line form stored in a tag."""
        return f"host={self.host} pid={self.pid} start={self.start} machine={self.machine}"

    def describe(self) -> str:
        """How a message names it: `pid 123 on host node1`."""
        return f"pid {self.pid} on host {self.host}"


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat from field 3 (the state) on; [] if there is no such process."""
    stat = _read(f"/proc/{pid}/stat")
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return stat.rsplit(")", 1)[-1].split() if stat else []


def start_ticks(pid: int) -> str:
    """When process `pid` started (field 22 of /proc/<pid>/stat), or "" if it does not exist."""
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


@functools.cache
def machine_id() -> str:
    """This kernel's boot id and this process's pid namespace: where a pid means one process."""
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{boot}/{namespace.removeprefix('pid:')}" if boot else ""


def current_owner() -> Owner:
    """This process as an owner (reads three small /proc files, once per process)."""
    return _owner_of(os.getpid())


@functools.cache
def _owner_of(pid: int) -> Owner:
    return Owner(socket.gethostname(), pid, start_ticks(pid), machine_id())


def parse_owner(text: str | None) -> Owner | None:
    """An owner from its tag, or None when absent or unreadable."""
    if not text:
        return None
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    try:
        return Owner(fields["host"], int(fields["pid"]), fields["start"], fields["machine"])
    except (KeyError, ValueError):
        return None


def is_running(pid: int) -> bool:
    """Whether process `pid` exists on this machine and has not exited (not a zombie)."""
    fields = _stat(pid)
    return bool(fields) and fields[0] not in ("Z", "X")


def pid_state(owner: Owner) -> str:
    """On this machine: ALIVE when its pid runs the process that started then, else DEAD."""
    fields = _stat(owner.pid)
    if len(fields) <= 19 or fields[0] in ("Z", "X"):  # gone, or a zombie not yet reaped
        return DEAD
    if owner.start and fields[19] != owner.start:
        return DEAD  # the pid was reused by a later process
    return ALIVE


def owner_state(owner: Owner | None, last_sign_ms: int | None, now_ms: int) -> str:
    """ALIVE, DEAD or UNKNOWN; `last_sign_ms` is the owner's newest heartbeat (or start)."""
    if owner is None:
        return UNKNOWN
    here = current_owner()
    if owner.machine and owner.machine == here.machine and owner.host == here.host:
        return pid_state(owner)
    if last_sign_ms is None:
        return UNKNOWN
    return DEAD if now_ms - last_sign_ms > STALE_SECONDS * 1000 else ALIVE
