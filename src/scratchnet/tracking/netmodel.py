"""A trained TwoLayerNet as files, and the `mlflow.pyfunc` model loaded from them.

This is the model's loader module: MLflow imports it by name and calls `_load_pyfunc(data_path)`
(the pyfunc contract for a model saved with `loader_module=`), so it imports nothing of MLflow.
The net is one file, `net.npz`: the book's W1, b1, W2, b2 and the settings that rebuild it
(activation, dtype, dropout_ratio: inference scales by 1 - ratio, weight_decay_lambda: the
loss); one file, as every file and folder a run uploads costs it time.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scratchnet.nn import TwoLayerNet
from scratchnet.nn.two_layer_net import PARAM_NAMES
from scratchnet.tracking.names import LABEL_COLUMN, PROBABILITIES_PARAM, PROBABILITY_COLUMN

SETTINGS = ("activation", "dtype")  # stored beside the weights as 0-d string arrays
RATES = ("dropout_ratio", "weight_decay_lambda")  # and as 0-d float64 arrays (absent: 0)


def write_net(net: TwoLayerNet, path: Path) -> Path:
    """Write the net's weights and the settings that rebuild it to the file `path`."""
    settings = {"activation": np.array(net.activation), "dtype": np.array(net.dtype.name)}
    settings |= {k: np.array(float(getattr(net, k)), dtype=np.float64) for k in RATES}
    with path.open("wb") as out:  # np.savez given a name would add ".npz"
        np.savez(out, **{k: net.params[k] for k in PARAM_NAMES}, **settings)
    return path


def read_net(path: Path) -> TwoLayerNet:
    """The TwoLayerNet that `write_net` wrote to `path`, with exactly its weights."""
    with np.load(path, allow_pickle=False) as arrays:
        params = {k: arrays[k] for k in PARAM_NAMES}
        activation, dtype = (str(arrays[k]) for k in SETTINGS)
        rates = {k: float(arrays[k]) if k in arrays else 0.0 for k in RATES}
    n_in, n_hidden = params["W1"].shape
    net = TwoLayerNet(
        n_in,
        n_hidden,
        params["W2"].shape[1],
        activation=activation,
        dtype=dtype,
        seed=0,  # drawn, then replaced by the trained weights
        **rates,
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
    """MLflow's loader-module hook: the model saved with `data_path` (the net's file)."""
    return NetPredictor(read_net(Path(data_path)))
