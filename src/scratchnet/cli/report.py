"""`scratchnet-report`: the overfitting analysis of a sweep (or a run, or two sweeps compared),
as HTML + Markdown + PNGs."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from scratchnet.analysis.thresholds import Thresholds, parse_thresholds
from scratchnet.cli.errors import EXIT_USAGE, run_cli
from scratchnet.core.paths import default_tracking_uri, repo_root, tracking_uri

PROG = "scratchnet-report"
EPILOG = """\
examples:
  scratchnet-report --experiment lr_batch_hidden             # latest sweep of the study
  scratchnet-report --experiment capacity --sweep 3f2a9c01   # a sweep by parent-run id prefix
  scratchnet-report --experiment capacity --sweep latest~1   # the sweep before the latest
  scratchnet-report --experiment train_size --threshold overfit_gap_acc=0.1 --no-write
  scratchnet-report --experiment lr_batch_hidden --export out/   # + runs.csv, history.csv
  scratchnet-report --run 8c1f0e2a                     # one run: curves, diagnosis, provenance
  scratchnet-report --compare 3f2a9c01 77d0be14        # two sweeps, by parent-run id (prefix)
  scratchnet-report --experiment capacity --compare latest~1 latest

A sweep report covers every member of the sweep: its child runs and the FINISHED runs of
earlier sweeps it reused (same config, not re-run); attempts superseded by a later attempt of
the same config (after Ctrl-C and resume) are listed apart and counted nowhere. Where configs
repeat over seeds, tables give means with 95% confidence intervals (Student t) and each factor
gets statements saying whether its differences are resolved by the seeds run. An experiment
with runs but no sweep gets a one-run report of its newest run.

Writes report.html (self-contained), report.md and the figures as PNGs; unless --no-write,
also writes each run's diagnosis back to it (metrics best_epoch, best_val_acc,
test_acc_at_best, gap_acc_final, gap_acc_max, gap_loss_final, overfit_onset, ...; tags
overfit.verdict, overfit.selection) and logs the report as artifacts of the sweep's parent run
(or the run) under report/. --compare only reads. Every choice (best epoch, ranking, verdicts,
statements) is made on the validation split; test is reported at the chosen epoch.
Rebuilding from the same store gives the same bytes.

thresholds (NAME=VALUE; defaults):
"""


STORE_RULE = (
    "the default is $SCRATCHNET_TRACKING_URI, else $MLFLOW_TRACKING_URI, else mlruns/mlflow.db "
    "in the checkout when run from one, else in the current folder"
)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (like every scratchnet error) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    """The command line: what to report on, where, the store, thresholds."""
    defaults = "\n".join(f"  {k}={v:g}" for k, v in Thresholds().as_dict().items())
    p = Parser(
        prog=PROG,
        description="Diagnose overfitting in a sweep recorded in MLflow and write a report.",
        epilog=EPILOG + defaults,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--experiment", help="MLflow experiment (the study's name)")
    p.add_argument(
        "--sweep",
        default="latest",
        help="'latest' (default), 'latest~N' (N before it), a parent run id or prefix, a sweep id",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--run", metavar="RUN_ID", help="a one-run report (a run id or prefix)")
    mode.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="compare two sweeps (parent run ids or prefixes, sweep ids; latest~N with "
        "--experiment)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"output folder (default: {repo_root() / 'reports'}/<experiment>/<sweep short id>/)",
    )
    p.add_argument(
        "--export",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write the frames the report used: runs.csv, history.csv (+ .parquet)",
    )
    p.add_argument(
        "--tracking-uri",
        default=None,
        help=f"MLflow tracking URI (default: {default_tracking_uri()}; {STORE_RULE})",
    )
    p.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a diagnosis threshold (repeatable); the names are listed below",
    )
    p.add_argument(
        "--no-write",
        action="store_true",
        help="read only: do not write diagnoses or the report back into the store",
    )
    return p


def checked(argv: Sequence[str] | None) -> argparse.Namespace:
    """The parsed arguments, their combinations checked (usage errors exit 2)."""
    p = parser()
    args = p.parse_args(argv)
    if not (args.experiment or args.run or args.compare):
        p.error("one of --experiment, --run or --compare is required")
    if args.compare and args.export is not None:
        p.error("--export is not allowed with --compare (allowed: with a sweep or --run report)")
    if args.run and args.experiment:
        p.error("--run is not allowed with --experiment (a run id names its experiment)")
    return args


def build(args: argparse.Namespace):  # -> scratchnet.report.build.Report
    """Build the report the arguments ask for. A sweep report reads a SQLite store straight and
    imports MLflow only to write (`tracking.lazy`); --run and --compare read through MLflow."""
    from scratchnet.report.single import build_experiment_report, build_run_report
    from scratchnet.tracking.lazy import LazyStore
    from scratchnet.tracking.sqlite_file import writable

    thresholds = parse_thresholds(args.threshold)
    say = lambda msg: print(f"{PROG}: {msg}", file=sys.stderr)  # noqa: E731
    write = not args.no_write and writable(args.tracking_uri)
    if write != (not args.no_write):
        say("the tracking store is read-only: nothing is written back")
    store = LazyStore(args.tracking_uri, reap=write and not args.compare)  # compare only reads
    if args.compare:
        from scratchnet.report.compare import build_comparison  # matplotlib once args are fine

        return build_comparison(
            store.client, tuple(args.compare), args.experiment, args.out, thresholds, say
        )
    if args.run:
        return build_run_report(store, args.run, args.out, thresholds, write, args.export)
    return build_experiment_report(
        store, args.experiment, args.sweep, args.out, thresholds, write, say, args.export
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: usage errors are one line on stderr and exit code 2."""
    args = checked(argv)

    def entry() -> None:
        from scratchnet.tracking.failures import store_errors

        with store_errors():
            report = build(args)
        print(
            f"{PROG}: read from the tracking store {tracking_uri(args.tracking_uri)}",
            file=sys.stderr,
        )
        if report.logged:
            logged = "already logged (unchanged)" if report.already_logged else "logged"
            print(
                f"{PROG}: diagnosis written to {report.runs_updated} runs; report {logged} to "
                f"run {report.parent_run_id} under report/",
                file=sys.stderr,
            )
        for path in report.exported:
            print(f"{PROG}: exported {path}", file=sys.stderr)
        print(report.out_dir / "report.html")

    run_cli(PROG, entry)


if __name__ == "__main__":
    main()
