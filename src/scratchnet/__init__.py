"""scratchnet: the chapter's two-layer network, swept by Hydra and recorded in MLflow."""

__version__ = "0.1.0"
