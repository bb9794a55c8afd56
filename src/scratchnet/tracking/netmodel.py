"""A trained TwoLayerNet as files, and the `mlflow.pyfunc` model loaded from them.

This is the model's loader module: MLflow imports it by name and calls `_load_pyfunc(data_path)`
(the pyfunc contract for a model saved with `loader_module=`), so it imports nothing of MLflow.
The files are `net.npz` (the book's W1, b1, W2, b2) and `net.json` (activation and dtype).
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scratchnet.nn import TwoLayerNet
from scratchnet.nn.two_layer_net import PARAM_NAMES
from scratchnet.tracking.names import (
    LABEL_COLUMN,
    MODEL_SETTINGS_FILE,
    MODEL_WEIGHTS_FILE,
    PROBABILITIES_PARAM,
    PROBABILITY_COLUMN,
)


def write_net(net: TwoLayerNet, folder: Path) -> Path:
    """Write the net's weights and the settings that rebuild it into `folder` (made if absent)."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / MODEL_WEIGHTS_FILE, **{k: net.params[k] for k in PARAM_NAMES})
    settings = {"activation": net.activation, "dtype": net.dtype.name}
    (folder / MODEL_SETTINGS_FILE).write_text(json.dumps(settings, sort_keys=True) + "\n")
    return folder


def read_net(folder: Path) -> TwoLayerNet:
    """The TwoLayerNet that `write_net` wrote into `folder`, with exactly its weights."""
    settings = json.loads((folder / MODEL_SETTINGS_FILE).read_text())
    with np.load(folder / MODEL_WEIGHTS_FILE) as arrays:
        params = {k: arrays[k] for k in PARAM_NAMES}
    n_in, n_hidden = params["W1"].shape
    net = TwoLayerNet(
        n_in,
        n_hidden,
        params["W2"].shape[1],
        activation=settings["activation"],
        dtype=settings["dtype"],
        seed=0,  # drawn, then replaced by the trained weights
    )
    net.params = {k: v.astype(net.dtype, copy=False) for k, v in params.items()}
    return net


def prediction_frame(probabilities: np.ndarray, with_probabilities: bool) -> pd.DataFrame:
    """The predicted class of each row (`label`) and, when asked, every class's probability."""
    frame = pd.DataFrame({LABEL_COLUMN: probabilities.argmax(axis=1).astype(np.int64)})
    if with_probabilities:
        for k in range(probabilities.shape[1]):
            frame[PROBABILITY_COLUMN.format(k)] = probabilities[:, k].astype(np.float64)
    return frame


class NetPredictor:
    """The pyfunc model: features in (rows of pixels / scale, as the net was trained on), the
    class out; `params={"probabilities": True}` adds each class's softmax probability."""

    def __init__(self, net: TwoLayerNet) -> None:
        self.net = net

    def predict(self, model_input: Any, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        x = model_input.to_numpy() if isinstance(model_input, pd.DataFrame) else model_input
        wanted = bool((params or {}).get(PROBABILITIES_PARAM, False))
        return prediction_frame(self.net.predict(np.asarray(x)), wanted)


def _load_pyfunc(data_path: str) -> NetPredictor:
    """MLflow's loader-module hook: the model saved with `data_path` (the net's folder)."""
    return NetPredictor(read_net(Path(data_path)))
