# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading PyTorch checkpoints and network pickles without PyTorch.

Three containers are understood:

* the zip format of ``torch.save`` (PyTorch >= 1.6): ``<dir>/data.pkl`` plus
  one member ``<dir>/data/<key>`` per storage;
* the legacy format of ``torch.save`` (before 1.6, or
  ``_use_new_zipfile_serialization=False``): the pickles of a magic number,
  the protocol version and system info, then the object pickle, the list of
  storage keys, and for each storage an int64 element count and the raw
  elements;
* a plain pickle (NVIDIA's network pickles), whose tensors embed their
  storages as legacy ``torch.save`` byte strings
  (``torch.storage._load_from_bytes``).

A TorchScript archive (OpenAI's CLIP ``ViT-B-32.pt``) is a zip of the first
kind whose ``data.pkl`` names ``__torch__.*`` module classes; only that
pickle and ``data/`` are read, never the archive's ``code/``.

Every pickle goes through :class:`RestrictedUnpickler`.  It resolves only a
fixed list of globals, each to a stand-in defined here (or to a plain data
constructor such as ``collections.OrderedDict``); any other global stops the
load with an :class:`UnsafePickleError` that names it.  Module classes
(``torch.nn``, TorchScript's ``__torch__``) and OmegaConf configs become inert
stand-ins that only keep their state.  Nothing from the file is executed:
NVIDIA's persistence wrapper carries the Python source of the network
classes, and it is kept as text only.

Tensors come back as :class:`Tensor` objects that read their data lazily;
``Tensor.numpy()`` returns a contiguous NumPy array.
"""

import collections
import io
import os
import pickle
import pickletools
import struct
import warnings
import zipfile
import zlib

import numpy as np

from .errors import ConvertError, UnsafePickleError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
MAX_TENSOR_ELEMENTS = 1 << 31


# --------------------------------------------------------------------------
# Storages and tensors


class StorageType:
    """Stand-in for ``torch.FloatStorage`` and friends: only a dtype."""

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = np.dtype(dtype)       # on-disk element type
        self.itemsize = self.dtype.itemsize
        self.bfloat16 = name == "BFloat16Storage"

    def __repr__(self):
        return "torch.%s" % self.name

    def decode(self, raw, count, big_endian=False):
        """The elements of RAW (bytes) as a 1-D NumPy array."""
        dtype = self.dtype.newbyteorder(">" if big_endian else "<") \
            if self.itemsize > 1 else self.dtype
        arr = np.frombuffer(raw, dtype=dtype, count=count)
        if self.bfloat16:
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        elif big_endian and self.itemsize > 1:
            arr = arr.astype(self.dtype.newbyteorder("<"))
        return arr

    @property
    def result_dtype(self):
        return np.dtype(np.float32) if self.bfloat16 else self.dtype.newbyteorder("=")


_STORAGE_TYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "<u2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
    "UntypedStorage": "u1",
}
STORAGE_TYPES = {name: StorageType(name, dt) for name, dt in _STORAGE_TYPES.items()}


class Storage:
    """A storage of NUMEL elements whose bytes FETCH returns on demand."""

    def __init__(self, stype, numel, fetch, big_endian=False, offset=0):
        if not isinstance(stype, StorageType):
            raise ConvertError("a storage refers to %r, which is not a storage type" % (stype,))
        if not isinstance(numel, int) or numel < 0:
            raise ConvertError("a storage has an invalid size %r" % (numel,))
        self.stype = stype
        self.numel = numel
        self._fetch = fetch
        self._big_endian = big_endian
        self._offset = offset          # elements, for legacy storage views
        self._array = None

    def array(self):
        if self._array is None:
            raw = self._fetch()
            need = (self._offset + self.numel) * self.stype.itemsize
            if len(raw) < need:
                raise ConvertError("a storage holds %d bytes, but %d are needed"
                                   % (len(raw), need))
            start = self._offset * self.stype.itemsize
            self._array = self.stype.decode(raw[start:need], self.numel, self._big_endian)
        return self._array


class Tensor:
    """A tensor that has not been read yet: a strided view of a storage."""

    __slots__ = ("storage", "offset", "shape", "stride")

    def __init__(self, storage, offset, shape, stride):
        if not isinstance(storage, Storage):
            raise ConvertError("a tensor refers to %r instead of a storage" % (type(storage).__name__,))
        shape = _int_tuple(shape, "size")
        stride = _int_tuple(stride, "stride")
        if len(shape) != len(stride):
            raise ConvertError("a tensor has a size and stride of different lengths")
        if not isinstance(offset, int) or offset < 0:
            raise ConvertError("a tensor has an invalid storage offset %r" % (offset,))
        if any(s < 0 for s in shape) or any(s < 0 for s in stride):
            raise ConvertError("a tensor has a negative size or stride")
        if all(s > 0 for s in shape):
            last = offset + sum((n - 1) * st for n, st in zip(shape, stride))
            if last >= storage.numel:
                raise ConvertError("a tensor reaches element %d of a storage of %d elements"
                                   % (last, storage.numel))
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.stride = stride

    @property
    def dtype(self):
        return self.storage.stype.result_dtype

    @property
    def storage_name(self):
        return self.storage.stype.name

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    def numpy(self):
        if self.size > MAX_TENSOR_ELEMENTS:
            raise ConvertError("a tensor of shape %s is too large" % (list(self.shape),))
        if self.size == 0:
            return np.zeros(self.shape, dtype=self.dtype)
        base = self.storage.array()
        item = base.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            base[self.offset:], shape=self.shape,
            strides=tuple(s * item for s in self.stride), writeable=False)
        if view.flags.c_contiguous:
            return view              # read-only, shares the storage's memory
        if self.size > (1 << 20) and self.size > 64 * self.storage.numel:
            # Strides of 0 repeating a small storage: a few bytes of file
            # must not become gigabytes of memory.
            raise ConvertError("a tensor of shape %s repeats a storage of %d elements"
                               % (list(self.shape), self.storage.numel))
        return np.array(view, order="C", copy=True)

    def __repr__(self):
        return "Tensor(%s, %s)" % (list(self.shape), self.storage_name)


def _int_tuple(value, what):
    if isinstance(value, int):      # a torch.Size pickled oddly
        value = (value,)
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConvertError("a tensor has an invalid %s %r" % (what, value))
    if len(value) > 16:
        raise ConvertError("a tensor has %d dimensions" % len(value))
    return tuple(value)


# --------------------------------------------------------------------------
# Stand-ins for the globals a checkpoint may name


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return Tensor(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return Tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None):
    if not isinstance(data, Tensor):
        raise ConvertError("a parameter wraps %r instead of a tensor" % (type(data).__name__,))
    return data


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _rebuild_parameter(data)


_TENSOR_FUNCS = (_rebuild_tensor_v2, _rebuild_tensor, _rebuild_parameter,
                 _rebuild_parameter_with_state)


class _TypeMarker:
    """Stand-in for a class that is only named, never instantiated
    (torch.Tensor, torch.nn.Parameter, torch dtypes)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


def _rebuild_from_type_v2(func, new_type, args, state):
    if func not in _TENSOR_FUNCS:
        raise ConvertError("a tensor subclass is rebuilt by %r, which is not a tensor "
                           "constructor" % (func,))
    if not isinstance(args, tuple):
        raise ConvertError("invalid arguments for a tensor")
    return func(*args)


class StandIn:
    """An object of a class the file names but that is never imported
    (torch.nn modules, argparse.Namespace, ...): it only keeps the state
    that unpickling gives it."""

    qualified_name = "object"

    def __init__(self, *args, **kwargs):
        self.args = args
        self.state = dict(kwargs) if kwargs else None

    def __setstate__(self, state):
        self.state = state

    def __reduce__(self):
        raise TypeError("stand-in objects cannot be pickled")

    def __repr__(self):
        return "<%s>" % self.qualified_name

    def get(self, key, default=None):
        if isinstance(self.state, dict):
            return self.state.get(key, default)
        return default


_STANDIN_CLASSES = {}


def _standin_class(qualified_name):
    cls = _STANDIN_CLASSES.get(qualified_name)
    if cls is None:
        cls = type(qualified_name.rsplit(".", 1)[-1], (StandIn,),
                   {"qualified_name": qualified_name})
        _STANDIN_CLASSES[qualified_name] = cls
    return cls


def is_module(obj):
    return isinstance(obj, (PersistentObject, StandIn)) and isinstance(
        getattr(obj, "state", None), dict) and "_parameters" in obj.state


def is_script_module_name(module):
    return (module == "__torch__" or module.startswith("__torch__.")) and all(
        part.isidentifier() for part in module.split("."))


def is_script_object(obj):
    """An object of a TorchScript archive's data.pkl (a stand-in)."""
    return isinstance(obj, StandIn) and is_script_module_name(
        obj.qualified_name.rsplit(".", 1)[0])


def omegaconf_to_data(obj, source, depth=0):
    """The plain value of an unpickled OmegaConf container or node: a
    DictConfig's state '_content' maps keys to nodes whose state '_val' is
    the value.  Anything else is returned as it is."""
    if depth > 32:
        raise ConvertError("%s: an OmegaConf config nested too deeply" % source)
    if not isinstance(obj, StandIn) or not obj.qualified_name.startswith("omegaconf."):
        return obj
    state = obj.state if isinstance(obj.state, dict) else {}
    kind = obj.qualified_name.rsplit(".", 1)[-1]
    if kind in ("DictConfig", "ListConfig"):
        content = state.get("_content")
        if kind == "DictConfig" and isinstance(content, dict):
            return {k: omegaconf_to_data(v, source, depth + 1) for k, v in content.items()}
        if kind == "ListConfig" and isinstance(content, list):
            return [omegaconf_to_data(v, source, depth + 1) for v in content]
        raise ConvertError("%s: an OmegaConf %s without content (%s); only configs of "
                           "plain values are read" % (source, kind, _short(content)))
    if "_val" in state:
        return omegaconf_to_data(state["_val"], source, depth + 1)
    raise ConvertError("%s: an OmegaConf %s without a value" % (source, kind))


class EasyDict(dict):
    """Stand-in for dnnlib.EasyDict: a dict."""

    def __reduce__(self):
        raise TypeError("stand-in objects cannot be pickled")


class PersistentObject:
    """An object that NVIDIA's ``torch_utils.persistence`` pickled along with
    the source of its class.  The source is kept as text and never run."""

    def __init__(self, meta):
        if not isinstance(meta, dict):
            raise ConvertError("a persistent object has no metadata dict")
        self.kind = meta.get("type")
        self.version = meta.get("version")
        self.class_name = meta.get("class_name")
        self.module_src = meta.get("module_src")
        self.state = meta.get("state")
        if self.kind != "class" or not isinstance(self.class_name, str) \
                or not isinstance(self.state, dict):
            raise ConvertError("a persistent object has metadata of an unknown kind "
                               "(type %r, class %r)" % (self.kind, self.class_name))
        if not isinstance(self.module_src, str):
            self.module_src = ""

    def __repr__(self):
        return "<persistent %s>" % self.class_name

    def get(self, key, default=None):
        return self.state.get(key, default)


def _reconstruct_persistent_obj(meta):
    return PersistentObject(meta)


def _reconstructor(cls, base, state):
    # copyreg._reconstructor, as protocol 0/1 pickles use it
    if not (isinstance(cls, type) and issubclass(cls, (StandIn, EasyDict))):
        raise ConvertError("refusing to reconstruct an object of %r" % (cls,))
    obj = cls.__new__(cls)
    if isinstance(state, dict) and isinstance(obj, EasyDict):
        dict.update(obj, state)
    elif state is not None and isinstance(obj, StandIn):
        obj.__setstate__(state)
    return obj


def _newobj(cls, *args):
    # copyreg.__newobj__
    if not (isinstance(cls, type) and issubclass(cls, (StandIn, EasyDict))):
        raise ConvertError("refusing to create an object of %r" % (cls,))
    return cls.__new__(cls)


def _bytearray(source=b"", encoding=None, errors=None):
    # builtins.bytearray as pickles of bytearrays call it: from bytes, or
    # from text and its encoding, never from a size.
    if isinstance(source, (bytes, bytearray)) and encoding is None:
        return bytearray(source)
    if isinstance(source, str) and encoding in ("latin1", "latin-1", "utf-8", "utf8") \
            and errors is None:
        return bytearray(source, encoding)
    raise ConvertError("unexpected arguments to bytearray")


def _codecs_encode(text, encoding="utf-8"):
    # Python 3 writes bytes into protocol 0-2 pickles as
    # _codecs.encode(text, 'latin1').
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise ConvertError("unexpected arguments to _codecs.encode")
    return text.encode(encoding)


_NDARRAY = None  # set below to the marker that stands for numpy.ndarray


def _numpy_reconstruct(subtype, shape, dtype):
    # numpy.core.multiarray._reconstruct: an empty array that the BUILD
    # opcode then fills through ndarray.__setstate__
    if subtype is not _NDARRAY:
        raise ConvertError("refusing to create an array of %r" % (subtype,))
    return np.ndarray.__new__(np.ndarray, (0,), np.uint8)


def _numpy_dtype(*args):
    return np.dtype(*args)


def _numpy_scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype):
        raise ConvertError("invalid NumPy scalar")
    if dtype.hasobject:
        return data
    if not isinstance(data, (bytes, bytearray)) or len(data) != dtype.itemsize:
        raise ConvertError("invalid NumPy scalar")
    return np.frombuffer(bytes(data), dtype=dtype)[0]


def _defaultdict(default_factory=None):
    # collections.defaultdict as OmegaConf's metadata pickles it: the
    # factory is a type marker and the items follow; a plain dict holds them.
    if default_factory is not None and not isinstance(default_factory, _TypeMarker):
        raise ConvertError("unexpected arguments to collections.defaultdict")
    return {}


def _refuse_load_from_bytes(data):  # replaced per unpickler
    raise ConvertError("internal error: storage bytes outside a pickle")


def _torch_device(*args):
    return _TypeMarker("torch.device(%s)" % ", ".join(repr(a) for a in args))


def _torch_size(*args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


_TORCH_DTYPES = ("float32", "float", "float64", "double", "float16", "half", "bfloat16",
                 "int64", "long", "int32", "int", "int16", "short", "int8", "uint8", "bool")

ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
    ("builtins", "bytearray"): _bytearray,
    ("builtins", "object"): object,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("copyreg", "__newobj__"): _newobj,
    ("_codecs", "encode"): _codecs_encode,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch.storage", "_load_from_bytes"): _refuse_load_from_bytes,
    ("torch", "Tensor"): _TypeMarker("torch.Tensor"),
    ("torch.nn.parameter", "Parameter"): _TypeMarker("torch.nn.Parameter"),
    ("torch", "device"): _torch_device,
    ("torch", "Size"): _torch_size,
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("dnnlib", "EasyDict"): EasyDict,
    ("argparse", "Namespace"): _standin_class("argparse.Namespace"),
    ("numpy", "ndarray"): _TypeMarker("numpy.ndarray"),
    ("numpy", "dtype"): _numpy_dtype,
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
}
_NDARRAY = ALLOWED_GLOBALS[("numpy", "ndarray")]

# An OmegaConf DictConfig (HyperDomainNet's mapper_config) is read as data:
# its containers, nodes and metadata become stand-ins that keep their
# state, the types its metadata names become markers.  No omegaconf code is
# imported; omegaconf_to_data() turns the stand-ins into dicts and lists.
OMEGACONF_CLASSES = (
    ("omegaconf.dictconfig", "DictConfig"), ("omegaconf.listconfig", "ListConfig"),
    ("omegaconf.base", "ContainerMetadata"), ("omegaconf.base", "Metadata"),
    ("omegaconf.nodes", "AnyNode"), ("omegaconf.nodes", "StringNode"),
    ("omegaconf.nodes", "IntegerNode"), ("omegaconf.nodes", "FloatNode"),
    ("omegaconf.nodes", "BooleanNode"), ("omegaconf.nodes", "BytesNode"),
    ("omegaconf.nodes", "PathNode"), ("omegaconf.nodes", "EnumNode"),
)
for _module, _name in OMEGACONF_CLASSES:
    ALLOWED_GLOBALS[(_module, _name)] = _standin_class(_module + "." + _name)
ALLOWED_GLOBALS[("typing", "Any")] = _TypeMarker("typing.Any")
ALLOWED_GLOBALS[("collections", "defaultdict")] = _defaultdict
for _name in ("dict", "list", "tuple", "str", "bytes", "int", "float", "bool"):
    ALLOWED_GLOBALS[("builtins", _name)] = _TypeMarker(_name)
for _name, _stype in STORAGE_TYPES.items():
    ALLOWED_GLOBALS[("torch", _name)] = _stype
    ALLOWED_GLOBALS[("torch.storage", _name)] = _stype
for _name in _TORCH_DTYPES:
    ALLOWED_GLOBALS[("torch", _name)] = _TypeMarker("torch." + _name)

# Python 2 spellings
_MODULE_ALIASES = {"__builtin__": "builtins", "copy_reg": "copyreg"}


def _hint_for_global(module, name):
    if module.startswith("omegaconf"):
        return " (an OmegaConf object other than a config of plain values)"
    if module.startswith("torch.jit"):
        return " (a TorchScript object; export the weights with state_dict() instead)"
    if module in ("os", "posix", "nt", "subprocess", "sys", "shutil", "socket",
                  "runpy", "importlib", "pty") or (module == "builtins" and name in (
                      "eval", "exec", "compile", "open", "__import__", "getattr",
                      "setattr", "globals", "input", "breakpoint")):
        return " (this pickle would run code or touch the system if loaded with plain pickle)"
    if module.startswith("torch"):
        return " (a PyTorch object that a file of weights does not need)"
    return " (a whole pickled Python object rather than weights)"


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only ALLOWED_GLOBALS (and torch.nn module
    classes, to inert stand-ins) and hands persistent ids to a callback."""

    def __init__(self, file, source, persistent=None, load_from_bytes=None):
        super().__init__(file, encoding="latin1")
        self._source = source
        self._persistent = persistent
        self._load_from_bytes = load_from_bytes

    def find_class(self, module, name):
        module = _MODULE_ALIASES.get(module, module)
        key = (module, name)
        if key == ("torch.storage", "_load_from_bytes") and self._load_from_bytes is not None:
            return self._load_from_bytes
        if key in ALLOWED_GLOBALS:
            return ALLOWED_GLOBALS[key]
        if module.startswith("torch.nn.modules.") and name.isidentifier() \
                and name[:1].isupper():
            return _standin_class(module + "." + name)
        if is_script_module_name(module) and name.isidentifier():
            # A module of a TorchScript archive's data.pkl; its code/ is
            # never read, the object only keeps its attributes.
            return _standin_class(module + "." + name)
        raise UnsafePickleError(
            "%s: refusing to load the global %s.%s%s. Only tensors, dicts, lists and "
            "numbers are read from checkpoints, so nothing in the file was run."
            % (self._source, module, name, _hint_for_global(module, name)))

    def persistent_load(self, pid):
        if self._persistent is None:
            raise ConvertError("%s: the pickle holds a persistent reference %r outside a "
                               "PyTorch checkpoint" % (self._source, _short(pid)))
        return self._persistent(pid)


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


class _Bounded:
    """Reads of FILEOBJ capped at what is left of it, so a length field of
    the file cannot make a read allocate more than the file holds."""

    def __init__(self, fileobj):
        self._f = fileobj
        here = fileobj.tell()
        fileobj.seek(0, os.SEEK_END)
        self._end = fileobj.tell()
        fileobj.seek(here)

    def read(self, n=-1):
        left = max(self._end - self._f.tell(), 0)
        return self._f.read(left if n is None or n < 0 else min(n, left))

    def readline(self):
        return self._f.readline()

    def tell(self):
        return self._f.tell()


def _check_memo(fileobj, source):
    """Reads the opcodes of the pickle at the position of FILEOBJ, which
    is then restored.  Pickle writes memo slots in order; a slot far beyond
    those written would make the unpickler allocate a memo table of that
    size (gigabytes, from a few bytes of file)."""
    start = fileobj.tell()
    puts = 0
    for opcode, arg, _pos in pickletools.genops(_Bounded(fileobj)):
        if opcode.name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
            if opcode.name != "MEMOIZE" and (not isinstance(arg, int) or arg < 0 or
                                             arg > 2 * puts + 1024):
                raise ConvertError("%s: the pickle writes memo slot %r after only %d "
                                   "others; not a pickle Python wrote" % (source, arg, puts))
            puts += 1
    fileobj.seek(start)


def _restricted_load(fileobj, source, persistent=None, load_from_bytes=None):
    try:
        # Strings with unknown escapes warn; the file's text is no warning
        # about this program.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check_memo(fileobj, source)
            return RestrictedUnpickler(fileobj, source, persistent, load_from_bytes).load()
    except ConvertError:
        raise
    except RecursionError:
        raise ConvertError("%s: the pickle is nested too deeply" % source)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError,
            IndexError, AttributeError, OverflowError, MemoryError, struct.error,
            UnicodeDecodeError) as exc:
        raise ConvertError("%s: not a PyTorch checkpoint or a readable pickle (%s: %s)"
                           % (source, type(exc).__name__, exc))


# --------------------------------------------------------------------------
# Containers


class Checkpoint:
    """What load() returns: the unpickled object and how it was stored."""

    def __init__(self, path, container, obj, closer=None):
        self.path = path
        self.container = container
        self.obj = obj
        self._closer = closer

    def close(self):
        if self._closer is not None:
            self._closer()
            self._closer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _check_storage_pid(pid, source, legacy):
    if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
        if isinstance(pid, tuple) and pid and pid[0] == "module":
            raise ConvertError("%s: the checkpoint is a whole pickled model (with its source "
                               "code) rather than weights; it is not read" % source)
        raise ConvertError("%s: unknown persistent reference %s" % (source, _short(pid)))
    stype, key, _location, numel = pid[1:5]
    if not isinstance(stype, StorageType):
        raise ConvertError("%s: a storage has the unknown type %s" % (source, _short(stype)))
    if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
        raise ConvertError("%s: invalid storage reference %s" % (source, _short(pid)))
    return stype, key, numel


def _load_zip(path, fileobj, source):
    try:
        zf = zipfile.ZipFile(fileobj)
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ConvertError("%s: a damaged zip file (%s)" % (source, exc))

    def close():
        zf.close()
        fileobj.close()

    def read(member):
        try:
            return zf.read(member)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
                NotImplementedError, RuntimeError) as exc:
            raise ConvertError("%s: a damaged zip file: %s cannot be read (%s)"
                               % (source, member, exc))

    pkl = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
    pkl = [n for n in pkl if n.count("/") <= 1]
    if not pkl:
        close()
        raise ConvertError("%s: a zip file without data.pkl; not a PyTorch checkpoint" % source)
    prefix = pkl[0][: -len("data.pkl")]
    big_endian = False
    if prefix + "byteorder" in names:
        try:
            order = read(prefix + "byteorder").strip()
        except ConvertError:
            close()
            raise
        if order not in (b"little", b"big"):
            close()
            raise ConvertError("%s: unknown byte order %r" % (source, order))
        big_endian = order == b"big"
    storages = {}

    def persistent(pid):
        stype, key, numel = _check_storage_pid(pid, source, False)
        st = storages.get(key)
        if st is None:
            member = prefix + "data/" + key
            if member not in names:
                raise ConvertError("%s: storage %s is missing from the archive" % (source, key))

            def fetch(member=member):
                return read(member)
            st = Storage(stype, numel, fetch, big_endian)
            storages[key] = st
        return st

    try:
        data = read(pkl[0])
    except ConvertError:
        close()
        raise
    try:
        obj = _restricted_load(io.BytesIO(data), source, persistent,
                               _make_load_from_bytes(source))
    except BaseException:
        close()
        raise
    return Checkpoint(path, "torch zip", obj, close)


def _load_legacy_after_magic(f, source):
    """F is positioned after the magic number of a legacy torch.save file."""
    proto = _restricted_load(f, source)
    if proto != LEGACY_PROTOCOL:
        raise ConvertError("%s: legacy PyTorch file of unsupported protocol %r" % (source, proto))
    sys_info = _restricted_load(f, source)
    big_endian = isinstance(sys_info, dict) and sys_info.get("little_endian") is False
    storages = {}
    roots = {}

    def persistent(pid):
        stype, key, numel = _check_storage_pid(pid, source, True)
        view = pid[5] if len(pid) > 5 else None
        root = roots.get(key)
        if root is None:
            root = {"stype": stype, "numel": numel, "pos": None}
            roots[key] = root
        if view is None:
            cache_key = key
            offset = 0
        else:
            if not (isinstance(view, tuple) and len(view) == 3):
                raise ConvertError("%s: invalid storage view %s" % (source, _short(view)))
            cache_key, offset, numel = view
            if not isinstance(offset, int) or not isinstance(numel, int) or offset < 0:
                raise ConvertError("%s: invalid storage view %s" % (source, _short(view)))
        st = storages.get(cache_key)
        if st is None:
            def fetch(root=root, key=key):
                if root["pos"] is None:
                    raise ConvertError("%s: storage %s has no data" % (source, key))
                f.seek(root["pos"])
                raw = f.read(root["numel"] * root["stype"].itemsize)
                return raw
            st = Storage(stype, numel, fetch, big_endian, offset)
            storages[cache_key] = st
        return st

    obj = _restricted_load(f, source, persistent, _make_load_from_bytes(source))
    keys = _restricted_load(f, source)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ConvertError("%s: the legacy storage list is damaged" % source)
    pos = f.tell()
    f.seek(0, os.SEEK_END)
    end = f.tell()
    for key in keys:
        f.seek(pos)
        head = f.read(8)
        if len(head) != 8:
            raise ConvertError("%s: the file ends inside storage %s" % (source, key))
        (count,) = struct.unpack("<q", head)
        root = roots.get(key)
        if root is None:
            raise ConvertError("%s: the file holds an unreferenced storage %s" % (source, key))
        if count < 0 or pos + 8 + count * root["stype"].itemsize > end:
            raise ConvertError("%s: storage %s is truncated" % (source, key))
        root["numel"] = count
        root["pos"] = pos + 8
        pos += 8 + count * root["stype"].itemsize
    return obj


def _make_load_from_bytes(source):
    def load_from_bytes(data):
        if not isinstance(data, (bytes, bytearray)):
            raise ConvertError("%s: torch.storage._load_from_bytes got %s"
                               % (source, type(data).__name__))
        data = bytes(data)
        if data[:2] == b"PK":
            ckpt = _load_zip(None, io.BytesIO(data), source)
            obj = ckpt.obj
            if isinstance(obj, Storage):
                obj.array()
            ckpt.close()
        else:
            f = io.BytesIO(data)
            magic = _restricted_load(f, source)
            if magic != LEGACY_MAGIC:
                raise ConvertError("%s: an embedded storage is not in PyTorch's format" % source)
            obj = _load_legacy_after_magic(f, source)
            if isinstance(obj, Storage):
                obj.array()          # read now: the bytes are not kept
        if not isinstance(obj, Storage):
            raise ConvertError("%s: an embedded storage holds %s" % (source, type(obj).__name__))
        return obj
    return load_from_bytes


def load(path):
    """Unpickles the checkpoint at PATH with the restricted unpickler."""
    source = path
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise ConvertError("%s: %s" % (path, exc.strerror or exc))
    try:
        head = f.read(512)
        f.seek(0)
        if head[:4] == b"PK\x03\x04":
            return _load_zip(path, f, source)
        if len(head) >= 262 and head[257:262] == b"ustar":
            raise ConvertError("%s: a tar-format PyTorch file (PyTorch before 0.4); load it "
                               "in PyTorch and save it again with torch.save" % source)
        if not head:
            raise ConvertError("%s: the file is empty" % source)
        first = _restricted_load(f, source, None, _make_load_from_bytes(source))
        if isinstance(first, int) and first == LEGACY_MAGIC:
            obj = _load_legacy_after_magic(f, source)
            return Checkpoint(path, "torch legacy", obj, f.close)
        f.close()
        return Checkpoint(path, "pickle", first)
    except BaseException:
        f.close()
        raise
