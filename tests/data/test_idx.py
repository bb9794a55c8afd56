"""Specification of the IDX reader and writer: roundtrips, validation and fuzzing."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchnet.core.errors import DataError, IdxFormatError
from scratchnet.data.idx import (
    IDX_DTYPES,
    encode_idx,
    parse_idx_bytes,
    payload_sha256,
    read_idx,
    write_idx,
)


def idx_bytes(type_code: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    """Build IDX bytes by hand, independently of encode_idx."""
    return bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_uint8_3d_array_roundtrips(tmp_path, suffix):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / f"images-idx3-ubyte{suffix}", images)
    result = read_idx(path)
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, images)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_uint8_1d_array_roundtrips(tmp_path, suffix):
    labels = np.array([7, 2, 1, 0, 4], dtype=np.uint8)
    result = read_idx(write_idx(tmp_path / f"labels-idx1-ubyte{suffix}", labels))
    np.testing.assert_array_equal(result, labels)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32", "float64"])
def test_every_idx_type_roundtrips_to_a_native_endian_array(tmp_path, dtype):
    array = (np.arange(12) - 6).astype(dtype).reshape(3, 4)
    result = read_idx(write_idx(tmp_path / "a.idx", array))
    assert result.dtype == np.dtype(dtype)
    assert result.dtype.isnative
    np.testing.assert_array_equal(result, array)


def test_big_endian_bytes_on_disk_are_decoded():
    data = idx_bytes(0x0C, (2,), struct.pack(">2i", 1, -2))
    np.testing.assert_array_equal(parse_idx_bytes(data, "mem"), [1, -2])


def test_gzip_is_detected_by_magic_bytes_not_by_extension(tmp_path):
    path = tmp_path / "no-extension"
    path.write_bytes(gzip.compress(idx_bytes(0x08, (3,), b"\x01\x02\x03")))
    np.testing.assert_array_equal(read_idx(path), [1, 2, 3])


def test_a_gzip_file_of_several_members_reads_whole(tmp_path):
    data = idx_bytes(0x08, (6,), bytes(range(6)))
    path = tmp_path / "two-members.gz"
    path.write_bytes(gzip.compress(data[:9]) + gzip.compress(data[9:]))
    np.testing.assert_array_equal(read_idx(path), range(6))


def test_arrays_read_are_read_only(tmp_path):
    for dtype in (np.uint8, np.int32):
        path = write_idx(tmp_path / f"{np.dtype(dtype).name}.gz", np.arange(4, dtype=dtype))
        assert not read_idx(path).flags.writeable


def test_gz_file_is_really_compressed(tmp_path):
    path = write_idx(tmp_path / "a.gz", np.zeros(100, dtype=np.uint8))
    assert path.read_bytes()[:2] == b"\x1f\x8b"


def test_payload_sha256_is_the_same_for_raw_and_gz_copies(tmp_path):
    array = np.arange(50, dtype=np.uint8)
    raw = write_idx(tmp_path / "a", array)
    gz = write_idx(tmp_path / "a.gz", array)
    assert payload_sha256(raw) == payload_sha256(gz)


def test_wrong_magic_is_rejected():
    data = b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00"
    with pytest.raises(IdxFormatError, match="bad IDX magic"):
        parse_idx_bytes(data, "mem")


def test_unknown_type_code_is_rejected_naming_the_code():
    with pytest.raises(IdxFormatError, match="0x07"):
        parse_idx_bytes(idx_bytes(0x07, (1,), b"\x00"), "mem")


def test_zero_dimensions_are_rejected():
    with pytest.raises(IdxFormatError, match="ndim is 0"):
        parse_idx_bytes(b"\x00\x00\x08\x00", "mem")


def test_header_shorter_than_its_declared_ndim_is_rejected():
    with pytest.raises(IdxFormatError, match="3 dimensions"):
        parse_idx_bytes(b"\x00\x00\x08\x03" + struct.pack(">I", 1), "mem")


def test_zero_length_dim_is_rejected():
    with pytest.raises(IdxFormatError, match="contain 0"):
        parse_idx_bytes(idx_bytes(0x08, (0, 5), b""), "mem")


def test_truncated_payload_is_rejected_naming_the_source():
    data = idx_bytes(0x08, (2, 2), b"\x00\x01\x02")
    with pytest.raises(IdxFormatError, match=r"images\.idx.*truncated"):
        parse_idx_bytes(data, "images.idx")


def test_trailing_bytes_are_rejected():
    with pytest.raises(IdxFormatError, match="trailing bytes"):
        parse_idx_bytes(idx_bytes(0x08, (2,), b"\x00\x01\x02"), "mem")


def test_absurd_dims_fail_fast_without_allocating():
    data = idx_bytes(0x0E, (2**32 - 1,) * 4, b"\x00" * 8)
    with pytest.raises(IdxFormatError, match="truncated"):
        parse_idx_bytes(data, "mem")


def test_corrupt_gzip_is_an_idx_format_error_naming_the_path(tmp_path):
    good = gzip.compress(idx_bytes(0x08, (100,), bytes(100)))
    path = tmp_path / "broken.gz"
    path.write_bytes(good[:-12])
    with pytest.raises(IdxFormatError, match="broken.gz"):
        read_idx(path)


def test_garbage_after_gzip_magic_is_an_idx_format_error(tmp_path):
    path = tmp_path / "garbage.gz"
    path.write_bytes(b"\x1f\x8b" + b"not really gzip")
    with pytest.raises(IdxFormatError, match="corrupt gzip"):
        read_idx(path)


def test_missing_file_is_a_data_error_naming_the_path(tmp_path):
    path = tmp_path / "nope-idx1-ubyte"
    with pytest.raises(DataError, match="nope-idx1-ubyte"):
        read_idx(path)


def test_unsupported_dtype_cannot_be_written(tmp_path):
    with pytest.raises(IdxFormatError, match="uint16"):
        write_idx(tmp_path / "a", np.zeros(3, dtype=np.uint16))


def test_scalar_cannot_be_written(tmp_path):
    with pytest.raises(IdxFormatError, match="shape"):
        write_idx(tmp_path / "a", np.uint8(3))


def test_error_messages_are_one_line():
    with pytest.raises(IdxFormatError) as info:
        parse_idx_bytes(idx_bytes(0x08, (2, 2), b"\x00"), "mem")
    assert "\n" not in str(info.value)


def _structured_idx() -> st.SearchStrategy[bytes]:
    """IDX-like bytes: plausible headers with random dims and random payload lengths."""
    dims = st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 4), min_size=0, max_size=4)
    code = st.sampled_from([*IDX_DTYPES, 0x00, 0x0A, 0xFF])
    return st.builds(lambda c, d, p: idx_bytes(c, tuple(d), p), code, dims, st.binary(max_size=64))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64) | _structured_idx())
def test_parse_idx_bytes_on_any_bytes_returns_an_array_or_raises_idx_format_error(data):
    try:
        result = parse_idx_bytes(data, "fuzz")
    except IdxFormatError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, np.ndarray)
        assert result.dtype.isnative
        assert encode_idx(result) == data
