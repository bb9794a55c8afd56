"""Mini-batch SGD as in the chapter: pure, per-epoch history, reports through callbacks.

Nothing here knows about MLflow or Hydra; whoever calls `train` decides where metrics go.
"""

from scratchnet.training.callbacks import Callback, TrainResult
from scratchnet.training.loop import train
from scratchnet.training.metrics import METRICS
from scratchnet.training.plan import SAMPLINGS, TrainPlan, batch_indices, make_plan

__all__ = [
    "METRICS",
    "SAMPLINGS",
    "Callback",
    "TrainPlan",
    "TrainResult",
    "batch_indices",
    "make_plan",
    "train",
]
