"""The real MNIST files, when present next to the repo: counts, label histogram, statistics."""

from pathlib import Path

import numpy as np
import pytest

from scratchnet.data import DATASETS, load_dataset
from scratchnet.data.idx import payload_sha256
from scratchnet.data.registry import IDX_STEMS
from scratchnet.data.sources import clear_cache

MNIST_DIR = Path(__file__).resolve().parents[2].parent / "shared/data/mnist"

pytestmark = pytest.mark.skipif(
    not MNIST_DIR.is_dir(), reason=f"real MNIST not found at {MNIST_DIR}"
)

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def mnist():
    """Load the real MNIST once for the whole module."""
    clear_cache()
    yield load_dataset("mnist", root=str(MNIST_DIR))
    clear_cache()


def chunked_mean_std(x: np.ndarray, rows: int = 10_000) -> tuple[float, float]:
    """Population mean and std with float64 sums, without a float64 copy of the data."""
    total = squares = 0.0
    for start in range(0, len(x), rows):
        block = x[start : start + rows]
        total += float(block.sum(dtype=np.float64))
        squares += float(np.einsum("ij,ij->", block, block, dtype=np.float64))
    mean = total / x.size
    return mean, (squares / x.size - mean**2) ** 0.5


def test_real_mnist_has_60000_training_and_10000_test_images(mnist):
    assert mnist.x_train.shape == (60_000, 784)
    assert mnist.x_test.shape == (10_000, 784)


def test_real_mnist_images_are_float32(mnist):
    assert mnist.x_train.dtype == mnist.x_test.dtype == np.float32


def test_real_mnist_training_label_counts(mnist):
    assert np.bincount(mnist.t_train, minlength=10).tolist() == TRAIN_COUNTS


def test_real_mnist_test_label_counts(mnist):
    assert np.bincount(mnist.t_test, minlength=10).tolist() == TEST_COUNTS


def test_real_mnist_training_pixels_have_mean_0_1307_and_std_0_3081(mnist):
    mean, std = chunked_mean_std(mnist.x_train)
    assert round(mean, 4) == 0.1307
    assert round(std, 4) == 0.3081


@pytest.mark.parametrize("stem", IDX_STEMS)
def test_real_mnist_payload_sha256_matches_the_known_value(stem):
    path = next(p for p in (MNIST_DIR / stem, MNIST_DIR / f"{stem}.gz") if p.is_file())
    assert payload_sha256(path) == DATASETS["mnist"].sha256[stem]
