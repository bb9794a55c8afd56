"""Which tracking store a command uses: said by `--help` (a Hydra resolver in the help texts of
`conf/`) and logged by every run, so nobody has to guess where their runs went."""

import logging

from omegaconf import OmegaConf

from scratchnet.core.paths import tracking_uri

STORE_RESOLVER = "scratchnet.store"  # `${scratchnet.store:${tracking.uri}}` in a help footer
log = logging.getLogger("scratchnet")


def register_store_resolver() -> None:
    """Let the help texts name the store that `tracking.uri` (None: the default) means."""
    if not OmegaConf.has_resolver(STORE_RESOLVER):
        OmegaConf.register_new_resolver(STORE_RESOLVER, tracking_uri)


def announce_store(configured: str | None) -> str:
    """Log the store a run is recorded in (one line) and return its URI."""
    uri = tracking_uri(configured)
    log.info("tracking store: %s", uri)
    return uri
