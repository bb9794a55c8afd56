"""The chapter's two-layer network: input -> affine -> sigmoid/relu -> affine -> softmax."""

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from scratchnet.core.checks import check_choice, check_int, check_positive, fail
from scratchnet.nn.functions import (
    cross_entropy_error,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
)
from scratchnet.nn.gradient import numerical_gradient

ACTIVATIONS = {"sigmoid": (sigmoid, sigmoid_grad), "relu": (relu, relu_grad)}
DTYPE_NAMES = ("float32", "float64")
DTYPES = tuple(np.dtype(name) for name in DTYPE_NAMES)
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _check_dtype(dtype: object) -> np.dtype:
    """Return dtype as a numpy dtype if it is float32 or float64, else raise ConfigError."""
    try:
        # np.dtype(None) means float64, which would hide a missing setting.
        resolved = None if dtype is None else np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        resolved = None
    if resolved is None or resolved not in DTYPES:
        fail("dtype", dtype, ", ".join(DTYPE_NAMES))
    return resolved


def _make_rng(seed: object, rng: object) -> np.random.Generator:
    """Return the given Generator, or a fresh one from seed; never both."""
    if rng is not None:
        if seed is not None:
            fail("seed", seed, "None when rng is given (pass seed or rng, not both)")
        if not isinstance(rng, np.random.Generator):
            fail("rng", rng, "a numpy.random.Generator")
        return rng
    try:
        return np.random.default_rng(seed)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        fail("seed", seed, "None or an integer >= 0")


def _labels(t: NDArray) -> NDArray:
    """Integer class labels from one-hot rows (argmax) or from labels as given."""
    return t.argmax(axis=1) if t.ndim == 2 else t


class TwoLayerNet:
    """Two-layer perceptron with softmax output, trained on cross-entropy."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        *,
        activation: str = "sigmoid",
        dtype: DTypeLike = np.float32,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        """Draw W1, W2 as weight_init_std * N(0, 1) and zero biases, all in dtype."""
        sizes = [
            check_int(name, value)
            for name, value in (
                ("input_size", input_size),
                ("hidden_size", hidden_size),
                ("output_size", output_size),
            )
        ]
        std = check_positive("weight_init_std", weight_init_std)
        self.activation = check_choice("activation", activation, tuple(ACTIVATIONS))
        self.dtype = _check_dtype(dtype)
        self._act, self._act_grad = ACTIVATIONS[activation]
        generator = _make_rng(seed, rng)
        n_in, n_hidden, n_out = sizes
        # Drawn in float64 then cast, so float32 and float64 nets from one seed share weights.
        self.params: dict[str, NDArray[np.floating]] = {
            "W1": (std * generator.standard_normal((n_in, n_hidden))).astype(self.dtype),
            "b1": np.zeros(n_hidden, dtype=self.dtype),
            "W2": (std * generator.standard_normal((n_hidden, n_out))).astype(self.dtype),
            "b2": np.zeros(n_out, dtype=self.dtype),
        }

    def _forward(self, x: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        """a1 = x W1 + b1, z1 = h(a1) and y = softmax(z1 W2 + b2), for x in the net's dtype."""
        p = self.params
        a1 = x @ p["W1"] + p["b1"]
        z1 = self._act(a1)
        y = softmax(z1 @ p["W2"] + p["b2"])
        return a1, z1, y

    def _input(self, x: ArrayLike) -> NDArray:
        """Inputs cast to the net's dtype, so float64 or uint8 data never upcasts the matmuls."""
        return np.asarray(x, dtype=self.dtype)

    def predict(self, x: ArrayLike) -> NDArray[np.floating]:
        """Class probabilities, one softmax row per input row."""
        return self._forward(self._input(x))[2]

    def loss(self, x: ArrayLike, t: ArrayLike) -> np.floating:
        """Mean cross-entropy of the predictions against t (one-hot rows or integer labels)."""
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x: ArrayLike, t: ArrayLike) -> float:
        """Fraction of rows whose most probable class is the label (t one-hot or labels)."""
        predicted = self.predict(x).argmax(axis=1)
        return float(np.mean(predicted == _labels(np.asarray(t))))

    def evaluate(self, x: ArrayLike, t: ArrayLike, chunk_size: int = 10000) -> tuple[float, float]:
        """(loss, accuracy) with one forward pass per chunk of rows, bounding memory."""
        chunk_size = check_int("chunk_size", chunk_size)
        x, t = np.asarray(x), np.asarray(t)
        n = x.shape[0]
        if n == 0:
            raise ValueError("evaluate needs at least one sample")
        loss_sum, correct = 0.0, 0
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            y = self.predict(x[start:stop])
            t_chunk = t[start:stop]
            loss_sum += float(cross_entropy_error(y, t_chunk)) * (stop - start)
            correct += int(np.count_nonzero(y.argmax(axis=1) == _labels(t_chunk)))
        return loss_sum / n, correct / n

    def numerical_gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray[np.floating]]:
        """Gradients of loss by central differences on each parameter, perturbed in place (slow)."""
        x = self._input(x)

        def loss_at(_: NDArray) -> float:
            return float(self.loss(x, t))

        return {name: numerical_gradient(loss_at, self.params[name]) for name in PARAM_NAMES}

    def gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray[np.floating]]:
        """Gradients of loss by backpropagation, starting from dL/da2 = (y - t) / N."""
        x, t = self._input(x), np.asarray(t)
        p = self.params
        a1, z1, y = self._forward(x)
        n = y.shape[0]
        dy = y.copy()
        if t.shape == y.shape:
            dy -= t
        else:
            dy[np.arange(n), t] -= 1
        dy /= n
        dz1 = dy @ p["W2"].T
        da1 = self._act_grad(a1) * dz1
        return {
            "W1": x.T @ da1,
            "b1": da1.sum(axis=0),
            "W2": z1.T @ dy,
            "b2": dy.sum(axis=0),
        }
