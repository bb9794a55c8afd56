"""scratchnet's Optuna sweeper where Hydra looks for plugins (the `hydra_plugins` namespace)."""

from hydra.core.config_store import ConfigStore

from scratchnet import optuna_sweeper


class OptunaSweeper(optuna_sweeper.OptunaSweeper):
    """`scratchnet.optuna_sweeper.OptunaSweeper`, named so that Hydra accepts it as a plugin."""


ConfigStore.instance().store(
    group="hydra/sweeper",
    name="scratchnet_optuna",
    node=optuna_sweeper.OptunaSweeperConf,
    provider="scratchnet",
)
