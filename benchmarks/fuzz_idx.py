"""Fuzz the IDX reader: for any bytes it returns a well-formed array or raises IdxFormatError.

    .venv/bin/python -m benchmarks.fuzz_idx                 # one minute
    .venv/bin/python -m benchmarks.fuzz_idx --seconds 600   # longer

Inputs come from Hypothesis in three families: raw bytes; a structured header (any type
code, 0..8 dimensions, sizes near and far from what the payload holds) with a payload whose
length is off by a little or a lot; and valid IDX files of every dtype mutated (bytes
flipped, cut, appended, header bytes overwritten). One in ten inputs is also written to a file
behind a gzip magic number and read through `read_idx`, which must raise only DataError
(IdxFormatError is one). A returned array must have the header's shape, a native byte order
and exactly the payload's bytes. Prints the inputs tried; exits 1 on the first other outcome,
after Hypothesis has shrunk it to a minimal input.
"""

import argparse
import contextlib
import gzip
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from scratchnet.core.errors import DataError, IdxFormatError
from scratchnet.data.idx import IDX_DTYPES, encode_idx, parse_idx_bytes, read_idx

BATCH = 2000  # examples per Hypothesis run; runs repeat until the time is up
tried: Counter[str] = Counter()


def header(code: int, dims: list[int]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


@st.composite
def structured(draw: st.DrawFn) -> tuple[str, bytes]:
    """A plausible header and a payload of about (or not at all) the length it declares."""
    code = draw(st.sampled_from(sorted(IDX_DTYPES)) | st.integers(0, 255))
    small = st.integers(0, 40)
    dims = draw(st.lists(small | st.integers(0, 2**32 - 1), min_size=0, max_size=8))
    itemsize = IDX_DTYPES[code].itemsize if code in IDX_DTYPES else 1
    expected = math.prod(dims) * itemsize
    size = draw(st.sampled_from([expected, expected - 1, expected + 1, 0]) | small)
    size = max(0, min(size, 1 << 16))
    return "structured", header(code, dims) + draw(st.binary(min_size=size, max_size=size))


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid IDX encoding of a small array of any IDX dtype, then damaged a few times."""
    dtype = draw(st.sampled_from(list(IDX_DTYPES.values())))
    shape = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
    count = math.prod(shape)
    raw = draw(st.binary(min_size=count * dtype.itemsize, max_size=count * dtype.itemsize))
    data = bytearray(encode_idx(np.frombuffer(raw, dtype=dtype).reshape(shape)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["flip", "cut", "append", "overwrite_header"]))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "append":
            data += draw(st.binary(min_size=1, max_size=64))
        else:
            data[draw(st.integers(0, 7)) : draw(st.integers(0, 8))] = draw(st.binary(max_size=4))
    return "mutated", bytes(data)


INPUTS = st.one_of(st.binary(max_size=2048).map(lambda b: ("raw", b)), structured(), mutated())


def check_parse(data: bytes) -> None:
    """parse_idx_bytes either raises IdxFormatError or returns what the header describes."""
    try:
        array = parse_idx_bytes(data, "fuzz")
    except IdxFormatError:
        return
    ndim = data[3]
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    assert array.shape == dims, (array.shape, dims)
    assert array.dtype.byteorder in "=|", array.dtype
    assert array.nbytes == len(data) - 4 - 4 * ndim


def check_gzip_file(data: bytes, folder: Path) -> None:
    """A .gz file of anything (valid gzip or not) raises only DataError from read_idx."""
    path = folder / "fuzz-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(data) if data[:1] == b"\x00" else b"\x1f\x8b" + data)
    with contextlib.suppress(DataError):
        read_idx(path)


def fuzz(seconds: float) -> int:
    """Run batches until `seconds` have passed; return the number of inputs tried."""
    with tempfile.TemporaryDirectory(prefix="fuzz-idx-") as tmp:
        folder = Path(tmp)

        @settings(
            max_examples=BATCH,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(INPUTS)
        def one(case: tuple[str, bytes]) -> None:
            family, data = case
            tried[family] += 1
            check_parse(data)
            if tried.total() % 10 == 0:
                tried["gzip file"] += 1
                check_gzip_file(data, folder)

        end = time.monotonic() + seconds
        while time.monotonic() < end:
            one()
    return tried["raw"] + tried["structured"] + tried["mutated"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long (default 60)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    try:
        total = fuzz(args.seconds)
    except Exception as err:  # Hypothesis re-raises the shrunk failure
        print(f"FAIL after {tried.total()} inputs: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - start
    by_family = ", ".join(f"{k} {v}" for k, v in sorted(tried.items()))
    print(
        f"parse_idx_bytes: {total} inputs in {elapsed:.0f} s ({by_family}): "
        "no exception other than IdxFormatError, every array as its header says"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
