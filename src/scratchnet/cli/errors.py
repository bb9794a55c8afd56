"""Entry points' error handling: user errors as one line and exit 2, Ctrl-C as exit 130."""

import sys
from collections.abc import Callable
from typing import NoReturn

from scratchnet.config.messages import USAGE_ERRORS, one_line
from scratchnet.core.errors import Abort
from scratchnet.core.heap import no_collection_at_exit

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def run_cli(
    prog: str,
    entry: Callable[[], object],
    on_interrupt: Callable[[], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    explain: Callable[[BaseException], BaseException | None] | None = None,
) -> None:
    """Call `entry`; report usage errors as `prog: error: ...` (exit 2; a failure of the
    machine, such as a full disk, exit 1), Ctrl-C as exit 130.

    `on_interrupt` / `on_error` (given the error) run first, to close whatever `entry` left
    open. Any other error is a bug or a crash, shown with its traceback, unless `explain`
    knows it (a sweep worker killed): then the one-line error it returns is shown instead.
    """
    no_collection_at_exit()
    try:
        entry()
    except Abort as abort:  # refused before anything was created: nothing to close
        shown = f"error: {abort.message}" if abort.exit_code == EXIT_USAGE else abort.message
        print(f"{prog}: {shown}", file=sys.stderr)
        sys.exit(abort.exit_code)
    except USAGE_ERRORS as err:
        if on_error is not None:
            on_error(err)
        fail(prog, err)
    except KeyboardInterrupt:
        if on_interrupt is not None:
            on_interrupt()
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as err:  # a bug or a crash: close, then show it all, or as `explain` can
        if on_error is not None:
            on_error(err)
        known = explain(err) if explain is not None else None
        if known is None:
            raise
        fail(prog, known)


def fail(prog: str, err: BaseException) -> NoReturn:
    """Print `err` as one line and exit 2, or the error's own `exit_code` (1 for a failure of
    the machine); SystemExit passes through Hydra's job wrapper."""
    print(f"{prog}: error: {one_line(err)}", file=sys.stderr)
    sys.exit(getattr(err, "exit_code", EXIT_USAGE))
