"""Gradient check: backprop against numerical gradients of TwoLayerNet, and their cost."""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scratchnet.nn import TwoLayerNet, cross_entropy_error, numerical_gradient
from scratchnet.nn.two_layer_net import PARAM_NAMES


@dataclass(frozen=True)
class Size:
    """A network and batch size: input -> hidden -> output units, `batch` examples."""

    input: int
    hidden: int
    output: int
    batch: int

    @property
    def num_params(self) -> int:
        """Number of weights and biases, each one numerical_gradient's two forward passes."""
        return self.input * self.hidden + self.hidden + self.hidden * self.output + self.output

    @property
    def label(self) -> str:
        """Readable form for tags and figures: `64-50-10 x100`."""
        return f"{self.input}-{self.hidden}-{self.output} x{self.batch}"


def relative_error(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    """max|a - b| / (max|a| + max|b|): scale-free, 0 when both are all zeros."""
    scale = float(np.abs(a).max() + np.abs(b).max())
    return float(np.abs(a - b).max()) / scale if scale > 0 else 0.0


def make_problem(
    size: Size, weight_init_std: float, activation: str, seed: int
) -> tuple[TwoLayerNet, NDArray[np.float64], NDArray[np.int64]]:
    """A float64 net and a random batch (inputs in [0, 1), labels uniform) from one seed."""
    rng = np.random.default_rng(seed)
    net = TwoLayerNet(
        size.input,
        size.hidden,
        size.output,
        weight_init_std,
        activation=activation,
        dtype=np.float64,
        rng=rng,
    )
    x = rng.random((size.batch, size.input))
    t = rng.integers(0, size.output, size=size.batch)
    return net, x, t


def numerical_gradient_without_delta(
    net: TwoLayerNet, x: NDArray[np.floating], t: NDArray[np.integer]
) -> dict[str, NDArray[np.floating]]:
    """Numerical gradient of the delta-free cross-entropy (plus any weight decay penalty, in
    training mode), the loss backprop differentiates."""

    def loss(_: NDArray[np.floating]) -> float:
        data_loss = cross_entropy_error(net.predict(x, train_flg=True), t, delta=0.0)
        return float(data_loss) + net.weight_decay_penalty()

    return {name: numerical_gradient(loss, net.params[name]) for name in PARAM_NAMES}


def gradient_errors(
    net: TwoLayerNet, x: NDArray[np.floating], t: NDArray[np.integer]
) -> tuple[dict[str, float], dict[str, float]]:
    """Relative error of backprop per parameter array against the chapter's numerical gradient
    (loss with delta = 1e-7: a floor of about delta / p(correct)) and against the delta-free
    one (what is left is the numerical gradient's own error). With dropout, all three see
    one mask."""
    with net.one_mask(len(x)):
        backprop = net.gradient(x, t)
        chapter = net.numerical_gradient(x, t)
        bare = numerical_gradient_without_delta(net, x, t)
    return (
        {name: relative_error(chapter[name], backprop[name]) for name in PARAM_NAMES},
        {name: relative_error(bare[name], backprop[name]) for name in PARAM_NAMES},
    )


def seconds_per_call(fn: Callable[[], object], min_time: float, repeats: int) -> float:
    """Best of `repeats` timings, each looping `fn` until at least `min_time` seconds pass."""
    best = float("inf")
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        best = min(best, elapsed / calls)
    return best


@dataclass(frozen=True)
class Check:
    """One size's outcome: relative errors per parameter and seconds per gradient."""

    size: Size
    errors: dict[str, float]
    errors_without_delta: dict[str, float]
    numerical_s: float
    backprop_s: float

    @property
    def slowdown(self) -> float:
        """How many times slower the numerical gradient is than backprop."""
        return self.numerical_s / self.backprop_s


def check_size(
    size: Size,
    weight_init_std: float,
    activation: str,
    seed: int,
    min_time: float,
    repeats: int,
) -> Check:
    """Compare both gradients on one random problem and time each of them."""
    net, x, t = make_problem(size, weight_init_std, activation, seed)
    errors, bare = gradient_errors(net, x, t)
    numerical = seconds_per_call(lambda: net.numerical_gradient(x, t), min_time, repeats)
    backprop = seconds_per_call(lambda: net.gradient(x, t), min_time, repeats)
    return Check(size, errors, bare, numerical, backprop)


def sizes_from(rows: Sequence[Sequence[int]]) -> list[Size]:
    """Size objects from [input, hidden, output, batch] rows of the config."""
    return [Size(*(int(v) for v in row)) for row in rows]
