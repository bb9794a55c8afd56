#!/usr/bin/env python3
"""A shared MLflow tracking server: PostgreSQL backend store, proxied artifacts, on 127.0.0.1.

    python scripts/server.py start     # initdb (first time), postgres, mlflow server; detached
    python scripts/server.py status    # what runs where (exit 0 if all up, 3 if not)
    python scripts/server.py stop      # stops both; nothing is left running

Everything lives in one folder (default `<repo>/.server`, git-ignored): `pg/data` (the
cluster), `pg/socket` (its unix socket), `pg/password`, `artifacts/`, the logs and
`server.json` (ports and pids). Run as root, PostgreSQL runs as the `postgres` user (initdb
refuses root), so that user must be able to reach the folder. `--basic-auth` runs MLflow's
basic-auth app (users and permissions in `auth/basic_auth.db`; the `admin` password is made
once and kept in `auth/admin_password`). Arguments after `--` go to `mlflow server` as they
are (e.g. `-- --allowed-hosts mlflow.example.org`).
"""

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DB_USER = "mlflow"
DB_NAME = "mlflow"
PG_OS_USER = "postgres"
EXIT_STOPPED = 3


class ServerError(Exception):
    """A failure the user can act on, reported as one line."""


@dataclass
class State:
    """What `start` launched, saved in `<dir>/server.json` for `status` and `stop`."""

    host: str
    port: int
    pg_port: int
    mlflow_pid: int | None = None
    basic_auth: bool = False

    @property
    def uri(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class Layout:
    """The paths of one server folder."""

    root: Path

    @property
    def pg(self) -> Path:
        return self.root / "pg"

    @property
    def data(self) -> Path:
        return self.pg / "data"

    @property
    def socket(self) -> Path:
        return self.pg / "socket"

    @property
    def password(self) -> Path:
        return self.pg / "password"

    @property
    def pg_log(self) -> Path:
        return self.pg / "postgres.log"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def mlflow_log(self) -> Path:
        return self.root / "mlflow.log"

    @property
    def state(self) -> Path:
        return self.root / "server.json"

    @property
    def auth(self) -> Path:
        return self.root / "auth"


def pg_bindir() -> Path:
    """The newest PostgreSQL's binaries ($PG_BINDIR, else /usr/lib/postgresql/*/bin)."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServerError("PostgreSQL not found: apt-get install postgresql (or set PG_BINDIR)")


def as_pg_user(cmd: list[str]) -> list[str]:
    """`cmd` run as the `postgres` user when we are root (PostgreSQL refuses root)."""
    return ["runuser", "-u", PG_OS_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def pg(tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool (initdb, pg_ctl, psql, ...) as the cluster's owner."""
    cmd = as_pg_user([str(pg_bindir() / tool), *args])
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise ServerError(f"{tool} failed: {(done.stderr or done.stdout).strip()}")
    return done


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, pgrp, ...)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id exists and is not a zombie."""
    fields = proc_stat(pid) if pid else None
    return fields is not None and fields[0] != "Z"


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of the process group `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = proc_stat(int(entry.name))
            if fields and fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def reap(pid: int | None) -> None:
    """Collect `pid`'s exit status if it is our child (else a no-op)."""
    if pid:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def load_state(layout: Layout) -> State | None:
    if not layout.state.exists():
        return None
    return State(**json.loads(layout.state.read_text()))


def save_state(layout: Layout, state: State) -> None:
    layout.state.write_text(json.dumps(asdict(state), indent=2) + "\n")


def postmaster_pid(layout: Layout) -> int | None:
    """The running postmaster's pid from `postmaster.pid`, else None."""
    try:
        pid = int((layout.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


def init_cluster(layout: Layout) -> None:
    """initdb a private cluster: superuser `mlflow`, password on TCP, trust on the socket."""
    layout.pg.mkdir(mode=0o700, parents=True, exist_ok=True)
    layout.socket.mkdir(mode=0o700, exist_ok=True)
    secret_file(layout.password)
    if os.geteuid() == 0:
        for path in (layout.pg, layout.socket, layout.password):
            shutil.chown(path, PG_OS_USER, PG_OS_USER)
        if subprocess.run(as_pg_user(["test", "-w", str(layout.pg)])).returncode != 0:
            raise ServerError(
                f"the {PG_OS_USER} user cannot reach {layout.pg}: use a --dir whose parent "
                "folders are world-executable (not under a mode-700 folder such as /root)"
            )
    pg(
        "initdb",
        "-D",
        str(layout.data),
        "-U",
        DB_USER,
        f"--pwfile={layout.password}",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
    )


def start_postgres(layout: Layout, port: int) -> None:
    """pg_ctl start on 127.0.0.1:port with the socket in the folder; creates the database."""
    if postmaster_pid(layout) is None:
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {layout.socket}"
        pg("pg_ctl", "start", "-w", "-t", "60", "-D", str(layout.data), "-l", str(layout.pg_log),
           "-o", options)  # fmt: skip
    query = f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"
    sock = ("-h", str(layout.socket), "-p", str(port), "-U", DB_USER)
    found = pg("psql", *sock, "-d", "postgres", "-tAc", query).stdout.strip()
    if found != "1":
        pg("createdb", *sock, DB_NAME)


def stop_postgres(layout: Layout) -> None:
    """pg_ctl stop (fast: disconnects clients), waiting until the postmaster is gone."""
    if postmaster_pid(layout) is not None:
        pg("pg_ctl", "stop", "-w", "-t", "60", "-m", "fast", "-D", str(layout.data))


def backend_uri(pg_port: int) -> str:
    """SQLAlchemy URI of the cluster over TCP (the password comes from $PGPASSWORD)."""
    return f"postgresql+psycopg://{DB_USER}@127.0.0.1:{pg_port}/{DB_NAME}"


def secret_file(path: Path) -> str:
    """The secret kept in `path` (mode 600), made on first use."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


def basic_auth_env(layout: Layout) -> dict[str, str]:
    """Environment for `mlflow server --app-name basic-auth`: config, admin password, CSRF key."""
    ini = layout.auth / "basic_auth.ini"
    password = secret_file(layout.auth / "admin_password")
    ini.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{layout.auth / 'basic_auth.db'}\n"
        "admin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        # Without a cache every request re-hashes the password (PBKDF2): ~0.3 s a call.
        "auth_cache_ttl_seconds = 60\n"
    )
    return {
        "MLFLOW_AUTH_CONFIG_PATH": str(ini),
        "MLFLOW_AUTH_ADMIN_PASSWORD": password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secret_file(layout.auth / "secret_key"),
    }


def start_mlflow(layout: Layout, state: State, workers: int, extra: list[str]) -> int:
    """`mlflow server` detached in its own process group; returns its pid."""
    if port_open(state.host, state.port):
        raise ServerError(f"{state.host}:{state.port} is already in use: pass --port")
    layout.artifacts.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", backend_uri(state.pg_port),
        "--artifacts-destination", str(layout.artifacts),
        "--host", state.host,
        "--port", str(state.port),
        "--workers", str(workers),
        *(["--app-name", "basic-auth"] if state.basic_auth else []),
        *extra,
    ]  # fmt: skip
    env = {
        **os.environ,
        "PGPASSWORD": layout.password.read_text().strip(),
        # MLflow's GenAI job runner (huey consumers) is of no use here and costs 7 processes.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        **(basic_auth_env(layout) if state.basic_auth else {}),
    }
    with layout.mlflow_log.open("ab") as log:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True
        )
    return proc.pid


def wait_healthy(state: State, timeout: float) -> None:
    """Poll `/health` until the server answers OK, its process dies or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(state.mlflow_pid):
            reap(state.mlflow_pid)
            raise ServerError("mlflow server exited during start-up")
        try:
            with urllib.request.urlopen(f"{state.uri}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise ServerError(f"mlflow server not healthy after {timeout:.0f} s")


def ours(pid: int, layout: Layout) -> bool:
    """Whether the live process `pid` is this folder's mlflow server (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return str(layout.artifacts) in cmdline


def stop_group(pid: int | None, grace: float = 20.0) -> None:
    """SIGTERM the process group `pid` leads, then SIGKILL whatever is left after `grace` s."""
    if not pid or not group_members(pid):
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            reap(pid)
            if not group_members(pid):
                return
            time.sleep(0.1)
    raise ServerError(f"processes of group {pid} survived SIGKILL: {group_members(pid)}")


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start(layout: Layout, args: argparse.Namespace) -> int:
    """Start PostgreSQL then MLflow (each only if not already running); wait until healthy."""
    layout.root.mkdir(parents=True, exist_ok=True)
    old = load_state(layout)
    mlflow_up = bool(old and pid_alive(old.mlflow_pid))
    if mlflow_up and postmaster_pid(layout):
        print(f"already running: {old.uri if old else ''}")
        return 0
    if mlflow_up or postmaster_pid(layout):
        stop(layout)  # half up: start both afresh
    pg_port = args.pg_port or (old.pg_port if old else None) or free_port()
    state = State(host=args.host, port=args.port, pg_port=pg_port, basic_auth=args.basic_auth)
    if not (layout.data / "PG_VERSION").exists():
        init_cluster(layout)
    save_state(layout, state)
    try:
        start_postgres(layout, pg_port)
        state.mlflow_pid = start_mlflow(layout, state, args.workers, args.extra)
        save_state(layout, state)
        wait_healthy(state, args.timeout)
    except (ServerError, OSError) as err:
        stop(layout)
        raise ServerError(f"{err}\n--- {layout.mlflow_log} ---\n{tail(layout.mlflow_log)}") from err
    print(f"MLflow tracking server: {state.uri}  (PostgreSQL on 127.0.0.1:{pg_port})")
    print(f"use it with: scratchnet-train tracking=server tracking.uri={state.uri}")
    if state.basic_auth:
        print(
            "basic auth: export MLFLOW_TRACKING_USERNAME=admin "
            f"MLFLOW_TRACKING_PASSWORD=$(cat {layout.auth / 'admin_password'})"
        )
    return 0


def stop(layout: Layout) -> int:
    """Stop MLflow (its whole process group) and PostgreSQL; report what was stopped."""
    state = load_state(layout)
    if state is not None:
        # A live leader must be our server; a dead one's pid cannot be reused while its group
        # (orphaned uvicorn workers) lives, so the group's members are ours then.
        if state.mlflow_pid and (not pid_alive(state.mlflow_pid) or ours(state.mlflow_pid, layout)):
            stop_group(state.mlflow_pid)
        state.mlflow_pid = None
        save_state(layout, state)
    if (layout.data / "PG_VERSION").exists():
        stop_postgres(layout)
    print("stopped")
    return 0


def status(layout: Layout, as_json: bool) -> int:
    """Print the state of both servers; exit 0 when both run, 3 otherwise."""
    state = load_state(layout)
    mlflow_pid = state.mlflow_pid if state and pid_alive(state.mlflow_pid) else None
    report = {
        "uri": state.uri if state else None,
        "host": state.host if state else None,
        "port": state.port if state else None,
        "pg_port": state.pg_port if state else None,
        "mlflow_pid": mlflow_pid,
        "postgres_pid": postmaster_pid(layout),
        "basic_auth": state.basic_auth if state else None,
        "dir": str(layout.root),
    }
    up = bool(report["mlflow_pid"] and report["postgres_pid"])
    if as_json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:12} {value if value is not None else '-'}")
        print("running" if up else "not running")
    return 0 if up else EXIT_STOPPED


def parse(argv: list[str]) -> argparse.Namespace:
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    env = os.environ.get
    p = argparse.ArgumentParser(prog="server.py", description=__doc__.splitlines()[0])
    # fmt: off
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--dir", type=Path, default=Path(env("SERVER_DIR", REPO / ".server")),
                   help="the server's folder (default: <repo>/.server)")
    p.add_argument("--host", default=env("SERVER_HOST", "127.0.0.1"),
                   help="MLflow's interface (default 127.0.0.1; another needs --basic-auth)")
    p.add_argument("--port", type=int, default=int(env("SERVER_PORT", "5000")),
                   help="MLflow's port (default 5000)")
    p.add_argument("--pg-port", type=int, default=int(env("SERVER_PG_PORT", "0")) or None,
                   help="PostgreSQL's port on 127.0.0.1 (default: free, then remembered)")
    p.add_argument("--workers", type=int, default=int(env("SERVER_WORKERS", "2")),
                   help="MLflow's worker processes (default 2)")
    p.add_argument("--timeout", type=float, default=180.0, help="start-up limit, seconds")
    p.add_argument("--basic-auth", action="store_true", help="MLflow's basic-auth app")
    p.add_argument("--json", action="store_true", help="status as one JSON line")
    # fmt: on
    args = p.parse_args(argv)
    args.extra = extra
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    layout = Layout(args.dir.resolve())
    try:
        if args.action == "start":
            return start(layout, args)
        if args.action == "stop":
            return stop(layout)
        return status(layout, args.json)
    except ServerError as err:
        print(f"server.py: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
