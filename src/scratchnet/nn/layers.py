"""The book's Dropout layer, with its masks drawn from a Generator the caller can seed."""

import contextlib
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from scratchnet.core.checks import check_fraction, fail


class Dropout:
    """In training, each unit is kept where rand > dropout_ratio, a fresh mask per forward
    pass; at evaluation nothing is dropped and the activations are scaled by 1 - ratio, so
    they match the training activations' expectation. Ratio 0 is the identity (no draws).
    """

    def __init__(self, dropout_ratio: float = 0.5, rng: np.random.Generator | None = None) -> None:
        self.dropout_ratio = check_fraction("dropout_ratio", dropout_ratio)
        self.rng = rng if rng is not None else np.random.default_rng()
        self.mask: NDArray[np.bool_] | None = None
        self._held: NDArray[np.bool_] | None = None

    @property
    def active(self) -> bool:
        """True when the layer drops anything (ratio > 0)."""
        return self.dropout_ratio > 0

    def draw(self, out: NDArray[np.bool_], scratch: NDArray[np.float64]) -> NDArray[np.bool_]:
        """A fresh mask rand > ratio written into `out` (`scratch`: float64, the same shape),
        or the held mask. The one place masks are drawn, so every path draws the same."""
        if self._held is not None:
            if self._held.shape != out.shape:
                fail("mask", self._held.shape, f"a held mask of shape {out.shape}")
            np.copyto(out, self._held)
        else:
            self.rng.random(out=scratch)
            np.greater(scratch, self.dropout_ratio, out=out)
        return out

    def forward(self, x: NDArray[np.floating], train_flg: bool = True) -> NDArray[np.floating]:
        """x times a fresh mask (training), or x (1 - ratio) (evaluation)."""
        if not self.active:
            return x
        if train_flg:
            shape = x.shape
            self.mask = self.draw(np.empty(shape, dtype=bool), np.empty(shape))
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        """dout through the last training mask (the gradient of the kept units only)."""
        if not self.active:
            return dout
        assert self.mask is not None, "backward before a training forward pass"
        return dout * self.mask

    @contextlib.contextmanager
    def hold(self, mask: NDArray[np.bool_]) -> Iterator[None]:
        """Use `mask` for every training forward pass inside (a fixed mask: the loss is then
        one function of the weights, so its numerical gradient is defined)."""
        previous, self._held = self._held, np.asarray(mask, dtype=bool)
        try:
            yield
        finally:
            self._held = previous

    @property
    def held(self) -> bool:
        """True inside `hold`."""
        return self._held is not None
