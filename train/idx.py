"""The IDX file format MNIST is distributed in (and that torchvision reads).

Layout: two zero bytes, a type code (0x08 = uint8), the number of dimensions,
then one big-endian uint32 per dimension, then the data in C order.
"""

from __future__ import annotations

import struct

import numpy as np

from digitkit.runtime.errors import DigitkitError

_UINT8 = 0x08


class IdxError(DigitkitError):
    """An IDX file whose header or length does not make sense."""


def encode_idx(array: np.ndarray) -> bytes:
    if array.dtype != np.uint8:
        raise IdxError(f"IDX writer supports uint8 only, got {array.dtype}")
    header = struct.pack(">BBBB", 0, 0, _UINT8, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def decode_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IdxError(f"{name}: not an IDX file (bad magic number)")
    if data[2] != _UINT8:
        raise IdxError(f"{name}: unsupported IDX type code 0x{data[2]:02x} (expected uint8)")
    ndim = data[3]
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise IdxError(f"{name}: truncated header")
    shape = struct.unpack(f">{ndim}I", data[4:offset])
    expected = int(np.prod(shape, dtype=np.int64))
    if len(data) - offset != expected:
        raise IdxError(f"{name}: expected {expected} data bytes for shape {shape}, found {len(data) - offset}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)
