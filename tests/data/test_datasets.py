"""Specification of load_dataset: digits, IDX folders, the download cache and Dataset itself."""

import dataclasses
import functools
import http.server
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from scratchnet.core.errors import ConfigError, DataError, IdxFormatError
from scratchnet.data import DATASETS, Dataset, load_dataset, read_idx, write_idx
from scratchnet.data.idx import payload_sha256
from scratchnet.data.registry import IDX_STEMS
from scratchnet.data.sources import _load_digits_raw, clear_cache

N_TRAIN, N_TEST = 40, 20


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    """Isolate every test from datasets loaded, and the cache folder used, by other tests."""
    monkeypatch.setenv("SCRATCHNET_CACHE", str(tmp_path / "env-cache"))
    clear_cache()
    yield
    clear_cache()


def fake_mnist_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """Small MNIST-shaped arrays: random 28x28 images, every class in train and test."""
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(N_TRAIN) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(N_TEST) % 10).astype(np.uint8),
    }


def write_folder(folder: Path, arrays: dict[str, np.ndarray], suffix: str = ".gz") -> Path:
    """Write the four IDX files into `folder` with the given suffix and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in arrays.items():
        write_idx(folder / f"{stem}{suffix}", array)
    return folder


def unused_port() -> int:
    """Return a localhost port nobody listens on, for an unreachable mirror."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that does not log requests to stderr."""

    def log_message(self, *args):
        """Drop the access log line."""


@pytest.fixture
def mirror(tmp_path):
    """A real HTTP server on 127.0.0.1 serving fake MNIST .gz files; yields (url, folder)."""
    folder = write_folder(tmp_path / "served", fake_mnist_arrays())
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", folder
    server.shutdown()
    server.server_close()
    thread.join()


def use_mirrors(monkeypatch, name: str, mirrors: tuple[str, ...], served: Path | None) -> None:
    """Point a registered IDX dataset at test mirrors, trusting the checksums of `served`."""
    sha = dict(DATASETS[name].sha256)
    if served is not None:
        sha = {stem: payload_sha256(served / f"{stem}.gz") for stem in IDX_STEMS}
    spec = dataclasses.replace(DATASETS[name], mirrors=mirrors, sha256=sha, system_dir=None)
    monkeypatch.setitem(DATASETS, name, spec)  # no system folder: the download path


# ---------------------------------------------------------------- digits


def test_digits_has_1797_examples_of_64_features():
    data = load_dataset("digits")
    assert len(data.x_train) + len(data.x_test) == 1797
    assert data.x_train.shape[1] == data.x_test.shape[1] == 64
    assert data.input_size == 64


def test_digits_test_set_is_test_fraction_of_the_data_rounded_up():
    data = load_dataset("digits", test_fraction=0.25)
    assert len(data.x_test) == 450
    assert len(data.x_train) == 1347


def test_digits_images_are_float32_in_unit_interval():
    data = load_dataset("digits")
    for x in (data.x_train, data.x_test):
        assert x.dtype == np.float32
        assert x.min() == 0.0
        assert x.max() == 1.0


def test_digits_without_normalize_keeps_raw_values_0_to_16_as_float32():
    data = load_dataset("digits", normalize=False)
    assert data.x_train.dtype == np.float32
    assert data.x_train.max() == 16.0
    np.testing.assert_array_equal(data.x_train, np.round(data.x_train))


def test_images_stay_uint8_pixels_until_the_features_are_asked_for():
    data = load_dataset("digits")
    assert data.pixels_train.dtype == np.uint8 and data.scale == 16
    assert "x_train" not in vars(data)  # nothing converted yet
    assert data.x_train.dtype == np.float32
    np.testing.assert_array_equal(data.x_train, data.pixels_train / np.float32(16))


def test_digest_covers_the_scale():
    data = load_dataset("digits")
    assert dataclasses.replace(data, scale=15.0).digest != data.digest


def test_floating_pixels_with_scale_one_are_the_features_themselves():
    x = np.linspace(0, 1, 8, dtype=np.float64).reshape(4, 2)
    t = np.arange(4)
    assert Dataset("given", x, t, x, t).x_train is x


def test_digits_are_read_as_scikit_learn_reads_them():
    from sklearn.datasets import load_digits

    raw, reference = _load_digits_raw(), load_digits()
    np.testing.assert_array_equal(raw.x_train, reference.images)
    np.testing.assert_array_equal(raw.t_train, reference.target)
    assert raw.x_train.dtype == np.uint8 and raw.t_train.dtype == np.int64


def test_labels_are_int64_class_indices():
    data = load_dataset("digits")
    assert data.t_train.dtype == np.int64
    assert data.t_train.shape == (len(data.x_train),)
    assert set(np.unique(data.t_test)) == set(range(10))
    assert data.num_classes == 10


def test_digits_split_is_stratified_across_all_ten_classes():
    data = load_dataset("digits")
    train_counts = np.bincount(data.t_train, minlength=10)
    test_counts = np.bincount(data.t_test, minlength=10)
    assert (train_counts > 0).all() and (test_counts > 0).all()
    fraction = test_counts / (train_counts + test_counts)
    np.testing.assert_allclose(fraction, 0.25, atol=0.01)


def test_same_seed_gives_the_same_split():
    a, b = load_dataset("digits", seed=3), load_dataset("digits", seed=3)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.t_test, b.t_test)


def test_different_seed_gives_a_different_split():
    a, b = load_dataset("digits", seed=1), load_dataset("digits", seed=2)
    assert a.x_test.shape == b.x_test.shape
    assert not np.array_equal(a.x_test, b.x_test)


def sorted_rows(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Rows of [label, features...] in lexicographic order, to compare datasets as multisets."""
    rows = np.column_stack([t, x])
    return rows[np.lexsort(rows.T[::-1])]


def test_digits_split_is_a_partition_of_all_1797_examples():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    data = load_dataset("digits")
    together = sorted_rows(
        np.concatenate([data.x_train, data.x_test]), np.concatenate([data.t_train, data.t_test])
    )
    np.testing.assert_array_equal(together, sorted_rows(bunch.data / 16, bunch.target))


def test_flatten_false_gives_one_channel_images():
    data = load_dataset("digits", flatten=False)
    assert data.x_train.shape[1:] == (1, 8, 8)
    assert data.input_size == 64


def test_one_hot_labels_are_float32_rows_matching_the_indices():
    plain = load_dataset("digits")
    hot = load_dataset("digits", one_hot_label=True)
    assert hot.t_train.dtype == np.float32
    assert hot.t_train.shape == (len(plain.t_train), 10)
    np.testing.assert_array_equal(hot.t_train.sum(axis=1), 1.0)
    np.testing.assert_array_equal(hot.t_train.argmax(axis=1), plain.t_train)
    assert hot.num_classes == 10


def test_returned_arrays_are_read_only():
    data = load_dataset("digits")
    for array in (data.x_train, data.t_train, data.x_test, data.t_test):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0


def test_each_call_returns_fresh_arrays_from_the_cached_raw_data():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert not np.shares_memory(a.x_train, b.x_train)


def test_repr_summarises_shapes_instead_of_printing_arrays():
    assert "x_train=(1347, 64) float32" in repr(load_dataset("digits"))


# ---------------------------------------------------------------- train_size


def test_train_size_keeps_exactly_that_many_examples():
    data = load_dataset("digits", train_size=100)
    assert data.x_train.shape == (100, 64)
    assert data.t_train.shape == (100,)


def test_train_size_keeps_the_test_set_whole():
    assert len(load_dataset("digits", train_size=100).x_test) == 450


def test_train_size_subset_keeps_class_proportions():
    full = load_dataset("digits")
    sub = load_dataset("digits", train_size=200)
    expected = np.bincount(full.t_train, minlength=10) * 200 / len(full.t_train)
    actual = np.bincount(sub.t_train, minlength=10)
    assert (np.abs(actual - expected) < 1).all()


def test_train_size_subset_is_part_of_the_full_training_set():
    full = load_dataset("digits")
    sub = load_dataset("digits", train_size=50)
    full_rows = {row.tobytes() for row in full.x_train}
    assert all(row.tobytes() in full_rows for row in sub.x_train)


def test_same_seed_gives_the_same_train_subset():
    a = load_dataset("digits", train_size=100, seed=5)
    b = load_dataset("digits", train_size=100, seed=5)
    np.testing.assert_array_equal(a.x_train, b.x_train)


def test_different_seed_gives_a_different_train_subset():
    a = load_dataset("digits", train_size=100, seed=5)
    b = load_dataset("digits", train_size=100, seed=6)
    assert not np.array_equal(a.x_train, b.x_train)


def test_train_size_below_the_number_of_classes_is_still_exact():
    assert len(load_dataset("digits", train_size=3).t_train) == 3


def test_train_size_equal_to_the_training_set_keeps_everything():
    full = load_dataset("digits")
    same = load_dataset("digits", train_size=len(full.t_train))
    np.testing.assert_array_equal(full.x_train, same.x_train)


def test_too_large_train_size_is_a_config_error_naming_the_value_and_range():
    with pytest.raises(ConfigError, match=r"data\.train_size=10000000 .*allowed: 1\.\.1347"):
        load_dataset("digits", train_size=10_000_000)


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "100"])
def test_train_size_that_is_not_a_positive_int_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="data.train_size"):
        load_dataset("digits", train_size=bad)


# ---------------------------------------------------------------- configuration errors


def test_unknown_name_is_a_config_error_naming_it_and_the_allowed_names():
    with pytest.raises(ConfigError, match="cifar10.*digits, fashion_mnist, mnist"):
        load_dataset("cifar10")


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5])
def test_test_fraction_outside_0_1_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="data.test_fraction"):
        load_dataset("digits", test_fraction=bad)


def test_negative_seed_is_a_config_error():
    with pytest.raises(ConfigError, match="seed=-1"):
        load_dataset("digits", seed=-1)


def test_config_errors_are_one_line():
    with pytest.raises(ConfigError) as info:
        load_dataset("digits", train_size=10_000_000)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------- digest


def test_digest_is_a_sha256_hex_stable_across_loads():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert len(a.digest) == 64
    assert a.digest == b.digest


def test_digest_changes_with_the_split():
    assert load_dataset("digits", seed=0).digest != load_dataset("digits", seed=1).digest


def test_digest_changes_when_one_value_changes():
    data = load_dataset("digits")
    pixels = data.pixels_test.copy()
    pixels[-1, -1] += 1
    changed = dataclasses.replace(data, pixels_test=pixels)
    assert changed.digest != data.digest


def test_digest_covers_shape_not_only_bytes():
    data = load_dataset("digits")
    reshaped = dataclasses.replace(data, pixels_train=data.pixels_train.reshape(-1, 1, 8, 8))
    assert reshaped.digest != data.digest


def test_digest_covers_dtype_not_only_bytes():
    x = np.zeros((2, 2), dtype=np.float32)
    t = np.zeros(2, dtype=np.int64)
    a = Dataset("a", x, t, x, t)
    b = Dataset("a", x.view(np.int32), t, x, t)
    assert a.digest != b.digest


def test_a_split_digest_is_the_sha256_of_that_split_alone():
    small = load_dataset("digits", val_fraction=0.1, train_size=300)
    full = load_dataset("digits", val_fraction=0.1)
    assert len(small.split_digest("train")) == 64
    assert small.split_digest("train") != full.split_digest("train")
    assert small.split_digest("val") == full.split_digest("val")
    assert small.split_digest("test") == full.split_digest("test")


def test_a_split_digest_changes_when_one_of_its_values_changes():
    data = load_dataset("digits")
    labels = data.t_test.copy()
    labels[0] = (labels[0] + 1) % 10
    changed = dataclasses.replace(data, t_test=labels)
    assert changed.split_digest("test") != data.split_digest("test")
    assert changed.split_digest("train") == data.split_digest("train")


# ---------------------------------------------------------------- IDX folders (data.root)


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_root_folder_of_idx_files_loads_scaled_to_unit_interval(tmp_path, suffix):
    arrays = fake_mnist_arrays()
    root = write_folder(tmp_path / "idx", arrays, suffix)
    data = load_dataset("mnist", root=str(root))
    assert data.x_train.shape == (N_TRAIN, 784)
    assert data.x_test.shape == (N_TEST, 784)
    assert data.x_train.dtype == np.float32
    expected = arrays["train-images-idx3-ubyte"].reshape(N_TRAIN, -1) / 255
    np.testing.assert_allclose(data.x_train, expected, rtol=1e-6)
    np.testing.assert_array_equal(data.t_test, arrays["t10k-labels-idx1-ubyte"])


def test_root_folder_may_mix_raw_and_gz_files(tmp_path):
    arrays = fake_mnist_arrays()
    root = tmp_path / "idx"
    write_folder(root, dict(list(arrays.items())[:2]), ".gz")
    write_folder(root, dict(list(arrays.items())[2:]), "")
    assert len(load_dataset("fashion_mnist", root=str(root)).t_train) == N_TRAIN


def test_root_images_without_normalize_keep_0_to_255(tmp_path):
    arrays = fake_mnist_arrays()
    root = write_folder(tmp_path / "idx", arrays)
    data = load_dataset("mnist", root=str(root), normalize=False, flatten=False)
    assert data.x_train.shape == (N_TRAIN, 1, 28, 28)
    np.testing.assert_array_equal(data.x_train[:, 0], arrays["train-images-idx3-ubyte"])


def test_root_training_subset_uses_train_size(tmp_path):
    root = write_folder(tmp_path / "idx", fake_mnist_arrays())
    data = load_dataset("mnist", root=str(root), train_size=20)
    np.testing.assert_array_equal(np.bincount(data.t_train), [2] * 10)


def test_root_too_large_train_size_names_the_dataset(tmp_path):
    root = write_folder(tmp_path / "idx", fake_mnist_arrays())
    message = (
        rf"data\.train_size=10000000 is not allowed "
        rf"\(allowed: 1\.\.{N_TRAIN}, the training images of mnist\)"
    )
    with pytest.raises(ConfigError, match=message):
        load_dataset("mnist", root=str(root), train_size=10_000_000)


def test_root_does_not_require_known_checksums(tmp_path):
    root = write_folder(tmp_path / "idx", fake_mnist_arrays(seed=42))
    assert load_dataset("mnist", root=str(root)).x_train.shape[0] == N_TRAIN


def test_missing_root_is_a_data_error_naming_the_path(tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(DataError, match="no-such-folder.*train-images-idx3-ubyte"):
        load_dataset("mnist", root=str(missing))


def test_root_missing_one_file_names_it_and_the_expected_files(tmp_path):
    root = write_folder(tmp_path / "idx", fake_mnist_arrays())
    (root / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="no t10k-labels-idx1-ubyte or .*expected files"):
        load_dataset("mnist", root=str(root))


def test_truncated_idx_file_in_root_is_an_idx_format_error(tmp_path):
    root = write_folder(tmp_path / "idx", fake_mnist_arrays(), "")
    path = root / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(IdxFormatError, match="truncated"):
        load_dataset("mnist", root=str(root))


def test_image_and_label_count_mismatch_is_a_data_error(tmp_path):
    arrays = fake_mnist_arrays()
    arrays["train-labels-idx1-ubyte"] = arrays["train-labels-idx1-ubyte"][:-1]
    root = write_folder(tmp_path / "idx", arrays)
    with pytest.raises(DataError, match="40 images but 39 labels"):
        load_dataset("mnist", root=str(root))


def test_images_that_are_not_28_by_28_are_a_data_error(tmp_path):
    arrays = fake_mnist_arrays()
    arrays["t10k-images-idx3-ubyte"] = np.zeros((N_TEST, 8, 8), dtype=np.uint8)
    root = write_folder(tmp_path / "idx", arrays)
    with pytest.raises(DataError, match=r"expected uint8 \(N, 28, 28\)"):
        load_dataset("mnist", root=str(root))


def test_labels_outside_0_to_9_are_a_data_error(tmp_path):
    arrays = fake_mnist_arrays()
    arrays["train-labels-idx1-ubyte"][3] = 10
    root = write_folder(tmp_path / "idx", arrays)
    with pytest.raises(DataError, match=r"label 10 .*allowed: 0\.\.9"):
        load_dataset("mnist", root=str(root))


def test_root_is_read_once_per_process(tmp_path):
    root = write_folder(tmp_path / "idx", fake_mnist_arrays())
    first = load_dataset("mnist", root=str(root))
    for path in root.iterdir():
        path.unlink()
    assert load_dataset("mnist", root=str(root)).digest == first.digest


# ---------------------------------------------------------------- download cache


def test_download_is_verified_and_cached_atomically(tmp_path, monkeypatch, mirror):
    url, served = mirror
    use_mirrors(monkeypatch, "mnist", (url,), served)
    cache = tmp_path / "cache"
    data = load_dataset("mnist", cache_dir=str(cache))
    assert data.x_train.shape == (N_TRAIN, 784)
    cached = sorted(p.name for p in (cache / "mnist").iterdir())
    assert cached == sorted(f"{stem}.gz" for stem in IDX_STEMS)
    for stem in IDX_STEMS:
        assert (cache / "mnist" / f"{stem}.gz").read_bytes() == (served / f"{stem}.gz").read_bytes()


def test_cached_files_are_used_without_the_network(tmp_path, monkeypatch, mirror):
    url, served = mirror
    use_mirrors(monkeypatch, "mnist", (url,), served)
    cache = tmp_path / "cache"
    first = load_dataset("mnist", cache_dir=str(cache))
    clear_cache()
    use_mirrors(monkeypatch, "mnist", (f"http://127.0.0.1:{unused_port()}/",), served)
    assert load_dataset("mnist", cache_dir=str(cache), download=False).digest == first.digest


def test_default_cache_is_scratchnet_cache_env_per_dataset(tmp_path, monkeypatch, mirror):
    url, served = mirror
    use_mirrors(monkeypatch, "fashion_mnist", (url,), served)
    monkeypatch.setenv("SCRATCHNET_CACHE", str(tmp_path / "from-env"))
    load_dataset("fashion_mnist")
    assert (tmp_path / "from-env" / "fashion_mnist" / "t10k-labels-idx1-ubyte.gz").is_file()


def test_next_mirror_is_tried_when_one_fails(tmp_path, monkeypatch, mirror):
    url, served = mirror
    use_mirrors(monkeypatch, "mnist", (f"{url}missing/", url), served)
    data = load_dataset("mnist", cache_dir=str(tmp_path / "cache"))
    assert len(data.t_test) == N_TEST


def test_checksum_mismatch_is_a_data_error_and_leaves_nothing_cached(tmp_path, monkeypatch, mirror):
    url, _served = mirror
    use_mirrors(monkeypatch, "mnist", (url,), None)  # the real MNIST checksums
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="does not match the expected SHA-256"):
        load_dataset("mnist", cache_dir=str(cache))
    assert list((cache / "mnist").iterdir()) == []


def test_unreachable_mirror_is_a_data_error_with_the_data_root_hint(tmp_path, monkeypatch):
    use_mirrors(monkeypatch, "mnist", (f"http://127.0.0.1:{unused_port()}/",), None)
    with pytest.raises(DataError, match=r"download of mnist .*failed.*data\.root=") as info:
        load_dataset("mnist", cache_dir=str(tmp_path / "cache"))
    assert "\n" not in str(info.value)


def test_fashion_download_failure_suggests_a_fashion_folder(tmp_path, monkeypatch):
    use_mirrors(monkeypatch, "fashion_mnist", (f"http://127.0.0.1:{unused_port()}/",), None)
    with pytest.raises(DataError, match="/usr/share/datasets/fashion-mnist"):
        load_dataset("fashion_mnist", cache_dir=str(tmp_path / "cache"))


# ---------------------------------------------------------------- a system package's folder


def use_system_folder(monkeypatch, name: str, folder: Path, served: Path) -> None:
    """Make `folder` the system folder of `name`, trusting the checksums of `served`."""
    use_mirrors(monkeypatch, name, (), served)
    monkeypatch.setitem(DATASETS, name, dataclasses.replace(DATASETS[name], system_dir=str(folder)))


def test_the_system_folder_is_read_when_it_exists_and_nothing_is_cached(tmp_path, monkeypatch):
    folder = write_folder(tmp_path / "usr-share", fake_mnist_arrays())
    use_system_folder(monkeypatch, "fashion_mnist", folder, folder)
    data = load_dataset("fashion_mnist", cache_dir=str(tmp_path / "cache"), download=False)
    assert (len(data.t_train), len(data.t_test)) == (N_TRAIN, N_TEST)
    assert data.source == str(folder)
    assert not (tmp_path / "cache").exists()


def test_data_root_is_read_rather_than_the_system_folder(tmp_path, monkeypatch):
    folder = write_folder(tmp_path / "usr-share", fake_mnist_arrays(seed=1))
    root = write_folder(tmp_path / "mine", fake_mnist_arrays(seed=2))
    use_system_folder(monkeypatch, "fashion_mnist", folder, folder)
    data = load_dataset("fashion_mnist", root=str(root))
    assert data.source == str(root)
    mine = read_idx(root / "t10k-images-idx3-ubyte.gz").reshape(N_TEST, -1)
    np.testing.assert_array_equal(data.pixels_test, mine)


def test_a_system_file_that_fails_its_checksum_is_a_data_error_naming_it(tmp_path, monkeypatch):
    served = write_folder(tmp_path / "expected", fake_mnist_arrays(seed=1))
    folder = write_folder(tmp_path / "usr-share", fake_mnist_arrays(seed=2))
    use_system_folder(monkeypatch, "fashion_mnist", folder, served)
    with pytest.raises(DataError, match=r"usr-share/train-images-idx3-ubyte\.gz does not match"):
        load_dataset("fashion_mnist", cache_dir=str(tmp_path / "cache"))


@pytest.mark.skipif(
    not Path(DATASETS["fashion_mnist"].system_dir or "").is_dir(),
    reason="Debian's Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)
def test_debians_fashion_mnist_is_read_offline_from_usr_share(tmp_path):
    data = load_dataset("fashion_mnist", cache_dir=str(tmp_path / "cache"), download=False)
    assert (len(data.t_train), len(data.t_test)) == (60_000, 10_000)
    assert data.source == "/usr/share/datasets/fashion-mnist"


def test_download_false_without_a_cache_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not cached and download=False"):
        load_dataset("mnist", cache_dir=str(tmp_path / "cache"), download=False)


def test_corrupt_cached_file_is_rejected_when_download_is_off(tmp_path, monkeypatch, mirror):
    url, served = mirror
    use_mirrors(monkeypatch, "mnist", (url,), served)
    cache = tmp_path / "cache"
    load_dataset("mnist", cache_dir=str(cache))
    clear_cache()
    (cache / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"tampered")
    with pytest.raises(DataError, match="fails its SHA-256 check"):
        load_dataset("mnist", cache_dir=str(cache), download=False)


def test_corrupt_cached_file_is_downloaded_again(tmp_path, monkeypatch, mirror):
    url, served = mirror
    use_mirrors(monkeypatch, "mnist", (url,), served)
    cache = tmp_path / "cache"
    first = load_dataset("mnist", cache_dir=str(cache))
    clear_cache()
    cached = cache / "mnist" / "train-labels-idx1-ubyte.gz"
    cached.write_bytes(b"tampered")
    assert load_dataset("mnist", cache_dir=str(cache)).digest == first.digest
    assert cached.read_bytes() == (served / cached.name).read_bytes()
