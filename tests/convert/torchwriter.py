# SPDX-License-Identifier: GPL-3.0-or-later
"""Writers of PyTorch's file formats for the converter's tests, so that the
tests need no PyTorch: a small pickler that emits exactly the opcodes and
globals PyTorch uses, the zip and legacy containers of torch.save, and
plain pickles in the style of NVIDIA's network pickles (persistent objects
whose tensors embed legacy storages via torch.storage._load_from_bytes)."""

import collections
import io
import struct
import zipfile

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class Global:
    def __init__(self, module, name):
        self.module, self.name = module, name


class Reduce:
    """func(*args), then optionally BUILD with STATE."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, tuple(args), state


class NewObj:
    """cls.__new__(cls), then SETITEMS from ITEMS and BUILD with STATE."""

    def __init__(self, cls, items=None, state=None):
        self.cls, self.items, self.state = cls, items, state


class Raw:
    """The opcodes of an object from another protocol-2 pickle (its bytes
    less PROTO and STOP), written in place.  This pickler writes no memo,
    so the snippet's own PUT/GET indices stay consistent."""

    def __init__(self, pickle_bytes):
        assert pickle_bytes[:2] == b"\x80\x02" and pickle_bytes[-1:] == b"."
        self.body = pickle_bytes[2:-1]


class PersId:
    def __init__(self, pid):
        self.pid = tuple(pid)


class Pickler:
    """Protocol-2-style opcodes (with BINBYTES when PROTOCOL >= 3).
    TENSOR(array) -> object to pickle in place of a NumPy array."""

    def __init__(self, protocol=2, tensor=None):
        self.protocol = protocol
        self.tensor = tensor
        self.out = io.BytesIO()

    def dumps(self, obj):
        self.out.write(b"\x80" + bytes([self.protocol]))
        self.save(obj)
        self.out.write(b".")
        return self.out.getvalue()

    def save(self, obj):
        w = self.out.write
        if obj is None:
            w(b"N")
        elif obj is True:
            w(b"\x88")
        elif obj is False:
            w(b"\x89")
        elif isinstance(obj, int):
            if 0 <= obj < 256:
                w(b"K" + bytes([obj]))
            elif 0 <= obj < 65536:
                w(b"M" + struct.pack("<H", obj))
            elif -2 ** 31 <= obj < 2 ** 31:
                w(b"J" + struct.pack("<i", obj))
            else:
                n = (obj.bit_length() + 8) // 8
                w(b"\x8a" + bytes([n]) + obj.to_bytes(n, "little", signed=True))
        elif isinstance(obj, float):
            w(b"G" + struct.pack(">d", obj))
        elif isinstance(obj, str):
            data = obj.encode("utf-8")
            w(b"X" + struct.pack("<I", len(data)) + data)
        elif isinstance(obj, bytes):
            assert self.protocol >= 3
            w(b"B" + struct.pack("<I", len(obj)) + obj)
        elif isinstance(obj, tuple):
            if not obj:
                w(b")")
            else:
                w(b"(")
                for item in obj:
                    self.save(item)
                w(b"t")
        elif isinstance(obj, list):
            w(b"]")
            if obj:
                w(b"(")
                for item in obj:
                    self.save(item)
                w(b"e")
        elif isinstance(obj, collections.OrderedDict):
            self.save(Reduce(Global("collections", "OrderedDict"), ()))
            self._setitems(obj)
        elif isinstance(obj, dict):
            w(b"}")
            self._setitems(obj)
        elif isinstance(obj, (set, frozenset)):
            self.save(Reduce(Global("builtins", "set"), (list(obj),)))
        elif isinstance(obj, Global):
            w(b"c" + obj.module.encode() + b"\n" + obj.name.encode() + b"\n")
        elif isinstance(obj, Reduce):
            self.save(obj.func)
            self.save(obj.args)
            w(b"R")
            if obj.state is not None:
                self.save(obj.state)
                w(b"b")
        elif isinstance(obj, NewObj):
            self.save(obj.cls)
            self.save(())
            w(b"\x81")
            if obj.items:
                self._setitems(obj.items)
            if obj.state is not None:
                self.save(obj.state)
                w(b"b")
        elif isinstance(obj, Raw):
            w(obj.body)
        elif isinstance(obj, PersId):
            self.save(obj.pid)
            w(b"Q")
        elif isinstance(obj, np.ndarray):
            self.save(self.tensor(obj))
        else:
            raise TypeError("cannot pickle %r" % type(obj))

    def _setitems(self, mapping):
        if not mapping:
            return
        self.out.write(b"(")
        for k, v in mapping.items():
            self.save(k)
            self.save(v)
        self.out.write(b"u")


STORAGE_NAMES = {np.dtype("float32"): "FloatStorage", np.dtype("float16"): "HalfStorage",
                 np.dtype("float64"): "DoubleStorage", np.dtype("int64"): "LongStorage"}


class Param:
    """Marks an array to be pickled as a torch.nn.Parameter."""

    def __init__(self, array):
        self.array = np.asarray(array)


def _contiguous_strides(shape):
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= s
    return tuple(reversed(strides))


def _rebuild(storage_obj, arr):
    return Reduce(Global("torch._utils", "_rebuild_tensor_v2"),
                  (storage_obj, 0, tuple(arr.shape), _contiguous_strides(arr.shape), False,
                   collections.OrderedDict()))


class _StorageTable:
    def __init__(self, legacy):
        self.legacy = legacy
        self.blobs = []

    def tensor(self, value):
        param = isinstance(value, Param)
        arr = np.ascontiguousarray(value.array if param else value)
        if arr.dtype not in STORAGE_NAMES:
            arr = arr.astype(np.float32)
        key = str(len(self.blobs))
        self.blobs.append((key, arr))
        pid = ("storage", Global("torch", STORAGE_NAMES[arr.dtype]), key, "cpu", int(arr.size))
        if self.legacy:
            pid = pid + (None,)
        t = _rebuild(PersId(pid), arr)
        if param:
            t = Reduce(Global("torch._utils", "_rebuild_parameter"),
                       (t, True, collections.OrderedDict()))
        return t


class _ParamPickler(Pickler):
    def save(self, obj):
        if isinstance(obj, Param):
            return Pickler.save(self, self.tensor(obj))
        return Pickler.save(self, obj)


def torch_zip_bytes(obj, archive="archive"):
    """The bytes of torch.save(obj) in the zip format."""
    table = _StorageTable(legacy=False)
    data = _ParamPickler(2, table.tensor).dumps(obj)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(archive + "/data.pkl", data)
        zf.writestr(archive + "/byteorder", b"little")
        for key, arr in table.blobs:
            zf.writestr(archive + "/data/" + key, arr.astype(arr.dtype.newbyteorder("<")).tobytes())
        zf.writestr(archive + "/version", b"3\n")
    return out.getvalue()


def _legacy_header():
    p = Pickler(2)
    head = p.dumps(LEGACY_MAGIC)
    head += Pickler(2).dumps(1001)
    head += Pickler(2).dumps({"protocol_version": 1001, "little_endian": True,
                              "type_sizes": {"short": 2, "int": 4, "long": 4}})
    return head


def torch_legacy_bytes(obj):
    """The bytes of torch.save(obj, _use_new_zipfile_serialization=False)."""
    table = _StorageTable(legacy=True)
    out = _legacy_header()
    out += _ParamPickler(2, table.tensor).dumps(obj)
    out += Pickler(2).dumps([key for key, _ in table.blobs])
    for _key, arr in table.blobs:
        out += struct.pack("<q", arr.size) + arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    return out


def legacy_storage_bytes(arr):
    """What TypedStorage.__reduce__ embeds in a plain pickle."""
    arr = np.ascontiguousarray(arr)
    pid = PersId(("storage", Global("torch", STORAGE_NAMES[arr.dtype]), "1", "cpu",
                  int(arr.size), None))
    out = _legacy_header()
    out += Pickler(2).dumps(pid)
    out += Pickler(2).dumps(["1"])
    out += struct.pack("<q", arr.size) + arr.tobytes()
    return out


def plain_tensor(value):
    """A tensor as a plain pickle (pickle.dumps(tensor)) holds it."""
    param = isinstance(value, Param)
    arr = np.ascontiguousarray(value.array if param else value)
    if arr.dtype not in STORAGE_NAMES:
        arr = arr.astype(np.float32)
    storage = Reduce(Global("torch.storage", "_load_from_bytes"), (legacy_storage_bytes(arr),))
    t = _rebuild(storage, arr)
    if param:
        t = Reduce(Global("torch._utils", "_rebuild_parameter"),
                   (t, True, collections.OrderedDict()))
    return t


class _PlainPickler(Pickler):
    def save(self, obj):
        if isinstance(obj, Param):
            return Pickler.save(self, plain_tensor(obj))
        return Pickler.save(self, obj)


def plain_pickle_bytes(obj, protocol=4):
    return _PlainPickler(protocol, plain_tensor).dumps(obj)


# NVIDIA persistence ------------------------------------------------------

def easydict(d):
    return NewObj(Global("dnnlib.util", "EasyDict"), items=dict(d), state={})


def persistent_module(class_name, module_src, params=None, buffers=None, modules=None,
                      init_kwargs=None, attrs=None):
    """A module as torch_utils.persistence pickles it."""
    state = {
        "training": False,
        "_parameters": collections.OrderedDict(
            (k, Param(v) if v is not None else None) for k, v in (params or {}).items()),
        "_buffers": collections.OrderedDict(buffers or {}),
        "_non_persistent_buffers_set": set(),
        "_backward_hooks": collections.OrderedDict(),
        "_forward_hooks": collections.OrderedDict(),
        "_forward_pre_hooks": collections.OrderedDict(),
        "_state_dict_hooks": collections.OrderedDict(),
        "_load_state_dict_pre_hooks": collections.OrderedDict(),
        "_modules": collections.OrderedDict(modules or {}),
        "_init_args": (),
        "_init_kwargs": init_kwargs or {},
    }
    state.update(attrs or {})
    meta = {"type": "class", "version": 6, "module_src": module_src,
            "class_name": class_name, "state": state}
    return Reduce(Global("torch_utils.persistence", "_reconstruct_persistent_obj"), (meta,))
