"""Entry points' error handling: user errors as one line and exit 2, Ctrl-C as exit 130."""

import sys
from collections.abc import Callable
from typing import NoReturn

from scratchnet.config.messages import USAGE_ERRORS, one_line
from scratchnet.core.errors import Abort

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def run_cli(
    prog: str,
    entry: Callable[[], object],
    on_interrupt: Callable[[], None] | None = None,
    on_error: Callable[[], None] | None = None,
) -> None:
    """Call `entry`; report usage errors as `prog: error: ...` (exit 2), Ctrl-C as exit 130.

    `on_interrupt` / `on_error` run first, to close whatever `entry` left open.
    """
    try:
        entry()
    except Abort as abort:  # refused before anything was created: nothing to close
        shown = f"error: {abort.message}" if abort.exit_code == EXIT_USAGE else abort.message
        print(f"{prog}: {shown}", file=sys.stderr)
        sys.exit(abort.exit_code)
    except USAGE_ERRORS as err:
        if on_error is not None:
            on_error()
        fail(prog, err)
    except KeyboardInterrupt:
        if on_interrupt is not None:
            on_interrupt()
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Exception:  # a bug or a crash (e.g. a sweep worker killed): close, then show it all
        if on_error is not None:
            on_error()
        raise


def fail(prog: str, err: BaseException) -> NoReturn:
    """Print `err` as one line and exit 2 (SystemExit passes through Hydra's job wrapper)."""
    print(f"{prog}: error: {one_line(err)}", file=sys.stderr)
    sys.exit(EXIT_USAGE)
