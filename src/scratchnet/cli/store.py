"""`scratchnet-store`: relocate, back up and check a local tracking store."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scratchnet.cli.errors import run_cli
from scratchnet.cli.report import Parser

PROG = "scratchnet-store"
EXIT_PROBLEMS = 1
EPILOG = """\
examples:
  scratchnet-store check                              # the repo's store: exit 0 clean, 1 not
  scratchnet-store relocate --store ~/copy/mlruns     # a copy: point it at its own artifacts
  scratchnet-store backup /backups/mlruns-2026-12-01  # consistent while runs are writing

A store copied or moved elsewhere still records its artifacts where it was made; scratchnet
relocates a moved store when it opens it, and refuses a copy until `relocate` is run on it.
"""


def parser() -> argparse.ArgumentParser:
    """The command line: relocate, backup and check, each with --store."""
    p = Parser(
        prog=PROG,
        description="Relocate, back up and check a local MLflow tracking store (SQLite).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    store_help = "the store: its folder, its mlflow.db or a sqlite:/// URI (default: the repo's)"
    relocate = commands.add_parser(
        "relocate", help="point the store's artifact locations into its own folder"
    )
    relocate.add_argument(
        "--if-moved",
        action="store_true",
        help="only as opening does: relocate a moved store, refuse a copy (make ui uses this)",
    )
    backup = commands.add_parser("backup", help="copy the store into DEST, consistently")
    backup.add_argument("dest", metavar="DEST", type=Path, help="a new or empty folder")
    commands.add_parser("check", help="report what is wrong, one line each (exit 1 if any)")
    for sub in (relocate, backup, commands.choices["check"]):
        sub.add_argument("--store", default=None, metavar="PATH", help=store_help)
    return p


def say(text: str) -> None:
    print(f"{PROG}: {text}")


def relocate_command(args: argparse.Namespace) -> None:
    from scratchnet.tracking.maintenance import relocate_explicitly, relocate_if_moved, store_db
    from scratchnet.tracking.relocation import plural

    db = store_db(args.store, must_exist=not args.if_moved)
    if args.if_moved:  # a moved store is relocated with one line said, a copy refused
        relocate_if_moved(db)
        return
    done, missing = relocate_explicitly(db)
    old = ", ".join(done.old_roots) or "where they were"
    if not done.changed:
        say(f"nothing to relocate: every artifact location of {db.parent} is inside it")
    else:
        say(f"relocated {done.counts()} of {db.parent} from {old} into it")
    if missing:
        say(
            f"{plural(len(missing), 'run')} without artifacts in {db.parent}: copy them there "
            f"from {old}; `{PROG} check` lists them"
        )


def backup_command(args: argparse.Namespace) -> None:
    from scratchnet.tracking.backup import backup
    from scratchnet.tracking.maintenance import store_db

    db = store_db(args.store)
    done = backup(db, args.dest)
    integrity = "ok" if not done.problems else f"{len(done.problems)} problems"
    say(
        f"backed up {db.parent} to {done.dest}: {done.runs} runs, {done.metric_rows} metric "
        f"rows, {done.files} artifact files; integrity {integrity}"
    )
    if done.outside:
        say(f"{done.outside} runs or models had artifacts outside {db.parent}: not copied")
    for problem in done.problems:
        print(f"integrity: {problem}")
    if done.problems:
        sys.exit(EXIT_PROBLEMS)


def check_command(args: argparse.Namespace) -> None:
    from scratchnet.tracking.health import check_store
    from scratchnet.tracking.maintenance import store_db
    from scratchnet.tracking.relocation import plural

    db = store_db(args.store)
    problems = check_store(db)
    for problem in problems:
        print(problem.line())
    if problems:
        print(f"{PROG}: {plural(len(problems), 'problem')} in {db.parent}", file=sys.stderr)
        sys.exit(EXIT_PROBLEMS)
    print(f"{PROG}: {db.parent} is clean", file=sys.stderr)


COMMANDS = {"relocate": relocate_command, "backup": backup_command, "check": check_command}


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: usage errors are one line and exit 2; problems found exit 1."""
    args = parser().parse_args(argv)

    def entry() -> None:
        from scratchnet.tracking.store import store_errors

        with store_errors():  # MLflow's own errors (not a tracking store) as one line too
            COMMANDS[args.command](args)

    run_cli(PROG, entry)


if __name__ == "__main__":
    main()
