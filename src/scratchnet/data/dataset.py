"""Load digits, MNIST and Fashion-MNIST as one Dataset shape: uint8 pixels, float32 features
in [0, 1] made on demand, int64 labels."""

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from scratchnet.core.checks import check_fraction, check_int, check_open_fraction, fail, is_int
from scratchnet.data.features import scale_pixels
from scratchnet.data.registry import get_spec
from scratchnet.data.sources import data_source, default_cache_dir, load_raw
from scratchnet.data.splits import split_off_test, stratified_indices, validation_indices


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Train, validation and test splits ready for training; arrays are read-only so the
    digest stays true.

    Images are kept as stored (`pixels_*`: uint8 for the registered datasets) and become
    features x = pixels / scale on first use of `x_train`/`x_val`/`x_test`, in float32. The
    trainer reads the pixels and converts only the rows it touches, so MNIST costs 55 MB in
    memory instead of 219 MB. Floating pixels with scale 1 are the features themselves. The
    validation split may be empty (`data.val_fraction=0`): then choices fall back to test.
    """

    name: str
    pixels_train: np.ndarray
    t_train: np.ndarray
    pixels_test: np.ndarray
    t_test: np.ndarray
    scale: float = 1.0
    # None stands for an empty validation split, filled in by __post_init__.
    pixels_val: np.ndarray = None  # type: ignore[assignment]
    t_val: np.ndarray = None  # type: ignore[assignment]
    source: str = ""  # where the arrays were read from (a folder or file), as recorded

    def __post_init__(self) -> None:
        if self.pixels_val is None:
            object.__setattr__(self, "pixels_val", self.pixels_train[:0])
            object.__setattr__(self, "t_val", self.t_train[:0])

    @cached_property
    def x_train(self) -> np.ndarray:
        """Training features, pixels_train / scale (float32 unless already floating)."""
        return self.features(self.pixels_train)

    @cached_property
    def x_val(self) -> np.ndarray:
        """Validation features, pixels_val / scale (empty when there is no validation split)."""
        return self.features(self.pixels_val)

    @cached_property
    def x_test(self) -> np.ndarray:
        """Test features, pixels_test / scale (float32 unless already floating)."""
        return self.features(self.pixels_test)

    def features(self, pixels: np.ndarray) -> np.ndarray:
        """pixels / scale as read-only float32, or `pixels` itself if floating with scale 1."""
        if self.scale == 1 and np.issubdtype(pixels.dtype, np.floating):
            return pixels
        x = scale_pixels(pixels, self.scale)
        x.flags.writeable = False
        return x

    @property
    def train_size(self) -> int:
        """Number of training examples."""
        return len(self.t_train)

    @property
    def val_size(self) -> int:
        """Number of validation examples (0 without a validation split)."""
        return len(self.t_val)

    @property
    def has_validation(self) -> bool:
        """True when choices can be made on a validation split instead of the test set."""
        return self.val_size > 0

    def splits(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(name, pixels, labels) of train, validation (when not empty) and test, in order."""
        found = [("train", self.pixels_train, self.t_train)]
        if self.has_validation:
            found.append(("val", self.pixels_val, self.t_val))
        return [*found, ("test", self.pixels_test, self.t_test)]

    @property
    def num_classes(self) -> int:
        """Number of classes: one-hot width, or the largest label + 1."""
        if self.t_train.ndim == 2:
            return int(self.t_train.shape[1])
        return int(max(self.t_train.max(), self.t_test.max())) + 1

    @property
    def input_size(self) -> int:
        """Number of input features per example (784 for MNIST, 64 for digits)."""
        return math.prod(self.pixels_train.shape[1:])

    @cached_property
    def digest(self) -> str:
        """SHA-256 hex over the scale, then dtype, shape and every byte of the arrays (the
        validation pair only when there is one, so a set without it keeps its digest)."""
        keys = ["pixels_train", "t_train", "pixels_test", "t_test"]
        keys += ["pixels_val", "t_val"] if self.has_validation else []
        return array_digest(self.scale, [(key, getattr(self, key)) for key in keys])

    def split_digest(self, split: str) -> str:
        """SHA-256 hex of one split ("train", "val" or "test"): the scale, then dtype, shape and
        every byte of its pixels and labels."""
        pixels, labels = getattr(self, f"pixels_{split}"), getattr(self, f"t_{split}")
        return array_digest(self.scale, [("pixels", pixels), ("labels", labels)])

    def __repr__(self) -> str:
        """Summarise shapes and dtypes instead of printing the arrays."""
        x_dtype = self.features(self.pixels_train[:0]).dtype
        return (
            f"Dataset(name={self.name!r}, x_train={self.pixels_train.shape} {x_dtype}, "
            f"t_train={self.t_train.shape} {self.t_train.dtype}, "
            f"x_val={self.pixels_val.shape}, "
            f"x_test={self.pixels_test.shape} {x_dtype}, "
            f"t_test={self.t_test.shape} {self.t_test.dtype}, "
            f"pixels {self.pixels_train.dtype} / {self.scale:g})"
        )


def array_digest(scale: float, arrays: Sequence[tuple[str, np.ndarray]]) -> str:
    """SHA-256 hex over `scale:<scale>;`, then per array `<key>:<dtype>:<shape>;` and its bytes."""
    h = hashlib.sha256(f"scale:{scale!r};".encode())
    for key, array in arrays:
        contiguous = np.ascontiguousarray(array)
        h.update(f"{key}:{contiguous.dtype.str}:{contiguous.shape};".encode())
        h.update(contiguous.data.cast("B"))
    return h.hexdigest()


def check_train_size(train_size: object, n_train: int, name: str) -> int:
    """data.train_size must be an integer in 1..the training images the dataset has."""
    if is_int(train_size) and int(train_size) > n_train:  # type: ignore[call-overload]
        fail("data.train_size", train_size, f"1..{n_train}, the training images of {name}")
    return check_int("data.train_size", train_size, 1, n_train)


def _pixels(images: np.ndarray, flatten: bool) -> np.ndarray:
    """Images as stored (no copy), shaped (N, H*W) when `flatten`, else (N, 1, H, W)."""
    n = images.shape[0]
    shape = (n, math.prod(images.shape[1:])) if flatten else (n, 1, *images.shape[1:])
    pixels = images.reshape(shape)
    pixels.flags.writeable = False
    return pixels


def _targets(labels: np.ndarray, num_classes: int, one_hot: bool) -> np.ndarray:
    """Return int64 class indices or float32 one-hot rows, as a fresh read-only array."""
    t = np.eye(num_classes, dtype=np.float32)[labels] if one_hot else labels.astype(np.int64)
    t.flags.writeable = False
    return t


def load_dataset(
    name: str,
    *,
    root: str | None = None,
    cache_dir: str | None = None,
    train_size: int | None = None,
    seed: int = 0,
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    test_fraction: float = 0.25,
    val_fraction: float = 0.0,
    download: bool = True,
) -> Dataset:
    """Load a registered dataset: uint8 pixels with float32 features, int64 (or one-hot) labels.

    digits is split into train/test by `test_fraction` and `seed` (stratified); mnist and
    fashion_mnist use their own test set, read from `root` (four IDX files, raw or .gz), else
    from a system package's folder when it exists (Debian's dataset-fashion-mnist:
    /usr/share/datasets/fashion-mnist), else downloaded into `cache_dir`/<name> (default
    $SCRATCHNET_CACHE or ~/.cache/scratchnet); all but `root` are verified by SHA-256.
    `val_fraction` holds out a seeded, stratified part of the training set for validation;
    then `train_size` keeps a seeded, stratified subset of the rest, so the validation set is
    the same whatever the train size.
    Features are pixels scaled to [0, 1] when `normalize` (unscaled float32 otherwise), made
    on first use of `x_train`/`x_test`; images are shaped (N, H*W) when `flatten`, else
    (N, 1, H, W). `root` is ignored by digits, which is bundled with scikit-learn.
    """
    spec = get_spec(name)
    seed = check_int("seed", seed, 0)
    fraction = check_open_fraction("data.test_fraction", test_fraction)
    val_share = check_fraction("data.val_fraction", val_fraction)
    root_path = Path(root).expanduser().resolve() if root and spec.is_idx else None
    cache_base = Path(cache_dir).expanduser().resolve() if cache_dir else default_cache_dir()
    raw = load_raw(name, root_path, cache_base, bool(download))
    if raw.x_test is None:
        raw = split_off_test(raw, fraction, seed)
    x_train, t_train = raw.x_train, raw.t_train
    x_val, t_val = x_train[:0], t_train[:0]
    if val_share > 0:  # else no copy: MNIST's 47 MB of pixels stay a view of the file
        train_rows, val_rows = validation_indices(t_train, val_share, seed)
        x_val, t_val = x_train[val_rows], t_train[val_rows]
        x_train, t_train = x_train[train_rows], t_train[train_rows]
    if train_size is not None:
        size = check_train_size(train_size, len(t_train), name)
        keep = stratified_indices(t_train, size, np.random.default_rng([seed, 1]))
        x_train, t_train = x_train[keep], t_train[keep]
    assert raw.x_test is not None and raw.t_test is not None  # split off above if absent
    return Dataset(
        name=name,
        pixels_train=_pixels(x_train, flatten),
        t_train=_targets(t_train, spec.num_classes, one_hot_label),
        pixels_test=_pixels(raw.x_test, flatten),
        t_test=_targets(raw.t_test, spec.num_classes, one_hot_label),
        scale=float(spec.max_value) if normalize else 1.0,
        pixels_val=_pixels(x_val, flatten),
        t_val=_targets(t_val, spec.num_classes, one_hot_label),
        source=data_source(name, root_path, cache_base),
    )
