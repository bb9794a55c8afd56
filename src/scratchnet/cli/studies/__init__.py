"""The chapter's studies, one module each (its Hydra task `main`, configured by
`conf/chapter/<name>.yaml`), and `scratchnet-chapter <name> [overrides]`, which runs one.
`experiments/<name>.py` in a checkout runs the same code."""

import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from scratchnet.cli.chapter import run_script
from scratchnet.cli.errors import EXIT_USAGE
from scratchnet.core.checks import not_allowed

PROG = "scratchnet-chapter"
STUDIES = (  # in the chapter's order; each is a module here and conf/chapter/<name>.yaml
    "loss_functions",
    "why_loss_not_accuracy",
    "numerical_differentiation",
    "gradient_field",
    "gradient_descent",
    "gradient_check",
    "minibatch_loss",
    "optimizer_paths",  # chapter 6.1
)
EPILOG = f"""\
  {PROG} STUDY --help           the study's keys, their defaults and its tracking store
  {PROG} STUDY key=value ...    a run with overrides; -m key=a,b sweeps (Hydra multirun)

Each run is recorded in the MLflow experiment chapter.STUDY, with its figures."""


def study(name: str) -> ModuleType:
    """The module of study `name` (one of STUDIES)."""
    return importlib.import_module(f"{__name__}.{name}")


def summary(name: str) -> str:
    """The first paragraph of the study's docstring: what it shows."""
    return " ".join((study(name).__doc__ or "").strip().split("\n\n")[0].split())


def usage() -> str:
    """`scratchnet-chapter --help`: the studies and what each shows."""
    width = max(map(len, STUDIES))
    rows = "\n".join(f"  {name:<{width}}  {summary(name)}" for name in STUDIES)
    return (
        f"usage: {PROG} STUDY [key=value ...]\n\nRun one of the chapter's studies.\n\n"
        f"studies:\n{rows}\n\n{EPILOG}"
    )


def run_study(name: str, prog_name: str | None = None) -> None:
    """Run study `name` with the Hydra overrides in `sys.argv[1:]`."""
    run_script(name, study(name).main, prog_name)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: `scratchnet-chapter <name> [overrides]`; no name prints the usage,
    an unknown one is one line, both on stderr with exit 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print(usage())
        return
    if not args:
        print(usage(), file=sys.stderr)
        sys.exit(EXIT_USAGE)
    name = args[0]
    if name not in STUDIES:
        print(f"{PROG}: error: {not_allowed('study', name, ', '.join(STUDIES))}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    sys.argv = [sys.argv[0], *args[1:]]  # Hydra reads its overrides from sys.argv
    run_study(name, f"{PROG} {name}")
