"""Environment variables set for the length of a block, then put back as they were."""

import contextlib
import os
from collections.abc import Iterator, Mapping


@contextlib.contextmanager
def environment(settings: Mapping[str, str]) -> Iterator[None]:
    """`settings` in os.environ while the block runs; afterwards each variable has its earlier
    value again, or is unset if it was unset (process-wide, like os.environ itself)."""
    before = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
