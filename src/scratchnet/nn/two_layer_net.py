"""The chapter's two-layer network: input -> affine -> sigmoid/relu -> affine -> softmax.

With chapter 6's remedies as keywords, in the book's way: `weight_init_std` a number or an
initialisation by name, `weight_decay_lambda` (the loss gains 0.5 lambda (|W1|^2 + |W2|^2),
the gradient lambda W; biases are not decayed) and `dropout_ratio` (the book's Dropout on the
hidden layer's output; `predict(x, train_flg=True)` drops, evaluation scales).
"""

import contextlib
import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from scratchnet.core.checks import (
    check_choice,
    check_int,
    check_non_negative,
    fail,
    is_number,
)
from scratchnet.nn.functions import (
    cross_entropy_error,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
)
from scratchnet.nn.gradient import numerical_gradient
from scratchnet.nn.layers import Dropout
from scratchnet.nn.optimizers import pack

ACTIVATIONS = {"sigmoid": (sigmoid, sigmoid_grad), "relu": (relu, relu_grad)}
DTYPE_NAMES = ("float32", "float64")
DTYPES = tuple(np.dtype(name) for name in DTYPE_NAMES)
PARAM_NAMES = ("W1", "b1", "W2", "b2")
DECAYED = ("W1", "W2")  # weight decay leaves the biases alone, as the book does
# Initialisations by name, the book's: std = sqrt(scale / n_in) with each layer's own n_in.
INIT_SCALES = {"xavier": 1.0, "sigmoid": 1.0, "he": 2.0, "relu": 2.0}
INIT_ALLOWED = f"a finite number > 0, or one of {', '.join(INIT_SCALES)}"


def check_init(key: str, weight_init_std: object) -> float | str:
    """A std > 0 or an initialisation's name (xavier, sigmoid, he, relu); returns it."""
    if isinstance(weight_init_std, str):
        if weight_init_std not in INIT_SCALES:
            fail(key, weight_init_std, INIT_ALLOWED)
        return weight_init_std
    if not is_number(weight_init_std) or weight_init_std <= 0:  # type: ignore[operator]
        fail(key, weight_init_std, INIT_ALLOWED)
    return float(weight_init_std)  # type: ignore[arg-type]


def init_std(weight_init_std: float | str, n_in: int) -> float:
    """A layer's std: the number given, or sqrt(1 / n_in) (xavier, sigmoid) or
    sqrt(2 / n_in) (he, relu) for a layer of n_in inputs."""
    spec = check_init("weight_init_std", weight_init_std)
    return math.sqrt(INIT_SCALES[spec] / n_in) if isinstance(spec, str) else spec


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
        weight_init_std: float | str = 0.01,
        *,
        activation: str = "sigmoid",
        dtype: DTypeLike = np.float32,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        weight_decay_lambda: float = 0.0,
        dropout_ratio: float = 0.0,
    ) -> None:
        """Draw W1, W2 as std * N(0, 1) (std per layer, see `init_std`) and zero biases, all
        in dtype. Dropout masks come from a generator spawned from the weights' one
        (`train` replaces it with the run's own)."""
        sizes = [
            check_int(name, value)
            for name, value in (
                ("input_size", input_size),
                ("hidden_size", hidden_size),
                ("output_size", output_size),
            )
        ]
        self.weight_init_std = check_init("weight_init_std", weight_init_std)
        self.weight_decay_lambda = check_non_negative("weight_decay_lambda", weight_decay_lambda)
        self.activation = check_choice("activation", activation, tuple(ACTIVATIONS))
        self.dtype = _check_dtype(dtype)
        self._act, self._act_grad = ACTIVATIONS[activation]
        generator = _make_rng(seed, rng)
        n_in, n_hidden, n_out = sizes
        std1, std2 = init_std(self.weight_init_std, n_in), init_std(self.weight_init_std, n_hidden)
        # Drawn in float64 then cast, so float32 and float64 nets from one seed share weights;
        # packed into one buffer, so the trainer's optimizer updates them all in one call.
        self.params: dict[str, NDArray[np.floating]] = pack(
            {
                "W1": (std1 * generator.standard_normal((n_in, n_hidden))).astype(self.dtype),
                "b1": np.zeros(n_hidden, dtype=self.dtype),
                "W2": (std2 * generator.standard_normal((n_hidden, n_out))).astype(self.dtype),
                "b2": np.zeros(n_out, dtype=self.dtype),
            }
        )
        self.dropout = Dropout(dropout_ratio, generator.spawn(1)[0] if dropout_ratio else None)

    @property
    def dropout_ratio(self) -> float:
        """The hidden layer's dropout ratio (0: no dropout)."""
        return self.dropout.dropout_ratio

    def _forward(self, x: NDArray, train_flg: bool = False) -> tuple[NDArray, NDArray, NDArray]:
        """a1 = x W1 + b1, h1 = dropout(act(a1)) and y = softmax(h1 W2 + b2), x in the dtype."""
        p = self.params
        a1 = x @ p["W1"] + p["b1"]
        h1 = self.dropout.forward(self._act(a1), train_flg)
        y = softmax(h1 @ p["W2"] + p["b2"])
        return a1, h1, y

    def _input(self, x: ArrayLike) -> NDArray:
        """Inputs cast to the net's dtype, so float64 or uint8 data never upcasts the matmuls."""
        return np.asarray(x, dtype=self.dtype)

    def predict(self, x: ArrayLike, train_flg: bool = False) -> NDArray[np.floating]:
        """Class probabilities, one softmax row per input row (`train_flg`: with dropout)."""
        return self._forward(self._input(x), train_flg)[2]

    def weight_decay_penalty(self) -> float:
        """0.5 lambda (|W1|^2 + |W2|^2), summed in float64; 0 without weight decay."""
        if not self.weight_decay_lambda:
            return 0.0
        squares = sum(float(np.square(self.params[k], dtype=np.float64).sum()) for k in DECAYED)
        return 0.5 * self.weight_decay_lambda * squares

    def loss(self, x: ArrayLike, t: ArrayLike, train_flg: bool = False) -> np.floating:
        """Mean cross-entropy of the predictions against t (one-hot rows or integer labels),
        plus the weight decay penalty when lambda > 0: what the gradient is of."""
        data_loss = cross_entropy_error(self.predict(x, train_flg), t)
        if self.weight_decay_lambda:
            return data_loss + self.weight_decay_penalty()
        return data_loss

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
        """Gradients of the training loss by central differences on each parameter, perturbed
        in place (slow). With dropout, one mask is held for all of it (the held one, if any)."""
        x = self._input(x)

        def loss_at(_: NDArray) -> float:
            return float(self.loss(x, t, train_flg=True))

        with self.one_mask(x.shape[0]):
            return {name: numerical_gradient(loss_at, self.params[name]) for name in PARAM_NAMES}

    @contextlib.contextmanager
    def one_mask(self, rows: int) -> Iterator[None]:
        """Hold one fresh dropout mask for batches of `rows` rows (the loss is then one function
        of the weights, for a gradient check), unless dropout is off or a mask is held."""
        if not self.dropout.active or self.dropout.held:
            yield
            return
        shape = (rows, self.params["b1"].shape[0])
        with self.dropout.hold(self.dropout.draw(np.empty(shape, dtype=bool), np.empty(shape))):
            yield

    def gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray[np.floating]]:
        """Gradients of the training loss by backpropagation, from dL/da2 = (y - t) / N,
        through a fresh dropout mask (or the held one), plus lambda W for the weights."""
        x, t = self._input(x), np.asarray(t)
        p = self.params
        a1, h1, y = self._forward(x, train_flg=True)
        n = y.shape[0]
        dy = y.copy()
        if t.shape == y.shape:
            dy -= t
        else:
            dy[np.arange(n), t] -= 1
        dy /= n
        dz1 = self.dropout.backward(dy @ p["W2"].T)
        da1 = self._act_grad(a1) * dz1
        grads = {
            "W1": x.T @ da1,
            "b1": da1.sum(axis=0),
            "W2": h1.T @ dy,
            "b2": dy.sum(axis=0),
        }
        if self.weight_decay_lambda:
            for k in DECAYED:
                grads[k] += self.weight_decay_lambda * p[k]
        return grads
