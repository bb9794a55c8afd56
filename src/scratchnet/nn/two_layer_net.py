"""The chapter's two-layer network: input -> affine -> sigmoid/relu -> affine -> softmax."""

import math
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from scratchnet.errors import ConfigError
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
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _check_size(name: str, value: object) -> int:
    """Return value as an int if it is an integer >= 1, else raise ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _check_std(value: object) -> float:
    """Return value as a float if it is a finite number > 0, else raise ConfigError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not (math.isfinite(value) and value > 0)
    ):
        raise ConfigError(f"weight_init_std must be a finite number > 0, got {value!r}")
    return float(value)


def _check_dtype(dtype: object) -> np.dtype:
    """Return dtype as a numpy dtype if it is float32 or float64, else raise ConfigError."""
    try:
        # np.dtype(None) means float64, which would hide a missing setting.
        resolved = None if dtype is None else np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved not in DTYPES:
        raise ConfigError(f"dtype must be float32 or float64, got {dtype!r}")
    return resolved


def _make_rng(seed: object, rng: object) -> np.random.Generator:
    """Return the given Generator, or a fresh one from seed; never both."""
    if rng is not None:
        if seed is not None:
            raise ConfigError(f"pass seed or rng, not both (got seed={seed!r})")
        if not isinstance(rng, np.random.Generator):
            raise ConfigError(f"rng must be a numpy.random.Generator, got {rng!r}")
        return rng
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise ConfigError(f"seed must be None or a non-negative integer, got {seed!r}") from None


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
            _check_size(name, value)
            for name, value in (
                ("input_size", input_size),
                ("hidden_size", hidden_size),
                ("output_size", output_size),
            )
        ]
        std = _check_std(weight_init_std)
        if activation not in ACTIVATIONS:
            raise ConfigError(f"activation must be 'sigmoid' or 'relu', got {activation!r}")
        self.dtype = _check_dtype(dtype)
        self.activation = activation
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

    def _forward(self, x: NDArray) -> tuple[NDArray, NDArray]:
        """Hidden activations z1 and softmax output y for inputs already in the net's dtype."""
        p = self.params
        z1 = self._act(x @ p["W1"] + p["b1"])
        y = softmax(z1 @ p["W2"] + p["b2"])
        return z1, y

    def _input(self, x: ArrayLike) -> NDArray:
        """Inputs cast to the net's dtype, so float64 or uint8 data never upcasts the matmuls."""
        return np.asarray(x, dtype=self.dtype)

    def predict(self, x: ArrayLike) -> NDArray[np.floating]:
        """Class probabilities, one softmax row per input row."""
        return self._forward(self._input(x))[1]

    def loss(self, x: ArrayLike, t: ArrayLike) -> np.floating:
        """Mean cross-entropy of the predictions against t (one-hot rows or integer labels)."""
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x: ArrayLike, t: ArrayLike) -> float:
        """Fraction of rows whose most probable class is the label (t one-hot or labels)."""
        predicted = self.predict(x).argmax(axis=1)
        return float(np.mean(predicted == _labels(np.asarray(t))))

    def evaluate(self, x: ArrayLike, t: ArrayLike, chunk_size: int = 10000) -> tuple[float, float]:
        """(loss, accuracy) with one forward pass per chunk of rows, bounding memory."""
        chunk_size = _check_size("chunk_size", chunk_size)
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
            return self.loss(x, t)

        return {name: numerical_gradient(loss_at, self.params[name]) for name in PARAM_NAMES}

    def gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray[np.floating]]:
        """Gradients of loss by backpropagation, starting from dL/da2 = (y - t) / N."""
        x, t = self._input(x), np.asarray(t)
        p = self.params
        z1, y = self._forward(x)
        n = y.shape[0]
        dy = y.copy()
        if t.shape == y.shape:
            dy -= t
        else:
            dy[np.arange(n), t] -= 1
        dy /= n
        dz1 = dy @ p["W2"].T
        # Both activations' derivatives can be read off their outputs z1.
        da1 = dz1 * self._act_grad(z1)
        return {
            "W1": x.T @ da1,
            "b1": da1.sum(axis=0),
            "W2": z1.T @ dy,
            "b2": dy.sum(axis=0),
        }


class Workspace:
    """The trainer's fast path: `TwoLayerNet.gradient` and `evaluate` in reused buffers.

    The chapter's math for a batch of N rows x with integer labels t:

        a1 = x W1 + b1          z1 = h(a1)          (h = sigmoid or relu)
        a2 = z1 W2 + b2         y  = softmax(a2)
        L  = -1/N sum_n log(y[n, t_n] + delta)
        d2 = dL/da2 = (y - onehot(t)) / N
        dW2 = z1^T d2           db2 = sum_n d2
        d1 = dL/da1 = (d2 W2^T) * h'(z1)       (sigmoid: z1 (1 - z1); relu: [z1 > 0])
        dW1 = x^T d1            db1 = sum_n d1

    `step` folds the learning rate into d2 (d2 = lr (y - onehot(t)) / N), so every product
    after it is already lr * gradient and each update is one in-place subtraction. Arrays are
    allocated once per row count and written by `out=` matmuls and in-place ufuncs in the
    net's dtype: no per-step allocations of note, no float64 temporaries, and no second
    forward pass for a loss nobody reads. The parameters are the net's own arrays, updated
    in place, so `net.predict` and friends see every step.

    Inputs may be stored pixels with a `scale` (x = pixels / scale): only the rows a step or
    a block reads are converted, which is cheaper than gathering float32 rows (4x the bytes).
    """

    def __init__(self, net: TwoLayerNet) -> None:
        self.net = net
        self.dtype = net.dtype
        self._buffers: dict[tuple[int, bool], dict[str, NDArray]] = {}
        self._staged: dict[tuple[np.dtype, tuple[int, ...]], NDArray] = {}

    def buffers(self, rows: int, backward: bool = False) -> dict[str, NDArray]:
        """Arrays for `rows` rows (made on first use): x, z1, yT, plus d1, dW1, dW2 for a step."""
        key = (rows, backward)
        if key not in self._buffers:
            (n_in, n_hidden), n_out = self.net.params["W1"].shape, self.net.params["W2"].shape[1]
            shapes = {"x": (rows, n_in), "z1": (rows, n_hidden), "yT": (n_out, rows)}
            if backward:
                shapes |= {"d1": (rows, n_hidden), "dW1": (n_in, n_hidden)}
                shapes |= {"dW2": (n_hidden, n_out)}
            arrays = {k: np.empty(shape, dtype=self.dtype) for k, shape in shapes.items()}
            arrays["rows"] = np.arange(rows)
            self._buffers[key] = arrays
        return self._buffers[key]

    def _staging(self, dtype: np.dtype, shape: tuple[int, ...]) -> NDArray:
        """A reused array for rows gathered as stored, before they are scaled."""
        key = (dtype, shape)
        if key not in self._staged:
            self._staged[key] = np.empty(shape, dtype=dtype)
        return self._staged[key]

    def inputs(self, x: NDArray, rows: NDArray | slice, scale: float, out: NDArray) -> NDArray:
        """x[rows] / scale in the net's dtype, in `out` unless x[rows] can be used as it is.

        Pixels are divided in float32, as `Dataset.features` does it, so the trainer sees the
        very numbers of `Dataset.x_train`; floating x with scale 1 is only gathered.
        """
        direct = x.dtype == self.dtype and scale == 1
        if isinstance(rows, slice):
            source = x[rows]
            if direct:
                return source
        elif direct:
            return np.take(x, rows, axis=0, out=out)
        else:
            source = np.take(x, rows, axis=0, out=self._staging(x.dtype, out.shape))
        return np.divide(source, np.float32(scale), out=out, dtype=np.float32)

    def forward(self, x: NDArray, buf: dict[str, NDArray]) -> tuple[NDArray, NDArray]:
        """z1 = h(x W1 + b1) and y^T = softmax(z1 W2 + b2)^T, written into buf's z1 and yT.

        The output layer is kept transposed (classes x rows): softmax's max and sum then run
        across 10 rows of contiguous numbers instead of along 10-number rows, ~2x faster.
        """
        p = self.net.params
        z1, y_t = buf["z1"], buf["yT"]
        np.matmul(x, p["W1"], out=z1)
        z1 += p["b1"]
        if self.net.activation == "sigmoid":  # 1 / (1 + exp(-a)) = (1 + tanh(a / 2)) / 2
            z1 *= 0.5
            np.tanh(z1, out=z1)
            z1 += 1
            z1 *= 0.5
        else:
            np.maximum(z1, 0, out=z1)
        np.matmul(p["W2"].T, z1.T, out=y_t)  # a2^T = W2^T z1^T
        y_t += p["b2"][:, None]
        y_t -= y_t.max(axis=0)  # softmax(a) = exp(a - max a) / sum exp(a - max a)
        np.exp(y_t, out=y_t)
        y_t /= y_t.sum(axis=0)
        return z1, y_t

    def step(self, x: NDArray, t: NDArray, rows: NDArray, lr: float, scale: float = 1.0) -> None:
        """One update W <- W - lr dL/dW on the batch x[rows] / scale, integer labels t[rows]."""
        p = self.net.params
        n = len(rows)
        buf = self.buffers(n, backward=True)
        xb = self.inputs(x, rows, scale, buf["x"])
        z1, d2_t = self.forward(xb, buf)
        d2_t[t[rows], buf["rows"]] -= 1  # y - onehot(t), transposed
        d2_t *= self.dtype.type(lr / n)  # lr dL/da2
        np.matmul(z1.T, d2_t.T, out=buf["dW2"])
        d1 = np.matmul(d2_t.T, p["W2"].T, out=buf["d1"])  # uses W2 before its update
        p["W2"] -= buf["dW2"]
        p["b2"] -= d2_t.sum(axis=1)
        if self.net.activation == "sigmoid":  # h'(a1) = z1 (1 - z1)
            d1 *= z1
            np.subtract(1, z1, out=z1)
            d1 *= z1
        else:  # h'(a1) = [z1 > 0]
            d1 *= z1 > 0
        np.matmul(xb.T, d1, out=buf["dW1"])
        p["W1"] -= buf["dW1"]
        p["b1"] -= d1.sum(axis=0)

    def block_sums(self, x: NDArray, t: NDArray, scale: float = 1.0) -> tuple[float, int]:
        """(sum_n -log(y[n, t_n] + 1e-7), number of rows with argmax y = t) for one block.

        x holds the block's rows (features, or pixels to divide by `scale`). The loss is summed
        in float64; the forward pass runs in this workspace's buffers, so two threads need two
        workspaces.
        """
        buf = self.buffers(len(x))
        xb = self.inputs(np.asarray(x), slice(None), scale, buf["x"][: len(x)])
        _, y_t = self.forward(xb, buf)
        picked = y_t[t, buf["rows"]]
        picked += self.dtype.type(1e-7)
        loss_sum = -float(np.log(picked).sum(dtype=np.float64))
        return loss_sum, int(np.count_nonzero(y_t.argmax(axis=0) == t))

    def evaluate(
        self, x: NDArray, t: NDArray, chunk_size: int, scale: float = 1.0
    ) -> tuple[float, float]:
        """(L, accuracy) over all rows in blocks of chunk_size rows (t: integer labels).

        Matches `TwoLayerNet.evaluate`: L = -mean log(y[n, t_n] + 1e-7), accuracy = the
        fraction of rows whose argmax y is t_n.
        """
        n = len(x)
        if n == 0:
            raise ValueError("evaluate needs at least one sample")
        sums = [
            self.block_sums(x[i : i + chunk_size], t[i : i + chunk_size], scale)
            for i in range(0, n, chunk_size)
        ]
        return sum(loss for loss, _ in sums) / n, sum(c for _, c in sums) / n
