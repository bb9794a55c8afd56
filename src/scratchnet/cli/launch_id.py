"""A launch's own output folder: `${now:%H-%M-%S}` alone is shared by every command started
in the same second (their job folders mixed, one `multirun.yaml` overwriting the other), so
Hydra's folders end in `${scratchnet.launch:}`, this process's id, unique on its host."""

import os

from omegaconf import OmegaConf

LAUNCH_RESOLVER = "scratchnet.launch"


def register_launch_resolver() -> None:
    """`${scratchnet.launch:}`: the launching process's pid (cached in the config, so a sweep's
    workers resolve the launcher's)."""
    if not OmegaConf.has_resolver(LAUNCH_RESOLVER):
        OmegaConf.register_new_resolver(LAUNCH_RESOLVER, lambda: str(os.getpid()), use_cache=True)
