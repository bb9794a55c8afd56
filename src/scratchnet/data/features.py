"""Features from stored pixels: x = pixels / scale in float32, for a whole split or just the
rows a step reads.

Both paths divide the same way, so the trainer, which converts only the rows it touches,
sees the very numbers of `Dataset.x_train`.
"""

import numpy as np
from numpy.typing import NDArray


def scale_pixels(pixels: NDArray, scale: float, out: NDArray | None = None) -> NDArray:
    """pixels / scale computed in float32 (into `out` when given, cast to its dtype)."""
    return np.divide(pixels, np.float32(scale), out=out, dtype=np.float32)


class RowReader:
    """Reads rows of one array of pixels (or features) as features into caller's buffers.

    Gathering uint8 rows and scaling them costs less than gathering float32 rows (a quarter
    of the bytes); the gathered pixels go through a staging buffer reused per shape.
    """

    def __init__(self, pixels: NDArray, scale: float, dtype: np.dtype) -> None:
        self.pixels = pixels.reshape(len(pixels), -1)
        self.scale = scale
        self.dtype = dtype
        # Floating features in the net's dtype need no conversion, only gathering.
        self.direct = pixels.dtype == dtype and scale == 1
        self._staging: dict[tuple[int, ...], NDArray] = {}

    def __len__(self) -> int:
        return len(self.pixels)

    def take(self, rows: NDArray, out: NDArray, staging: NDArray | None = None) -> NDArray:
        """Features of `pixels[rows]` (an index array), written into `out` (the gathered
        pixels go through `staging` when given: a caller on another thread brings its own)."""
        if self.direct:
            return np.take(self.pixels, rows, axis=0, out=out)
        staging = self._staged(out.shape) if staging is None else staging
        staged = np.take(self.pixels, rows, axis=0, out=staging)
        return scale_pixels(staged, self.scale, out)

    def slice(self, start: int, stop: int, out: NDArray) -> NDArray:
        """Features of the contiguous rows start:stop, in `out` unless usable as they are."""
        source = self.pixels[start:stop]
        if self.direct:
            return source
        return scale_pixels(source, self.scale, out[: len(source)])

    def _staged(self, shape: tuple[int, ...]) -> NDArray:
        if shape not in self._staging:
            self._staging[shape] = np.empty(shape, dtype=self.pixels.dtype)
        return self._staging[shape]
