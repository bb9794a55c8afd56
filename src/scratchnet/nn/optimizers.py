"""The chapter-6 optimizers, with the book's interface: `update(params, grads)` in place.

The book's rules, for each parameter p and its gradient g (1e-7 in every denominator):

    SGD        p -= lr g
    Momentum   v = momentum v - lr g;  p += v
    Nesterov   p += momentum^2 v;  p -= (1 + momentum) lr g;  v *= momentum;  v -= lr g
    AdaGrad    h += g g;  p -= lr g / (sqrt(h) + 1e-7)
    RMSprop    h = decay_rate h + (1 - decay_rate) g g;  p -= lr g / (sqrt(h) + 1e-7)
    Adam       t += 1;  lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)
               m += (1 - beta1) (g - m);  v += (1 - beta2) (g g - v)
               p -= lr_t m / (sqrt(v) + 1e-7)

Each optimizer keeps its state (v, h, m, t) per parameter name, made as zeros on its first
update in the parameter's dtype: one optimizer belongs to one run. The rules are written
with in-place ufuncs into a scratch array per parameter, so an update allocates nothing
and never writes to `grads`.
"""

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from scratchnet.core.checks import check_choice, check_fraction, check_positive

EPS = 1e-7  # in every denominator, as in the book

Array = NDArray[np.floating]
Arrays = Mapping[str, Array]


class Optimizer:
    """What every optimizer shares: `lr`, and zero-initialised arrays per parameter name."""

    def __init__(self, lr: float) -> None:
        self.lr = check_positive("lr", lr)
        self._arrays: dict[tuple[str, str], NDArray[np.floating]] = {}

    def _zeros(self, kind: str, key: str, like: NDArray[np.floating]) -> NDArray[np.floating]:
        """This optimizer's array `kind` (v, h, m, scratch ...) of parameter `key`."""
        slot = (kind, key)
        if slot not in self._arrays:
            self._arrays[slot] = np.zeros_like(like)
        return self._arrays[slot]

    def state(self) -> dict[str, NDArray[np.floating]]:
        """The optimizer's state arrays by `kind.key` (scratch excluded), for tests and checks."""
        return {f"{k}.{p}": a for (k, p), a in self._arrays.items() if k != "scratch"}

    def update(self, params: Arrays, grads: Arrays) -> None:
        """Move every parameter in `params` in place by its gradient in `grads`."""
        for key, p in params.items():
            self._update_one(key, p, grads[key], self._zeros("scratch", key, p))

    def _update_one(self, key: str, p: Array, g: Array, s: Array) -> None:
        """Update parameter `key` (value p, gradient g) in place, with s as scratch."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: p -= lr g."""

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr)

    def _update_one(self, key: str, p: Array, g: Array, s: Array) -> None:
        np.multiply(g, self.lr, out=s)
        p -= s


def _check_momentum(momentum: float) -> float:
    """A momentum in [0, 1)."""
    return check_fraction("momentum", momentum)


class Momentum(Optimizer):
    """Momentum: v = momentum v - lr g; p += v."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr)
        self.momentum = _check_momentum(momentum)

    def _update_one(self, key: str, p: Array, g: Array, s: Array) -> None:
        v = self._zeros("v", key, p)
        v *= self.momentum
        np.multiply(g, self.lr, out=s)
        v -= s
        p += v


class Nesterov(Optimizer):
    """Nesterov's accelerated gradient as the book writes it, on the current parameters:
    p += momentum^2 v; p -= (1 + momentum) lr g; v *= momentum; v -= lr g."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr)
        self.momentum = _check_momentum(momentum)

    def _update_one(self, key: str, p: Array, g: Array, s: Array) -> None:
        v = self._zeros("v", key, p)
        np.multiply(v, self.momentum * self.momentum, out=s)
        p += s
        np.multiply(g, (1 + self.momentum) * self.lr, out=s)
        p -= s
        v *= self.momentum
        np.multiply(g, self.lr, out=s)
        v -= s


def _scaled_step(p: Array, g: Array, h: Array, s: Array, lr: float) -> None:
    """p -= lr g / (sqrt(h) + 1e-7), AdaGrad's and RMSprop's step, through scratch s."""
    np.sqrt(h, out=s)
    s += EPS
    np.divide(g, s, out=s)
    s *= lr
    p -= s


class AdaGrad(Optimizer):
    """AdaGrad: h += g g; p -= lr g / (sqrt(h) + 1e-7)."""

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr)

    def _update_one(self, key: str, p: Array, g: Array, s: Array) -> None:
        h = self._zeros("h", key, p)
        np.multiply(g, g, out=s)
        h += s
        _scaled_step(p, g, h, s, self.lr)


class RMSprop(Optimizer):
    """RMSprop: h = decay_rate h + (1 - decay_rate) g g; p -= lr g / (sqrt(h) + 1e-7)."""

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99) -> None:
        super().__init__(lr)
        self.decay_rate = check_fraction("decay_rate", decay_rate)

    def _update_one(self, key: str, p: Array, g: Array, s: Array) -> None:
        h = self._zeros("h", key, p)
        h *= self.decay_rate
        np.multiply(g, g, out=s)
        s *= 1 - self.decay_rate
        h += s
        _scaled_step(p, g, h, s, self.lr)


class Adam(Optimizer):
    """Adam with the book's bias correction folded into the step size lr_t."""

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999) -> None:
        super().__init__(lr)
        self.beta1 = check_fraction("beta1", beta1)
        self.beta2 = check_fraction("beta2", beta2)
        self.iter = 0
        self._lr_t = 0.0

    def update(self, params: Arrays, grads: Arrays) -> None:
        """One step t for all parameters: t += 1 and lr_t, then each parameter's update."""
        self.iter += 1
        t = self.iter
        self._lr_t = self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        super().update(params, grads)

    def _update_one(self, key: str, p: Array, g: Array, s: Array) -> None:
        m, v = self._zeros("m", key, p), self._zeros("v", key, p)
        np.subtract(g, m, out=s)
        s *= 1 - self.beta1
        m += s
        np.multiply(g, g, out=s)
        s -= v
        s *= 1 - self.beta2
        v += s
        np.sqrt(v, out=s)
        s += EPS
        np.divide(m, s, out=s)
        s *= self._lr_t
        p -= s


def pack(arrays: Mapping[str, Array]) -> dict[str, Array]:
    """Copies of `arrays` as consecutive views of one contiguous buffer (same names, shapes,
    dtype), so that `flat_buffer` can hand an optimizer all of them as one array: every rule
    above is elementwise, and one call per operation beats one per parameter."""
    values = list(arrays.values())
    flat = np.empty(sum(a.size for a in values), dtype=np.result_type(*values))
    packed, start = {}, 0
    for key, a in arrays.items():
        view = flat[start : start + a.size].reshape(a.shape)
        view[...] = a
        packed[key] = view
        start += a.size
    return packed


def flat_buffer(arrays: Mapping[str, Array]) -> Array | None:
    """The one buffer `arrays` are consecutive views of, in order and covering all of it (as
    `pack` makes them); None when they are not (e.g. a parameter was replaced)."""
    values = list(arrays.values())
    base = values[0].base if values else None
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    address, end = base.ctypes.data, 0
    for a in values:
        if a.base is not base or not a.flags.c_contiguous or a.dtype != base.dtype:
            return None
        if a.ctypes.data != address + end * base.itemsize:
            return None
        end += a.size
    return base if end == base.size else None


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def make_optimizer(name: str, lr: float, **options: float) -> Optimizer:
    """A fresh optimizer `name` (sgd, momentum, nesterov, adagrad, rmsprop, adam) at `lr`,
    its other hyperparameters from `options` (the book's defaults for the rest)."""
    cls = OPTIMIZERS[check_choice("optimizer", name, tuple(OPTIMIZERS))]
    return cls(lr, **options)
