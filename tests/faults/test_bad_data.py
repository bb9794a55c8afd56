"""Bad data, end to end through `scratchnet-train data=mnist ...`: one line naming the file and
what was expected, exit 2, no run; a download is verified before it is cached, atomically."""

import contextlib
import functools
import gzip
import http.server
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from faults_support import QUIET, error_line, store_runs, train, wait_for

from harness import BIN, MNIST_DIR, new_store
from scratchnet.data import write_idx
from scratchnet.data.registry import IDX_STEMS

pytestmark = pytest.mark.slow
MNIST = (
    "data=mnist",
    "data.val_fraction=0",  # 3 images a class: too few to hold any out
    "trainer.epochs=1",
    "data.train_size=20",
    "trainer.batch_size=10",
)


def tiny_mnist(root: Path, n_train: int = 30, n_test: int = 10) -> Path:
    """Four valid, small MNIST-shaped IDX files (raw, uncompressed) in `root`."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        write_idx(root / f"{prefix}-images-idx3-ubyte", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", (np.arange(n) % 10).astype(np.uint8))
    return root


def corrupt_magic(root: Path) -> str:
    path = root / "train-images-idx3-ubyte"
    path.write_bytes(b"\x08\x03" + path.read_bytes()[2:])
    return "bad IDX magic"


def corrupt_dims(root: Path) -> str:
    images = np.zeros((30, 27, 27), dtype=np.uint8)
    write_idx(root / "train-images-idx3-ubyte", images)
    return "expected uint8 (N, 28, 28)"


def truncate_payload(root: Path) -> str:
    path = root / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    return "truncated"


def mismatch_counts(root: Path) -> str:
    write_idx(root / "train-labels-idx1-ubyte", np.zeros(29, dtype=np.uint8))
    return "30 images but 29 labels"


def corrupt_gzip(root: Path) -> str:
    path = root / "train-labels-idx1-ubyte"
    packed = gzip.compress(path.read_bytes())
    path.unlink()
    (root / "train-labels-idx1-ubyte.gz").write_bytes(packed[:12] + b"\x00" * 20 + packed[32:])
    return "corrupt gzip"


def labels_out_of_range(root: Path) -> str:
    write_idx(root / "t10k-labels-idx1-ubyte", np.full(10, 12, dtype=np.uint8))
    return "label 12 is out of range (allowed: 0..9)"


def missing_file(root: Path) -> str:
    (root / "t10k-labels-idx1-ubyte").unlink()
    return "has no t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz"


CORRUPTIONS: dict[str, Callable[[Path], str]] = {
    "wrong magic": corrupt_magic,
    "wrong dimensions": corrupt_dims,
    "truncated payload": truncate_payload,
    "image and label counts differ": mismatch_counts,
    "corrupt gzip": corrupt_gzip,
    "labels out of range": labels_out_of_range,
    "a missing file": missing_file,
}


def test_the_tiny_mnist_folder_itself_trains(tmp_path: Path) -> None:
    store_uri = new_store(tmp_path / "store")
    root = tiny_mnist(tmp_path / "idx")
    done = train(store_uri, *MNIST, f"data.root={root}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [r.info.status for r in store_runs(store_uri)] == ["FINISHED"]


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_bad_idx_folder_is_one_line_exit_2_and_no_run(
    tmp_path: Path, store_uri: str, corruption: str
) -> None:
    root = tiny_mnist(tmp_path / "idx")
    expected = CORRUPTIONS[corruption](root)
    line = error_line(train(store_uri, *MNIST, f"data.root={root}", cwd=tmp_path))
    assert expected in line
    assert str(root) in line
    assert store_runs(store_uri) == []


# ---------------------------------------------------------------- downloads


class Mirror(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; `delay_s` between 64 KiB chunks makes a download slow enough to kill."""

    delay_s = 0.0
    sent: dict[str, int]

    def log_message(self, *args: object) -> None:
        """No access log."""

    def copyfile(self, source, outputfile) -> None:
        while chunk := source.read(1 << 16):
            outputfile.write(chunk)
            self.sent[self.path] = self.sent.get(self.path, 0) + len(chunk)
            time.sleep(self.delay_s)


@contextlib.contextmanager
def mirror(folder: Path, delay_s: float = 0.0) -> Iterator[tuple[str, dict[str, int]]]:
    """A real HTTP server on 127.0.0.1 serving `folder`; yields (base URL, bytes sent by path)."""
    sent: dict[str, int] = {}
    handler = type("Handler", (Mirror,), {"delay_s": delay_s, "sent": sent})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", sent
    finally:
        server.shutdown()
        server.server_close()


def gzipped(root: Path, into: Path) -> Path:
    """`root`'s four IDX files as the .gz files a mirror serves."""
    into.mkdir(parents=True)
    for stem in IDX_STEMS:
        source = root / stem
        (into / f"{stem}.gz").write_bytes(gzip.compress(source.read_bytes()))
    return into


def cached_files(cache: Path) -> list[str]:
    folder = cache / "mnist"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_download_failing_its_checksum_is_an_error_and_is_never_cached(
    tmp_path: Path, store_uri: str
) -> None:
    served = gzipped(tiny_mnist(tmp_path / "idx"), tmp_path / "served")
    cache = tmp_path / "cache"
    with mirror(served) as (url, _):
        done = train(
            store_uri,
            *MNIST,
            f"data.cache_dir={cache}",
            cwd=tmp_path,
            env={"SCRATCHNET_MIRRORS": url},
        )
    line = error_line(done)
    assert "does not match the expected SHA-256" in line
    assert "train-images-idx3-ubyte" in line
    assert cached_files(cache) == []  # the bad file was removed, no half file either
    assert store_runs(store_uri) == []


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"real MNIST not found in {MNIST_DIR}")
def test_a_killed_download_leaves_nothing_trusted_and_the_next_run_downloads_again(
    tmp_path: Path, store_uri: str
) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "SCRATCHNET_MIRRORS": "", "PYTHONWARNINGS": "ignore"}
    args = [str(BIN / "scratchnet-train"), f"tracking.uri={store_uri}", *QUIET, *MNIST]
    args.append(f"data.cache_dir={cache}")
    with mirror(MNIST_DIR, delay_s=0.05) as (url, sent):
        env["SCRATCHNET_MIRRORS"] = url
        proc = subprocess.Popen(
            args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for(
                "a megabyte of train-images sent",
                lambda: sent.get("/train-images-idx3-ubyte.gz", 0) > 1 << 20,
            )
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
    assert "train-images-idx3-ubyte.gz" not in cached_files(cache)
    assert all(name.endswith(".part") for name in cached_files(cache))
    assert store_runs(store_uri) == []

    with mirror(MNIST_DIR) as (url, sent):
        done = train(
            store_uri,
            *MNIST,
            f"data.cache_dir={cache}",
            cwd=tmp_path,
            env={"SCRATCHNET_MIRRORS": url},
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (
        sent["/train-images-idx3-ubyte.gz"]
        == (MNIST_DIR / "train-images-idx3-ubyte.gz").stat().st_size
    )
    final = [n for n in cached_files(cache) if not n.endswith(".part")]
    assert final == sorted(f"{stem}.gz" for stem in IDX_STEMS)
    assert [r.info.status for r in store_runs(store_uri)] == ["FINISHED"]
