"""Read and write IDX files, the container format of MNIST, raw or gzip-compressed."""

import gzip
import hashlib
import math
import zlib
from pathlib import Path

import numpy as np

from scratchnet.core.errors import DataError, IdxFormatError

GZIP_MAGIC = b"\x1f\x8b"

# IDX type code (third magic byte) -> dtype as stored on disk (big-endian).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_ALLOWED_TYPES = ", ".join(f"0x{code:02X} {dt.name}" for code, dt in IDX_DTYPES.items())
_MAX_DIM = 2**32 - 1


def _type_code(dtype: np.dtype) -> int | None:
    """Return the IDX type code storing `dtype` (any byte order), or None if there is none."""
    for code, idx_dtype in IDX_DTYPES.items():
        if idx_dtype.kind == dtype.kind and idx_dtype.itemsize == dtype.itemsize:
            return code
    return None


def _parse_header(data: bytes, source: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """Validate the IDX header and return (on-disk dtype, dims, header length)."""
    if len(data) < 4:
        raise IdxFormatError(
            f"{source}: {len(data)} bytes is too short for an IDX header "
            "(need at least 4 magic bytes 00 00 <type> <ndim>)"
        )
    if data[0] != 0 or data[1] != 0:
        raise IdxFormatError(
            f"{source}: bad IDX magic {bytes(data[:4]).hex(' ')} "
            "(expected 00 00 <type> <ndim>; is this an IDX file?)"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise IdxFormatError(
            f"{source}: unknown IDX type code 0x{code:02X} (allowed: {_ALLOWED_TYPES})"
        )
    if ndim < 1:
        raise IdxFormatError(f"{source}: IDX ndim is 0 (allowed: 1..255 dimensions)")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IdxFormatError(
            f"{source}: header declares {ndim} dimensions needing {header_len} header bytes "
            f"but the data has only {len(data)} bytes (truncated file?)"
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if 0 in dims:
        raise IdxFormatError(f"{source}: IDX dims {dims} contain 0 (allowed: every dim >= 1)")
    return IDX_DTYPES[code], dims, header_len


def parse_idx_bytes(data: bytes, source: str) -> np.ndarray:
    """Decode an uncompressed IDX payload into a read-only native-endian array (read_idx's core).

    For any bytes this either returns an array or raises IdxFormatError. The payload length is
    compared with the header before anything is allocated, so absurd dims cannot exhaust memory.
    """
    dtype, dims, header_len = _parse_header(data, source)
    count = math.prod(dims)
    expected = count * dtype.itemsize
    actual = len(data) - header_len
    if actual != expected:
        problem = "truncated" if actual < expected else "has trailing bytes"
        raise IdxFormatError(
            f"{source}: payload is {actual} bytes but dims {dims} of {dtype.name} need exactly "
            f"{expected} bytes ({problem})"
        )
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=header_len)
    # No copy when the bytes are already native (uint8 images): the array is a view of
    # `data`, so a 47 MB payload is held once, not twice. Read-only either way, alike.
    array = flat.astype(dtype.newbyteorder("="), copy=False).reshape(dims)
    array.flags.writeable = False
    return array


def _gunzip(raw: bytes) -> bytes:
    """gzip.decompress, with the output buffer sized from the gzip trailer up front.

    gzip.decompress grows its output and copies it at the end: twice MNIST's 47 MB at the
    peak. The trailer's ISIZE (size mod 2^32 of the last member) lets zlib write the first
    member into one buffer; anything else (several members, a wrong ISIZE) goes the long way.
    """
    size = int.from_bytes(raw[-4:], "little")
    bound = 1032 * len(raw)  # deflate never expands more than ~1032:1
    if len(raw) < 18 or size > bound:
        return gzip.decompress(raw)
    payload = zlib.decompress(raw, wbits=31, bufsize=max(size, 1))
    return payload if len(payload) == size else gzip.decompress(raw)


def read_idx_payload(path: str | Path) -> bytes:
    """Return the uncompressed bytes of an IDX file, gunzipping when it starts with 1f 8b."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"IDX file not found: {path} (check the path or data.root)") from None
    except OSError as exc:
        reason = " ".join(str(exc.strerror or exc).split())
        raise DataError(f"cannot read IDX file {path}: {reason} (need a readable file)") from None
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return _gunzip(raw)
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise IdxFormatError(
            f"{path}: corrupt gzip data ({reason}); re-download or re-compress the file"
        ) from None


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (raw or gzip, detected by magic bytes) into a read-only native array."""
    return parse_idx_bytes(read_idx_payload(path), str(path))


def payload_sha256(path: str | Path) -> str:
    """Return the SHA-256 hex of the decompressed payload, so .gz and raw copies hash alike."""
    return hashlib.sha256(read_idx_payload(path)).hexdigest()


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an array as uncompressed IDX bytes (big-endian, C order)."""
    array = np.asarray(array)
    code = _type_code(array.dtype)
    if code is None:
        raise IdxFormatError(
            f"dtype {array.dtype} cannot be stored in IDX (allowed: {_ALLOWED_TYPES})"
        )
    if not 1 <= array.ndim <= 255 or not all(1 <= d <= _MAX_DIM for d in array.shape):
        raise IdxFormatError(
            f"shape {array.shape} cannot be stored in IDX "
            f"(allowed: 1..255 dimensions, each 1..{_MAX_DIM})"
        )
    header = bytes([0, 0, code, array.ndim])
    header += b"".join(d.to_bytes(4, "big") for d in array.shape)
    body = np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    return header + body


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write an array as an IDX file, gzip-compressed when the path ends with .gz."""
    path = Path(path)
    data = encode_idx(array)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path
