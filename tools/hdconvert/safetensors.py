# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing (and, for --info and the tests, reading) safetensors files as
spec/formats.md describes them: an 8-byte little-endian header length N,
N bytes of JSON padded with spaces so that the data area starts 8-byte
aligned, then the tensors back to back, covering the data area exactly."""

import json
import os
import struct
import tempfile

import numpy as np

from .errors import ConvertError

DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2")}
# Byte tensors (a hypernetwork's tokenizer.merges) are written as they are,
# whatever the float type of the file.
U8 = np.dtype("u1")
F16_MAX = 65504.0


def _check_values(name, array, np_dtype):
    if array.size and not np.all(np.isfinite(array)):
        raise ConvertError("tensor %s contains NaN or infinite values" % name)
    if np_dtype == DTYPES["F16"] and array.size:
        peak = float(np.max(np.abs(array)))
        if peak > F16_MAX:
            raise ConvertError("tensor %s holds values beyond the range of F16 (largest "
                               "%g); use --dtype f32" % (name, peak))


def _header(tensors, metadata, dtype):
    """Checks TENSORS (list of (name, array)) and returns the header bytes
    (length + JSON)."""
    if dtype not in DTYPES:
        raise ConvertError("unknown dtype %r (F32 or F16)" % dtype)
    np_dtype = DTYPES[dtype]
    header = {}
    if metadata:
        for key, value in metadata.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ConvertError("metadata %r must map strings to strings" % (key,))
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, array in tensors:
        if name in header:
            raise ConvertError("tensor name %r is used twice" % name)
        if array.dtype == U8:
            tag, itemsize = "U8", 1
        else:
            _check_values(name, array, np_dtype)
            tag, itemsize = dtype, np_dtype.itemsize
        size = int(array.size) * itemsize
        header[name] = {"dtype": tag, "shape": [int(s) for s in array.shape],
                        "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((-(8 + len(text))) % 8)
    return struct.pack("<Q", len(text)) + text


def write(path, tensors, metadata, dtype="F32"):
    """Writes TENSORS (list of (name, array)) with METADATA (str -> str) as
    DTYPE (F32 or F16), atomically: a temporary file next to PATH, then
    os.replace.  Returns the size of the file."""
    tensors = [(name, np.asarray(array)) for name, array in tensors]
    head = _header(tensors, metadata, dtype)
    np_dtype = DTYPES[dtype]
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp",
                                   dir=directory)
    except OSError as exc:
        raise ConvertError("%s: cannot write: %s" % (path, exc.strerror or exc))
    size = len(head)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(head)
            for _name, array in tensors:
                data = np.ascontiguousarray(array, dtype=U8 if array.dtype == U8 else np_dtype)
                f.write(data.tobytes())
                size += data.nbytes
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise ConvertError("%s: cannot write: %s" % (path, exc.strerror or exc))
        raise
    return size


def read(path):
    """Returns (tensors: dict name -> float32 array, uint8 for U8, in file
    order; metadata: dict).  Checks the structural rules of formats.md."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as exc:
        raise ConvertError("%s: %s" % (path, exc.strerror or exc))
    if len(blob) < 8:
        raise ConvertError("%s: too short for a safetensors file" % path)
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8 or n > 100 * 1000 * 1000:
        raise ConvertError("%s: invalid safetensors header length %d" % (path, n))
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConvertError("%s: the safetensors header is not JSON (%s)" % (path, exc))
    if not isinstance(header, dict):
        raise ConvertError("%s: the safetensors header is not a JSON object" % path)
    metadata = header.pop("__metadata__", None) or {}
    base = 8 + n
    size = len(blob) - base
    spans = []
    tensors = {}
    for name, entry in header.items():
        try:
            dtype = entry["dtype"]
            shape = [int(s) for s in entry["shape"]]
            begin, end = (int(v) for v in entry["data_offsets"])
        except (TypeError, KeyError, ValueError):
            raise ConvertError("%s: invalid entry for tensor %s" % (path, name))
        if dtype == "BF16":
            itemsize = 2
        elif dtype == "U8":
            itemsize = 1
        elif dtype in DTYPES:
            itemsize = DTYPES[dtype].itemsize
        else:
            raise ConvertError("%s: tensor %s has unsupported dtype %s" % (path, name, dtype))
        count = int(np.prod(shape)) if shape else 1
        if not 0 <= begin <= end <= size or end - begin != count * itemsize:
            raise ConvertError("%s: tensor %s has invalid data offsets" % (path, name))
        raw = blob[base + begin:base + end]
        if dtype == "BF16":
            arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        elif dtype == "U8":
            arr = np.frombuffer(raw, U8)
        else:
            arr = np.frombuffer(raw, DTYPES[dtype]).astype(np.float32)
        tensors[name] = arr.reshape(shape)
        spans.append((begin, end, name))
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin != pos:
            raise ConvertError("%s: the tensors do not cover the data area exactly (at %s)"
                               % (path, name))
        pos = end
    if pos != size:
        raise ConvertError("%s: the tensors do not cover the data area exactly" % path)
    return tensors, metadata


def header_dtypes(path):
    """The dtype of every tensor, from the header only."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    header.pop("__metadata__", None)
    return {name: entry["dtype"] for name, entry in header.items()}
