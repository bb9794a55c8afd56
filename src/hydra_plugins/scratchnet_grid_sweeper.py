"""scratchnet's grid sweeper where Hydra looks for plugins (the `hydra_plugins` namespace)."""

from hydra.core.config_store import ConfigStore

from scratchnet.sweep import grid as grid_sweeper


class GridSweeper(grid_sweeper.GridSweeper):
    """`scratchnet.sweep.grid.GridSweeper`, named so that Hydra accepts it as a plugin."""


ConfigStore.instance().store(
    group="hydra/sweeper",
    name="scratchnet_grid",
    node=grid_sweeper.GridSweeperConf,
    provider="scratchnet",
)
