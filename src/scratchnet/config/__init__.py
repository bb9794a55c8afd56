"""Configs: the typed schema, its value checks, a run's identity and the objects it builds."""

from scratchnet.config.build import build_net, load_data, train_options
from scratchnet.config.identity import config_hash, flatten, identity, run_name
from scratchnet.config.schema import Config, register_configs
from scratchnet.config.validate import check_batch_size, validate_config

__all__ = [
    "Config",
    "build_net",
    "check_batch_size",
    "config_hash",
    "flatten",
    "identity",
    "load_data",
    "register_configs",
    "run_name",
    "train_options",
    "validate_config",
]
