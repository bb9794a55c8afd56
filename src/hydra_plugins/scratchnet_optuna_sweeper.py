"""scratchnet's Optuna sweeper where Hydra looks for plugins (the `hydra_plugins` namespace)."""

from hydra.core.config_store import ConfigStore

from scratchnet.sweep import optuna as optuna_sweeper


class OptunaSweeper(optuna_sweeper.OptunaSweeper):
    """`scratchnet.sweep.optuna.OptunaSweeper`, named so that Hydra accepts it as a plugin."""


ConfigStore.instance().store(
    group="hydra/sweeper",
    name="scratchnet_optuna",
    node=optuna_sweeper.OptunaSweeperConf,
    provider="scratchnet",
)
