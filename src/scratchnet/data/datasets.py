"""Load digits, MNIST and Fashion-MNIST as one Dataset shape: uint8 pixels, float32 features
in [0, 1] made on demand, int64 labels."""

import functools
import hashlib
import http.client
import importlib.util
import math
import os
import tempfile
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np

from scratchnet.data.idx import parse_idx_bytes, read_idx, read_idx_payload
from scratchnet.errors import ConfigError, DataError

DOWNLOAD_TIMEOUT_S = 30.0
CACHE_ENV = "SCRATCHNET_CACHE"
MIRRORS_ENV = "SCRATCHNET_MIRRORS"

IDX_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass(frozen=True)
class DatasetSpec:
    """What a registered dataset looks like and, for IDX datasets, where to fetch it."""

    name: str
    image_shape: tuple[int, int]
    num_classes: int
    max_value: int
    mirrors: tuple[str, ...] = ()
    sha256: Mapping[str, str] | None = None
    root_example: str = "/path/to/idx/folder"

    @property
    def is_idx(self) -> bool:
        """True when the data comes as the four MNIST-style IDX files."""
        return self.sha256 is not None


DATASETS: dict[str, DatasetSpec] = {
    "digits": DatasetSpec(name="digits", image_shape=(8, 8), num_classes=10, max_value=16),
    "mnist": DatasetSpec(
        name="mnist",
        image_shape=(28, 28),
        num_classes=10,
        max_value=255,
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        sha256={
            "train-images-idx3-ubyte": (
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
            ),
            "train-labels-idx1-ubyte": (
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
            ),
            "t10k-images-idx3-ubyte": (
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
            ),
            "t10k-labels-idx1-ubyte": (
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
            ),
        },
        root_example="/usr/share/datasets/mnist",
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        image_shape=(28, 28),
        num_classes=10,
        max_value=255,
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        sha256={
            "train-images-idx3-ubyte": (
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
            ),
            "train-labels-idx1-ubyte": (
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
            ),
            "t10k-images-idx3-ubyte": (
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
            ),
            "t10k-labels-idx1-ubyte": (
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
            ),
        },
        root_example="/usr/share/datasets/fashion-mnist",
    ),
}


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A train/test split ready for training; arrays are read-only so the digest stays true.

    Images are kept as stored (`pixels_*`: uint8 for the registered datasets) and become
    features x = pixels / scale on first use of `x_train`/`x_test`, in float32. The trainer
    reads the pixels and converts only the rows it touches, so MNIST costs 55 MB in memory
    instead of 219 MB. Floating pixels with scale 1 are the features themselves.
    """

    name: str
    pixels_train: np.ndarray
    t_train: np.ndarray
    pixels_test: np.ndarray
    t_test: np.ndarray
    scale: float = 1.0

    @cached_property
    def x_train(self) -> np.ndarray:
        """Training features, pixels_train / scale (float32 unless already floating)."""
        return self.features(self.pixels_train)

    @cached_property
    def x_test(self) -> np.ndarray:
        """Test features, pixels_test / scale (float32 unless already floating)."""
        return self.features(self.pixels_test)

    def features(self, pixels: np.ndarray) -> np.ndarray:
        """pixels / scale as read-only float32, or `pixels` itself if floating with scale 1."""
        if self.scale == 1 and np.issubdtype(pixels.dtype, np.floating):
            return pixels
        x = np.divide(pixels, np.float32(self.scale), dtype=np.float32)
        x.flags.writeable = False
        return x

    @property
    def train_size(self) -> int:
        """Number of training examples."""
        return len(self.t_train)

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
        """SHA-256 hex over the scale, then dtype, shape and every byte of the four arrays."""
        h = hashlib.sha256(f"scale:{self.scale!r};".encode())
        for key in ("pixels_train", "t_train", "pixels_test", "t_test"):
            array = np.ascontiguousarray(getattr(self, key))
            h.update(f"{key}:{array.dtype.str}:{array.shape};".encode())
            h.update(memoryview(array).cast("B"))
        return h.hexdigest()

    def __repr__(self) -> str:
        """Summarise shapes and dtypes instead of printing the arrays."""
        x_dtype = self.features(self.pixels_train[:0]).dtype
        return (
            f"Dataset(name={self.name!r}, x_train={self.pixels_train.shape} {x_dtype}, "
            f"t_train={self.t_train.shape} {self.t_train.dtype}, "
            f"x_test={self.pixels_test.shape} {x_dtype}, "
            f"t_test={self.t_test.shape} {self.t_test.dtype}, "
            f"pixels {self.pixels_train.dtype} / {self.scale:g})"
        )


class RawData(NamedTuple):
    """Images as uint8 (N, H, W) and labels as int64 (N,); test is None before a split."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray | None
    t_test: np.ndarray | None


# ---------------------------------------------------------------- config validation


def _get_spec(name: str) -> DatasetSpec:
    """Return the registered spec for `name` or raise ConfigError listing the allowed names."""
    if name not in DATASETS:
        raise ConfigError(
            f"data.name={name!r} is not a known dataset (allowed: {', '.join(sorted(DATASETS))})"
        )
    return DATASETS[name]


def _check_int(key: str, value: object, low: int, high: int | None = None) -> int:
    """Return `value` if it is an int in low..high, else raise ConfigError naming `key`."""
    allowed = f"{low}..{high}" if high is not None else f"integers >= {low}"
    in_range = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not in_range or value < low or (high is not None and value > high):
        raise ConfigError(f"{key}={value!r} is out of range (allowed: {allowed})")
    return int(value)


def _check_train_size(train_size: object, n_train: int, name: str) -> int:
    """Validate data.train_size against the number of training images available."""
    if isinstance(train_size, int) and not isinstance(train_size, bool) and train_size > n_train:
        raise ConfigError(
            f"data.train_size={train_size} is larger than the {n_train} training images of "
            f"{name} (allowed: 1..{n_train})"
        )
    return _check_int("data.train_size", train_size, 1, n_train)


def _check_test_fraction(test_fraction: object) -> float:
    """Return test_fraction if it is a number strictly between 0 and 1, else ConfigError."""
    ok = isinstance(test_fraction, int | float) and not isinstance(test_fraction, bool)
    if not ok or not 0.0 < float(test_fraction) < 1.0:
        raise ConfigError(
            f"data.test_fraction={test_fraction!r} is out of range (allowed: 0 < value < 1)"
        )
    return float(test_fraction)


# ---------------------------------------------------------------- sampling


def _largest_remainder(counts: np.ndarray, size: int) -> np.ndarray:
    """Split `size` across classes in proportion to `counts`, summing exactly to `size`."""
    quotas = counts * size / counts.sum()
    alloc = np.floor(quotas).astype(np.int64)
    short = size - int(alloc.sum())
    order = np.argsort(-(quotas - alloc), kind="stable")
    alloc[order[:short]] += 1
    return alloc


def stratified_indices(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Pick `size` sorted indices keeping class proportions (plain random below one per class)."""
    n = len(labels)
    if size == n:
        return np.arange(n)
    classes, counts = np.unique(labels, return_counts=True)
    if size < len(classes):
        return np.sort(rng.choice(n, size=size, replace=False))
    alloc = _largest_remainder(counts, size)
    picked = [
        rng.choice(np.flatnonzero(labels == c), size=int(k), replace=False)
        for c, k in zip(classes, alloc, strict=True)
    ]
    return np.sort(np.concatenate(picked))


def _split(raw: RawData, test_fraction: float, seed: int) -> RawData:
    """Split a dataset without a test set into stratified train/test parts, seeded."""
    n = len(raw.t_train)
    n_test = min(max(math.ceil(test_fraction * n), 1), n - 1)
    test = stratified_indices(raw.t_train, n_test, np.random.default_rng([seed, 0]))
    train = np.setdiff1d(np.arange(n), test, assume_unique=True)
    return RawData(raw.x_train[train], raw.t_train[train], raw.x_train[test], raw.t_train[test])


# ---------------------------------------------------------------- conversion


def _pixels(images: np.ndarray, flatten: bool) -> np.ndarray:
    """Images as stored (no copy), shaped (N, H*W) when `flatten`, else (N, 1, H, W)."""
    n = images.shape[0]
    pixels = images.reshape(n, -1) if flatten else images.reshape(n, 1, *images.shape[1:])
    pixels.flags.writeable = False
    return pixels


def _targets(labels: np.ndarray, num_classes: int, one_hot: bool) -> np.ndarray:
    """Return int64 class indices or float32 one-hot rows, as a fresh read-only array."""
    t = np.eye(num_classes, dtype=np.float32)[labels] if one_hot else labels.astype(np.int64)
    t.flags.writeable = False
    return t


# ---------------------------------------------------------------- sources


def _digits_csv() -> Path | None:
    """scikit-learn's bundled digits.csv.gz, found without importing scikit-learn (~1 s)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    return path if path.is_file() else None


def _load_digits_raw() -> RawData:
    """Load sklearn's bundled 8x8 digits (values 0..16) as uint8 images and int64 labels.

    Each row of its CSV is 64 pixel values and the label, as `sklearn.datasets.load_digits`
    reads it; that function is the fallback should the file ever move.
    """
    path = _digits_csv()
    if path is None:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return RawData(bunch.images.astype(np.uint8), bunch.target.astype(np.int64), None, None)
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    images = table[:, :-1].astype(np.uint8).reshape(-1, 8, 8)
    return RawData(images, table[:, -1].copy(), None, None)


def _root_file(root: Path, stem: str) -> Path:
    """Return root/stem or root/stem.gz, whichever exists, else DataError listing expectations."""
    for candidate in (root / stem, root / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"data.root={root} has no {stem} or {stem}.gz "
        f"(expected files: {', '.join(IDX_STEMS)}; each raw or .gz)"
    )


def _check_pair(images: np.ndarray, labels: np.ndarray, spec: DatasetSpec, where: str) -> None:
    """Validate one images/labels pair: uint8, shapes, equal counts and labels in range."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != spec.image_shape:
        raise DataError(
            f"{where}: images are {images.dtype} {images.shape} "
            f"(expected uint8 (N, {spec.image_shape[0]}, {spec.image_shape[1]}))"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{where}: labels are {labels.dtype} {labels.shape} (expected uint8 (N,))")
    if len(images) != len(labels):
        raise DataError(
            f"{where}: {len(images)} images but {len(labels)} labels (the counts must match)"
        )
    if labels.max() >= spec.num_classes:
        raise DataError(
            f"{where}: label {int(labels.max())} is out of range "
            f"(allowed: 0..{spec.num_classes - 1})"
        )


def _assemble(arrays: dict[str, np.ndarray], spec: DatasetSpec, where: str) -> RawData:
    """Validate the four IDX arrays and pack them as RawData with int64 labels."""
    for part in ("train", "t10k"):
        _check_pair(arrays[f"{part}-images"], arrays[f"{part}-labels"], spec, f"{where} ({part})")
    return RawData(
        arrays["train-images"],
        arrays["train-labels"].astype(np.int64),
        arrays["t10k-images"],
        arrays["t10k-labels"].astype(np.int64),
    )


def _short_key(stem: str) -> str:
    """Map 'train-images-idx3-ubyte' to 'train-images'."""
    return stem.rsplit("-", 2)[0]


def _load_idx_root(spec: DatasetSpec, root: Path) -> RawData:
    """Read the four IDX files from a user folder, validating format but not checksums."""
    if not root.is_dir():
        raise DataError(
            f"data.root={root} does not exist or is not a folder "
            f"(expected a folder with {', '.join(IDX_STEMS)}; each raw or .gz)"
        )
    arrays = {_short_key(stem): read_idx(_root_file(root, stem)) for stem in IDX_STEMS}
    return _assemble(arrays, spec, f"data.root={root}")


def default_cache_dir() -> Path:
    """Return $SCRATCHNET_CACHE or ~/.cache/scratchnet, the base of the download cache."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "scratchnet"


def _one_line(exc: BaseException) -> str:
    """Render an exception as a single line for an error message."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _verified_payload(path: Path, expected: str) -> bytes | None:
    """Return the decompressed payload of `path` if its SHA-256 is `expected`, else None."""
    try:
        payload = read_idx_payload(path)
    except DataError:
        return None
    return payload if hashlib.sha256(payload).hexdigest() == expected else None


def mirrors_of(spec: DatasetSpec) -> tuple[str, ...]:
    """$SCRATCHNET_MIRRORS (space-separated base URLs, e.g. a local mirror) or the spec's own.

    Whatever the mirror, every file is still checked against the spec's SHA-256.
    """
    env = os.environ.get(MIRRORS_ENV, "").split()
    return tuple(m if m.endswith("/") else f"{m}/" for m in env) or spec.mirrors


def _fetch(url: str, dest_dir: Path, stem: str) -> Path:
    """Download `url` into a new temp file in dest_dir and return its path (caller cleans up)."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".part", dir=dest_dir)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response,
        ):
            while chunk := response.read(1 << 20):
                out.write(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _download_payload(spec: DatasetSpec, stem: str, dest: Path) -> bytes:
    """Download stem.gz from the first mirror that works, verify it, then os.replace to dest."""
    expected = spec.sha256[stem]
    failures = []
    for mirror in mirrors_of(spec):
        url = f"{mirror}{stem}.gz"
        try:
            tmp = _fetch(url, dest.parent, stem)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            failures.append(f"{url}: {_one_line(exc)}")
            continue
        payload = _verified_payload(tmp, expected)
        if payload is None:
            tmp.unlink(missing_ok=True)
            raise DataError(
                f"{url} does not match the expected SHA-256 {expected} of {stem} "
                f"(nothing was cached; retry later or pass data.root=/path/to/idx/folder)"
            )
        os.replace(tmp, dest)
        return payload
    raise DataError(
        f"download of {spec.name} file {stem}.gz failed ({'; '.join(failures) or 'no mirrors'}); "
        f"pass data.root=/path/to/idx/folder holding the four IDX files "
        f"(e.g. data.root={spec.root_example})"
    )


def _cached_payload(spec: DatasetSpec, stem: str, folder: Path, download: bool) -> bytes:
    """Return the verified payload of one file, from the cache or else downloaded into it."""
    dest = folder / f"{stem}.gz"
    if dest.exists():
        payload = _verified_payload(dest, spec.sha256[stem])
        if payload is not None:
            return payload
        if not download:
            raise DataError(
                f"cached file {dest} fails its SHA-256 check "
                "(delete it and pass download=True, or pass data.root=/path/to/idx/folder)"
            )
    elif not download:
        raise DataError(
            f"{dest} is not cached and download=False "
            f"(pass download=True or data.root=/path/to/idx/folder)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create cache folder {folder}: {_one_line(exc)} "
            f"(set ${CACHE_ENV} or cache_dir to a writable folder)"
        ) from None
    return _download_payload(spec, stem, dest)


def _load_idx_cache(spec: DatasetSpec, cache_base: Path, download: bool) -> RawData:
    """Load the four checksum-verified IDX files from cache_base/<name>, downloading if needed."""
    folder = cache_base / spec.name
    arrays = {}
    for stem in IDX_STEMS:
        payload = _cached_payload(spec, stem, folder, download)
        arrays[_short_key(stem)] = parse_idx_bytes(payload, str(folder / f"{stem}.gz"))
    return _assemble(arrays, spec, f"cache {folder}")


@functools.lru_cache(maxsize=4)
def _load_raw(name: str, root: Path | None, cache_base: Path, download: bool) -> RawData:
    """Load a dataset's uint8 arrays once per process; the arrays are made read-only."""
    spec = DATASETS[name]
    if not spec.is_idx:
        raw = _load_digits_raw()
    elif root is not None:
        raw = _load_idx_root(spec, root)
    else:
        raw = _load_idx_cache(spec, cache_base, download)
    for array in raw:
        if array is not None:
            array.flags.writeable = False
    return raw


def clear_cache() -> None:
    """Forget datasets loaded in this process (tests, or after replacing files on disk)."""
    _load_raw.cache_clear()


# ---------------------------------------------------------------- public entry point


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
    download: bool = True,
) -> Dataset:
    """Load a registered dataset: uint8 pixels with float32 features, int64 (or one-hot) labels.

    digits is split into train/test by `test_fraction` and `seed` (stratified); mnist and
    fashion_mnist use their own test set, read from `root` (four IDX files, raw or .gz) or
    downloaded into `cache_dir`/<name> (default $SCRATCHNET_CACHE or ~/.cache/scratchnet) and
    verified by SHA-256. `train_size` keeps a seeded, stratified subset of the training set.
    Features are pixels scaled to [0, 1] when `normalize` (unscaled float32 otherwise), made
    on first use of `x_train`/`x_test`; images are shaped (N, H*W) when `flatten`, else
    (N, 1, H, W). `root` is ignored by digits, which is bundled with scikit-learn.
    """
    spec = _get_spec(name)
    seed = _check_int("seed", seed, 0)
    fraction = _check_test_fraction(test_fraction)
    root_path = Path(root).expanduser().resolve() if root and spec.is_idx else None
    cache_base = Path(cache_dir).expanduser().resolve() if cache_dir else default_cache_dir()
    raw = _load_raw(name, root_path, cache_base, bool(download))
    if raw.x_test is None:
        raw = _split(raw, fraction, seed)
    x_train, t_train = raw.x_train, raw.t_train
    if train_size is not None:
        size = _check_train_size(train_size, len(t_train), name)
        keep = stratified_indices(t_train, size, np.random.default_rng([seed, 1]))
        x_train, t_train = x_train[keep], t_train[keep]
    return Dataset(
        name=name,
        pixels_train=_pixels(x_train, flatten),
        t_train=_targets(t_train, spec.num_classes, one_hot_label),
        pixels_test=_pixels(raw.x_test, flatten),
        t_test=_targets(raw.t_test, spec.num_classes, one_hot_label),
        scale=float(spec.max_value) if normalize else 1.0,
    )
