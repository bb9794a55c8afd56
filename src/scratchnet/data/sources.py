"""Where a dataset's arrays come from: scikit-learn's bundled digits, a folder of IDX files
(`data.root`), a system package's folder (Debian's dataset-fashion-mnist), or the download
cache (fetched from a mirror, checked by SHA-256, written atomically)."""

import functools
import hashlib
import http.client
import importlib.util
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np

from scratchnet.core.errors import DataError
from scratchnet.data.idx import parse_idx_bytes, read_idx, read_idx_payload
from scratchnet.data.registry import DATASETS, IDX_STEMS, DatasetSpec

DOWNLOAD_TIMEOUT_S = 30.0
CACHE_ENV = "SCRATCHNET_CACHE"
MIRRORS_ENV = "SCRATCHNET_MIRRORS"


class RawData(NamedTuple):
    """Images as uint8 (N, H, W) and labels as int64 (N,); test is None before a split."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray | None
    t_test: np.ndarray | None


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


def system_folder(spec: DatasetSpec) -> Path | None:
    """The folder a system package installed the dataset into, when it exists (else None)."""
    folder = Path(spec.system_dir) if spec.system_dir else None
    return folder if folder is not None and folder.is_dir() else None


def _load_idx_system(spec: DatasetSpec, folder: Path) -> RawData:
    """Read the four IDX files of a system package's folder, each checked by its SHA-256."""
    arrays = {}
    for stem in IDX_STEMS:
        path = _root_file(folder, stem)
        payload = _verified_payload(path, spec.checksum(stem))
        if payload is None:
            raise DataError(
                f"{path} does not match the expected SHA-256 {spec.checksum(stem)} of {stem} "
                f"(reinstall its package, or pass data.root={folder} to read it unchecked)"
            )
        arrays[_short_key(stem)] = parse_idx_bytes(payload, str(path))
    return _assemble(arrays, spec, str(folder))


def data_source(name: str, root: Path | None, cache_base: Path) -> str:
    """Where `load_raw` reads dataset `name` from: `root`, else the system package's folder when
    it exists, else the cache folder; digits: scikit-learn's bundled CSV file."""
    spec = DATASETS[name]
    if not spec.is_idx:
        return str(_digits_csv() or "sklearn.datasets.load_digits")
    return str(root or system_folder(spec) or cache_base / spec.name)


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
    expected = spec.checksum(stem)
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
    package = f", or apt-get install {spec.system_package}" if spec.system_package else ""
    raise DataError(
        f"download of {spec.name} file {stem}.gz failed ({'; '.join(failures) or 'no mirrors'}); "
        f"pass data.root=/path/to/idx/folder holding the four IDX files "
        f"(e.g. data.root={spec.root_example}{package})"
    )


def _cached_payload(spec: DatasetSpec, stem: str, folder: Path, download: bool) -> bytes:
    """Return the verified payload of one file, from the cache or else downloaded into it."""
    dest = folder / f"{stem}.gz"
    if dest.exists():
        payload = _verified_payload(dest, spec.checksum(stem))
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
def load_raw(name: str, root: Path | None, cache_base: Path, download: bool) -> RawData:
    """Load a dataset's uint8 arrays once per process (from `data_source`'s place); the arrays
    are made read-only."""
    spec = DATASETS[name]
    if not spec.is_idx:
        raw = _load_digits_raw()
    elif root is not None:
        raw = _load_idx_root(spec, root)
    elif (system := system_folder(spec)) is not None:
        raw = _load_idx_system(spec, system)
    else:
        raw = _load_idx_cache(spec, cache_base, download)
    for array in raw:
        if array is not None:
            array.flags.writeable = False
    return raw


def clear_cache() -> None:
    """Forget datasets loaded in this process (tests, or after replacing files on disk)."""
    load_raw.cache_clear()
