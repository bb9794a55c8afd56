"""The trainer's fast path: `TwoLayerNet.gradient` and its evaluation in reused buffers.

The chapter's math for a batch of N rows x with integer labels t:

    a1 = x W1 + b1          z1 = h(a1)          (h = sigmoid or relu)
    a2 = z1 W2 + b2         y  = softmax(a2)
    L  = -1/N sum_n log(y[n, t_n] + delta)
    d2 = dL/da2 = (y - onehot(t)) / N
    dW2 = z1^T d2           db2 = sum_n d2
    d1 = dL/da1 = (d2 W2^T) * h'(a1)       (sigmoid: z1 (1 - z1); relu: [z1 > 0])
    dW1 = x^T d1            db1 = sum_n d1

With dropout, `step` multiplies z1 by a fresh mask (drawn by the net's `Dropout`, the one
place masks are drawn) and evaluation by 1 - ratio; the backward pass then needs no mask of
its own, since h'(a1) is read off the masked z1 and is 0 wherever a unit was dropped. With
weight decay, lambda W is added to dW1 and dW2 in place. The gradients go into buffers made
once, and the optimizer's `update(params, grads)` moves the weights: when the net's
parameters are views of one buffer (as `TwoLayerNet` packs them), as one array, so that
each of its elementwise operations is one call, not four. Plain SGD is the one
special case: the learning rate is folded into d2 (d2 = lr (y - onehot(t)) / N), so every
product after it is already lr * gradient and the update is one in-place subtraction, as
it has always been (bit for bit; `benchmarks/` measures what the fold saves).

Arrays are allocated once per row count and written by `out=` products and in-place ufuncs
in the net's dtype: no per-step allocations of note, no float64 temporaries, and no second
forward pass for a loss nobody reads. The parameters are the net's own arrays, updated in
place, so `net.predict` and friends see every step. The output layer is kept transposed
(classes x rows): softmax's max and sum then run across 10 rows of contiguous numbers, ~2x
faster.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scratchnet.core.checks import check_choice
from scratchnet.data.features import RowReader
from scratchnet.nn.functions import CEE_DELTA
from scratchnet.nn.optimizers import SGD, Optimizer, flat_buffer, pack
from scratchnet.nn.two_layer_net import DECAYED, TwoLayerNet


def _sigmoid(a: NDArray) -> None:
    """a <- 1 / (1 + exp(-a)), as (1 + tanh(a / 2)) / 2 so no exp can overflow."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1
    a *= 0.5


def _sigmoid_backward(d: NDArray, z: NDArray) -> None:
    """d <- d * z (1 - z), the sigmoid's derivative read off its output z (z is overwritten)."""
    d *= z
    np.subtract(1, z, out=z)
    d *= z


def _relu(a: NDArray) -> None:
    """a <- max(a, 0)."""
    np.maximum(a, 0, out=a)


def _relu_backward(d: NDArray, z: NDArray) -> None:
    """d <- d * [z > 0], relu's derivative read off its output z."""
    d *= z > 0


def _same(a: tuple[NDArray, ...], b: tuple[NDArray, ...]) -> bool:
    """True when a and b hold the very same arrays, in order."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


def label_positions(labels: NDArray, rows: NDArray, out: NDArray) -> NDArray:
    """out <- the flat positions of y[n, labels[n]] in a batch's transposed output y^T
    (classes x rows, C order): labels[n] * len(labels) + rows[n], rows = arange(len(labels))."""
    np.multiply(labels, len(labels), out=out)
    out += rows
    return out


@dataclass(frozen=True)
class Kernel:
    """An activation in place: `forward(a)` turns a1 into z1, `backward(d, z1)` scales d1."""

    forward: Callable[[NDArray], None]
    backward: Callable[[NDArray, NDArray], None]


# The ufuncs' own reductions (what np.sum and ndarray.max call, without their wrappers' cost).
_sum, _max = np.add.reduce, np.maximum.reduce

KERNELS = {
    "sigmoid": Kernel(_sigmoid, _sigmoid_backward),
    "relu": Kernel(_relu, _relu_backward),
}


class Workspace:
    """One net's forward pass, update step and evaluation sums, in buffers made once.

    A workspace's buffers are its own: two threads need two workspaces.
    """

    def __init__(self, net: TwoLayerNet) -> None:
        self.net = net
        self.dtype = net.dtype
        self.kernel = KERNELS[check_choice("activation", net.activation, tuple(KERNELS))]
        self._buffers: dict[tuple[int, bool], dict[str, NDArray]] = {}
        self._grads: dict[str, NDArray] = {}
        self._decay: dict[str, NDArray] = {}
        self._flat: tuple[tuple[NDArray, ...], dict[str, NDArray], dict[str, NDArray]] | None = None

    def buffers(self, rows: int, backward: bool = False) -> dict[str, NDArray]:
        """Arrays for `rows` rows (made on first use): x, z1, yT, plus d1 for a step (and the
        mask and its float64 draws with dropout)."""
        key = (rows, backward)
        if key not in self._buffers:
            (n_in, n_hidden), n_out = self.net.params["W1"].shape, self.net.params["W2"].shape[1]
            shapes = {"x": (rows, n_in), "z1": (rows, n_hidden), "yT": (n_out, rows)}
            if backward:
                shapes["d1"] = (rows, n_hidden)
            arrays = {k: np.empty(shape, dtype=self.dtype) for k, shape in shapes.items()}
            arrays["rows"] = np.arange(rows)
            arrays["col"] = np.empty(rows, dtype=self.dtype)  # softmax's max and sum per row
            if backward:
                arrays["hot"] = np.empty(rows, dtype=np.intp)  # label_positions of a batch
            if backward and self.net.dropout.active:
                arrays["mask"] = np.empty((rows, n_hidden), dtype=bool)
                arrays["draws"] = np.empty((rows, n_hidden), dtype=np.float64)
            self._buffers[key] = arrays
        return self._buffers[key]

    def gradients(self) -> dict[str, NDArray]:
        """The buffers `step` writes the gradients into, one per parameter (made once, packed)."""
        if not self._grads:
            self._grads = pack({k: np.empty_like(p) for k, p in self.net.params.items()})
        return self._grads

    def _as_one(self) -> tuple[dict[str, NDArray], dict[str, NDArray]]:
        """(params, grads) for the update: each as one flat array when the parameters are
        packed (re-checked whenever they are not the very arrays seen last time), else as
        they are (a parameter replaced mid-run so restarts the optimizer's state)."""
        p, g = self.net.params, self.gradients()
        seen = tuple(p.values())
        if self._flat is None or not _same(seen, self._flat[0]):
            flat_p, flat_g = flat_buffer(p), flat_buffer(g)
            if flat_p is not None and flat_g is not None:
                self._flat = (seen, {"all": flat_p}, {"all": flat_g})
            else:
                self._flat = (seen, p, g)
        return self._flat[1], self._flat[2]

    def forward(
        self, x: NDArray, buf: dict[str, NDArray], train: bool = False
    ) -> tuple[NDArray, NDArray]:
        """z1 = dropout(h(x W1 + b1)) and y^T = softmax(z1 W2 + b2)^T, into buf's z1 and yT;
        `train` draws a fresh dropout mask, else dropout scales by 1 - ratio."""
        p = self.net.params
        z1, y_t = buf["z1"], buf["yT"]
        np.matmul(x, p["W1"], out=z1)
        z1 += p["b1"]
        self.kernel.forward(z1)
        dropout = self.net.dropout
        if dropout.active:
            if train:
                z1 *= dropout.draw(buf["mask"], buf["draws"])
            else:
                z1 *= self.dtype.type(1.0 - dropout.dropout_ratio)
        np.matmul(p["W2"].T, z1.T, out=y_t)  # a2^T = W2^T z1^T
        y_t += p["b2"][:, None]
        col = buf["col"]  # softmax(a) = exp(a - max a) / sum exp(a - max a)
        y_t -= _max(y_t, axis=0, out=col)
        np.exp(y_t, out=y_t)
        y_t /= _sum(y_t, axis=0, out=col)
        return z1, y_t

    def step(
        self,
        reader: RowReader,
        t: NDArray,
        rows: NDArray,
        optimizer: Optimizer,
        batch_loss: bool = False,
    ) -> float | None:
        """One update of the net by `optimizer` on the batch of training rows `rows` (labels
        t[rows]); with `batch_loss`, returns the batch's summed loss before the update."""
        buf = self.buffers(len(rows), backward=True)
        xb = reader.take(rows, buf["x"])
        hot = label_positions(t[rows], buf["rows"], buf["hot"])
        return self.update(xb, hot, optimizer, batch_loss)

    def update(
        self, xb: NDArray, hot: NDArray, optimizer: Optimizer, batch_loss: bool = False
    ) -> float | None:
        """`step` on a batch already gathered: its features `xb` and its labels' positions
        `hot` in the output (`label_positions`)."""
        p, g = self.net.params, self.gradients()
        n = len(hot)
        buf = self.buffers(n, backward=True)
        fold = type(optimizer) is SGD  # plain SGD: lr folded into d2, see the module's doc
        scale = optimizer.lr if fold else 1.0
        z1, d2_t = self.forward(xb, buf, train=True)
        flat = d2_t.reshape(-1)  # a view: yT is C-contiguous
        loss = self._loss_sum(flat[hot]) if batch_loss else None
        flat[hot] -= 1  # y - onehot(t), transposed
        d2_t *= self.dtype.type(scale / n)  # (lr) dL/da2
        np.matmul(z1.T, d2_t.T, out=g["W2"])
        _sum(d2_t, axis=1, out=g["b2"])
        d1 = np.matmul(d2_t.T, p["W2"].T, out=buf["d1"])
        self.kernel.backward(d1, z1)
        np.matmul(xb.T, d1, out=g["W1"])
        _sum(d1, axis=0, out=g["b1"])
        if self.net.weight_decay_lambda:
            self._add_decay(g, scale)
        params, grads = self._as_one()
        if fold:
            for key, grad in grads.items():
                params[key] -= grad
        else:
            optimizer.update(params, grads)
        return loss

    def _add_decay(self, g: dict[str, NDArray], scale: float) -> None:
        """g += scale lambda W for the weights (not the biases), through a scratch buffer."""
        factor = self.dtype.type(scale * self.net.weight_decay_lambda)
        for key in DECAYED:
            w = self.net.params[key]
            scratch = self._decay.setdefault(key, np.empty_like(w))
            np.multiply(w, factor, out=scratch)
            g[key] += scratch

    def _loss_sum(self, picked: NDArray) -> float:
        """sum_n -log(y[n, t_n] + delta), summed in float64, from picked = y[n, t_n] (a copy)."""
        picked += self.dtype.type(CEE_DELTA)
        return -float(np.log(picked).sum(dtype=np.float64))

    def block_sums(self, reader: RowReader, t: NDArray, start: int, stop: int) -> tuple[float, int]:
        """(sum_n -log(y[n, t_n] + delta), rows with argmax y = t) over rows start:stop.

        The loss is summed in float64, so a block's sum depends on its rows alone.
        """
        buf = self.buffers(stop - start)
        xb = reader.slice(start, stop, buf["x"])
        _, y_t = self.forward(xb, buf)
        labels = t[start:stop]
        loss_sum = self._loss_sum(y_t[labels, buf["rows"]])
        return loss_sum, int(np.count_nonzero(y_t.argmax(axis=0) == labels))
