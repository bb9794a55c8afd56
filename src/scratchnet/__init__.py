"""scratchnet: the chapter's two-layer network, swept by Hydra and recorded in MLflow.

`scratchnet.load_net(run_id)` returns the TwoLayerNet a recorded run logged as its MLflow
model; it is imported on first use, so `import scratchnet` does not import MLflow.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "load_net"]

if TYPE_CHECKING:
    from scratchnet.tracking.models import load_net


def __getattr__(name: str) -> Any:
    """`load_net`, imported from `scratchnet.tracking.models` when first asked for."""
    if name == "load_net":
        from scratchnet.tracking.models import load_net

        return load_net
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
