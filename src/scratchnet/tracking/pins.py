"""MLflow's check that a model's pinned requirements match this environment, without its scan
of every installed distribution.

`mlflow.pyfunc.save_model` warns when a requirement is not met by what is installed, and to
do so first maps every importable module to its distribution
(`importlib.metadata.packages_distributions`, which reads the file list of every installed
distribution: ~0.6 s of CPU a process, once per process). That map only serves to find a
requirement's module when its distribution has no metadata; scratchnet's pins are packages
imported under their own names. Inside `pins_mapped`, MLflow's map holds just those pins, so
its check still compares each pin with the installed version, and its own map is put back
after (a model whose requirements MLflow infers later in the process gets the full scan).
"""

import contextlib
from collections.abc import Iterator

from mlflow.utils import requirements_utils

MAP = "_MODULES_TO_PACKAGES"  # MLflow's module -> distributions map, built on first use


def pinned_packages(pins: list[str]) -> dict[str, list[str]]:
    """Each `name==version` pin's module (its own name) mapped to its distribution."""
    names = [pin.split("==")[0] for pin in pins]
    return {name: [name] for name in names}


@contextlib.contextmanager
def pins_mapped(pins: list[str]) -> Iterator[None]:
    """Inside the block MLflow maps only `pins` to their modules, unless it has its full map
    already; its map is as it was after."""
    before = getattr(requirements_utils, MAP, None)
    if before is None:
        setattr(requirements_utils, MAP, pinned_packages(pins))
    try:
        yield
    finally:
        setattr(requirements_utils, MAP, before)
