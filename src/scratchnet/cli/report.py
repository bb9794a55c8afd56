"""`scratchnet-report`: the overfitting analysis of a sweep, as HTML + Markdown + PNGs."""

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
  scratchnet-report --experiment train_size --threshold overfit_gap_acc=0.1 --no-write

Writes report.html (self-contained), report.md and the figures as PNGs; unless --no-write,
also writes each run's diagnosis back to it (metrics best_epoch, best_val_acc,
test_acc_at_best, gap_acc_final, gap_acc_max, gap_loss_final, overfit_onset, ...; tags
overfit.verdict, overfit.selection) and logs the report as artifacts of the sweep's parent run
under report/. Every choice (best epoch, ranking, verdicts) is made on the validation split;
test is reported at the chosen epoch. Rebuilding from the same store gives the
same bytes.

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
    """The command line: experiment, sweep, output folder, store, thresholds."""
    defaults = "\n".join(f"  {k}={v:g}" for k, v in Thresholds().as_dict().items())
    p = Parser(
        prog=PROG,
        description="Diagnose overfitting in a sweep recorded in MLflow and write a report.",
        epilog=EPILOG + defaults,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--experiment", required=True, help="MLflow experiment (the study's name)")
    p.add_argument(
        "--sweep",
        default="latest",
        help="'latest' (default: newest parent run), a parent run id or its prefix, or a sweep id",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"output folder (default: {repo_root() / 'reports'}/<experiment>/<sweep short id>/)",
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


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: usage errors are one line on stderr and exit code 2."""
    args = parser().parse_args(argv)

    def entry() -> None:
        from scratchnet.report.build import build_report  # matplotlib only once args are fine
        from scratchnet.tracking.store import open_client, store_errors, writable

        thresholds = parse_thresholds(args.threshold)
        write = not args.no_write and writable(args.tracking_uri)
        if write != (not args.no_write):
            print(
                f"{PROG}: the tracking store is read-only: nothing is written back", file=sys.stderr
            )
        with store_errors():
            report = build_report(
                open_client(args.tracking_uri, reap=write),
                args.experiment,
                args.sweep,
                args.out,
                thresholds,
                write=write,
                progress=lambda msg: print(f"{PROG}: {msg}", file=sys.stderr),
            )
        html = report.out_dir / "report.html"
        print(
            f"{PROG}: read from the tracking store {tracking_uri(args.tracking_uri)}",
            file=sys.stderr,
        )
        if report.logged:
            print(
                f"{PROG}: diagnosis written to {report.runs_updated} runs; report logged to "
                f"parent run {report.parent_run_id} under report/",
                file=sys.stderr,
            )
        print(html)

    run_cli(PROG, entry)


if __name__ == "__main__":
    main()
