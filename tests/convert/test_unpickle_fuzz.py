#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mutation fuzzing of the converter's restricted unpickler.

Small pickles (benign data, NumPy arrays, tensors of every container,
NVIDIA persistence objects, TorchScript module trees, OmegaConf configs,
HyperDomainNet mapper checkpoints, and payloads that name os.system, eval,
subprocess...) are mutated with a fixed random seed: bit flips, byte
changes, truncation, deleted and repeated ranges, inserted opcodes and
inserted hostile GLOBAL / STACK_GLOBAL / INST / OBJ / REDUCE / NEWOBJ / BUILD
sequences, splices of two pickles.  Every case must either return data or
raise ConvertError, within a time bound, also when read further as the
converter reads a mapper, a CLIP or an OmegaConf config, without resolving any global
outside the allow-list and without the interpreter seeing any import,
process, exec, compile, open or socket event (an audit hook watches).

HD_UNPICKLE_FUZZ_CASES sets the number of cases of the main test
(default 4000); HD_UNPICKLE_FUZZ_SEED the random seed.
"""

import collections
import io
import os
import pickle
import random
import resource
import shutil
import signal
import struct
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TEXT = os.path.join(ROOT, "tests", "conformance", "text")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))

import numpy as np  # noqa: E402

import torchwriter as tw  # noqa: E402
from hdconvert import clip, hypernetwork, torchfile  # noqa: E402
from hdconvert.errors import ConvertError  # noqa: E402

CASES = int(os.environ.get("HD_UNPICKLE_FUZZ_CASES", "4000"))
SEED = int(os.environ.get("HD_UNPICKLE_FUZZ_SEED", "20240611"))
# Seconds one case may take; far more than any case needs.
CASE_TIMEOUT = 5.0
# Peak memory the whole run may add (a pickle of a few bytes must not make
# the converter allocate gigabytes).
MAX_RSS_GROWTH_MIB = 512

# Audit events that loading weights never needs.
FORBIDDEN_EVENTS = (
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.kill",
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.putenv",
    "subprocess.Popen", "exec", "compile", "import", "open", "socket.", "ctypes.",
    "builtins.input", "shutil.", "pty.", "webbrowser.", "urllib.",
)


class Hang(BaseException):
    """A case ran past CASE_TIMEOUT."""


class Watch:
    """Fails a case that resolves a global outside the allow-list or makes
    the interpreter do something loading data never needs."""

    armed = False
    allowed_path = None
    last_error = ""
    events = []
    globals_seen = collections.Counter()

    @classmethod
    def audit(cls, event, args):
        if not cls.armed or not event.startswith(FORBIDDEN_EVENTS):
            return
        # The container tests open the file under test, read-only.
        if event == "open" and cls.allowed_path is not None and args[0] == cls.allowed_path \
                and args[1] in ("r", "rb"):
            return
        cls.events.append((event, repr(args)[:200]))


sys.addaudithook(Watch.audit)

_ALLOWED_IDS = {id(v) for v in torchfile.ALLOWED_GLOBALS.values()}
_original_find_class = torchfile.RestrictedUnpickler.find_class


def _checked_find_class(self, module, name):
    Watch.globals_seen["%s.%s" % (module, name)] += 1
    result = _original_find_class(self, module, name)
    allowed = (id(result) in _ALLOWED_IDS or result is self._load_from_bytes or
               (isinstance(result, type) and issubclass(result, torchfile.StandIn)))
    if not allowed:
        raise AssertionError("find_class(%r, %r) returned %r, which is not in the "
                             "allow-list" % (module, name, result))
    return result


torchfile.RestrictedUnpickler.find_class = _checked_find_class


def _on_alarm(signum, frame):
    raise Hang()


# --------------------------------------------------------------------------
# Seeds

HOSTILE_GLOBALS = [
    ("os", "system"), ("posix", "system"), ("nt", "system"), ("subprocess", "Popen"),
    ("subprocess", "check_output"), ("builtins", "eval"), ("builtins", "exec"),
    ("builtins", "__import__"), ("builtins", "getattr"), ("builtins", "open"),
    ("__builtin__", "eval"), ("importlib", "import_module"), ("runpy", "run_path"),
    ("pickle", "loads"), ("torch", "load"), ("numpy", "load"), ("shutil", "rmtree"),
    ("webbrowser", "open"), ("socket", "create_connection"), ("ctypes", "CDLL"),
]


def _op_string(s):
    return b"S" + repr(s).encode() + b"\n"


def _hostile_snippets():
    """Opcode sequences that call or build something outside the allow-list
    (each leaves one object on the stack)."""
    out = []
    for module, name in HOSTILE_GLOBALS:
        mod, nm = module.encode(), name.encode()
        arg = _op_string("touch /tmp/hd-pwned")
        out.append(b"c" + mod + b"\n" + nm + b"\n(" + arg + b"tR")                # GLOBAL + REDUCE
        out.append(b"(" + arg + b"i" + mod + b"\n" + nm + b"\n")                   # INST
        out.append(b"(c" + mod + b"\n" + nm + b"\n" + arg + b"o")                  # OBJ
        out.append(b"\x8c" + bytes([len(mod)]) + mod + b"\x8c" + bytes([len(nm)]) + nm +
                   b"\x93" + arg + b"\x85R")                                        # STACK_GLOBAL
        out.append(b"c" + mod + b"\n" + nm + b"\n)\x81")                           # NEWOBJ
        out.append(b"c" + mod + b"\n" + nm + b"\n)}\x92")                          # NEWOBJ_EX
        out.append(b"ccollections\nOrderedDict\n)R}" + b"c" + mod + b"\n" + nm +
                   b"\nb")                                                          # BUILD
    return out


def _plain(value):
    return tw.plain_pickle_bytes(value)


def _seeds():
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    benign = [
        {"a": 1, "b": [1.5, -2, None, True], "c": ("x", b"raw", bytearray(b"ba"))},
        collections.OrderedDict([("w", 3), ("s", {1, 2}), ("f", frozenset([3]))]),
        [complex(1, 2), 2 ** 70, -(2 ** 40), 1e300, "ünï", b"\x00" * 5],
        arr, np.float32(1.25), np.int64(7), arr.astype(np.float16),
        {"nested": [[[[[1]]]]], "empty": {}, "t": ()},
    ]
    seeds = []
    for obj in benign:
        for proto in range(0, pickle.HIGHEST_PROTOCOL + 1):
            seeds.append(pickle.dumps(obj, protocol=proto))
    tensors = {"w": tw.Param(np.ones((2, 3), np.float32)), "b": np.zeros(4, np.float16),
               "i": np.arange(3, dtype=np.int64)}
    seeds.append(_plain(tensors))
    seeds.append(_plain({"G": tw.easydict({"x": tw.Param(np.ones(2, np.float32))})}))
    seeds.append(_plain({"g_ema": tw.persistent_module(
        "Gen", "import os\nos.system('touch /tmp/hd-pwned')\n",
        params={"weight": np.ones((2, 2), np.float32)})}))
    seeds.append(tw.Pickler(2).dumps({"module": tw.NewObj(
        tw.Global("torch.nn.modules.linear", "Linear"), state={"_parameters": {}})}))
    for module, name in HOSTILE_GLOBALS[:6]:
        seeds.append(tw.Pickler(2).dumps({"g_ema": tw.Reduce(tw.Global(module, name),
                                                             ("touch /tmp/hd-pwned",))}))
    for name in ("torch-plain.pkl", "omegaconf-mapper-config.pkl"):
        with open(os.path.join(HERE, "fixtures", name), "rb") as f:
            seeds.append(f.read())
    seeds.append(tw.Pickler(2).dumps(_script_tree()))
    seeds.append(tw.Pickler(2).dumps({"model_type": "mapper", "mapper_config": tw.Raw(
        seeds[-2]), "patch_key": "cin_mult", "state_dict": {},
        "sg2_params": {"img_size": 32}}))
    return seeds


def _script_tree():
    """A TorchScript data.pkl's module tree (no tensors)."""
    def module(cls, **attrs):
        attrs.setdefault("training", False)
        return tw.NewObj(tw.Global("__torch__.clip.model.___torch_mangle_3", cls), state=attrs)
    return module("CLIP", visual=module("VisionTransformer", transformer=module(
        "Transformer", resblocks=module("Sequential"))), transformer=module(
        "Transformer", layers=2, resblocks=module("Sequential", **{
            "0": module("ResidualAttentionBlock", attn_mask=None)})),
        _is_full_backward_hook=None)


# --------------------------------------------------------------------------
# Mutations

OPCODES = sorted({op.code.encode("latin1") for op in __import__("pickletools").opcodes})


def _random_arg(rng):
    kind = rng.randrange(6)
    if kind == 0:
        return struct.pack("<I", rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, rng.getrandbits(32)]))
    if kind == 1:
        return struct.pack("<Q", rng.choice([0, 1 << 40, (1 << 64) - 1, rng.getrandbits(64)]))
    if kind == 2:
        return bytes([rng.randrange(256)])
    if kind == 3:
        return str(rng.choice([0, -1, 10 ** 30, rng.getrandbits(20)])).encode() + b"\n"
    if kind == 4:
        return b"os\nsystem\n"
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))


def mutate(data, rng, seeds, snippets):
    data = bytearray(data)
    for _ in range(rng.randrange(1, 5)):
        n = len(data)
        what = rng.randrange(9)
        pos = rng.randrange(n + 1) if n else 0
        if what == 0 and n:
            data[rng.randrange(n)] ^= 1 << rng.randrange(8)
        elif what == 1 and n:
            data[rng.randrange(n)] = rng.randrange(256)
        elif what == 2 and n:
            del data[rng.randrange(n):]
        elif what == 3 and n:
            end = min(n, pos + rng.randrange(1, 16))
            del data[pos:end]
        elif what == 4 and n:
            end = min(n, pos + rng.randrange(1, 32))
            data[pos:pos] = data[pos:end] * rng.randrange(1, 4)
        elif what == 5:
            data[pos:pos] = rng.choice(OPCODES) + _random_arg(rng)
        elif what == 6:
            data[pos:pos] = rng.choice(snippets)
        elif what == 7:
            # A hostile call just before the final STOP: it would run.
            stop = data.rfind(b".")
            stop = stop if stop >= 0 else len(data)
            data[stop:stop] = rng.choice(snippets) + b"0"
        else:
            other = rng.choice(seeds)
            cut = rng.randrange(len(other) + 1)
            data[pos:] = other[cut:]
    return bytes(data)


# --------------------------------------------------------------------------
# Running one case

def _touch(obj, depth=0, seen=None):
    """Reads what a conversion would read: every tensor's data.  Objects
    are visited once (OmegaConf nodes refer back to their parents)."""
    seen = set() if seen is None else seen
    if depth > 50 or id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, torchfile.Tensor):
        obj.numpy()
    elif isinstance(obj, dict):
        for v in list(obj.values())[:100]:
            _touch(v, depth + 1, seen)
    elif isinstance(obj, (list, tuple)):
        for v in obj[:100]:
            _touch(v, depth + 1, seen)
    elif isinstance(obj, (torchfile.StandIn, torchfile.PersistentObject)):
        _touch(getattr(obj, "state", None), depth + 1, seen)


def _interpret(obj):
    """Reads OBJ as the converter reads a mapper checkpoint and a CLIP."""
    sd, container = clip.find_state_dict(obj)
    if sd is not None:
        clip.TextTower(sd, container, "fuzz", None)
    if hypernetwork.detect(obj):
        hypernetwork.describe_mapper(obj, "fuzz")
        hypernetwork.Mapper(obj, "fuzz", []).tensors()
    elif isinstance(obj, torchfile.StandIn):
        torchfile.omegaconf_to_data(obj, "fuzz")


def load_file(path):
    """torchfile.load and every tensor read, as a conversion does (and as
    the converter reads a mapper or a CLIP)."""
    ckpt = torchfile.load(path)
    try:
        _touch(ckpt.obj)
        _interpret(ckpt.obj)        # reads tensors while the file is open
        return ckpt.obj
    finally:
        ckpt.close()


def run_case(load):
    """Runs LOAD (a callable); returns "data" or "refused"."""
    Watch.events = []
    signal.setitimer(signal.ITIMER_REAL, CASE_TIMEOUT)
    Watch.armed = True
    try:
        try:
            obj = load()
            _touch(obj)
            _interpret(obj)
            return "data"
        except ConvertError as exc:
            if not str(exc):
                raise AssertionError("a ConvertError without a message")
            Watch.last_error = str(exc)
            return "refused"
    finally:
        Watch.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        if Watch.events:
            raise AssertionError("the interpreter saw %r while unpickling" % Watch.events)


def _max_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class UnpicklerFuzzTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        signal.signal(signal.SIGALRM, _on_alarm)
        cls.seeds = _seeds()
        cls.snippets = _hostile_snippets()
        cls.tmp = tempfile.mkdtemp(prefix="hd-unpickle-fuzz-")
        # Warm up what loading uses (lazy imports of NumPy and zipfile,
        # which decodes names without the UTF-8 flag as cp437).
        b"name".decode("cp437")
        for seed in cls.seeds:
            try:
                _touch(torchfile._restricted_load(io.BytesIO(seed), "warm-up", None,
                                                  torchfile._make_load_from_bytes("warm-up")))
            except ConvertError:
                pass
        cls.rss_start = _max_rss_mib()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check(self, label, data, load):
        try:
            return run_case(load)
        except Hang:
            self.fail("%s hangs (over %.0f s): %s" % (label, CASE_TIMEOUT, data.hex()))
        except AssertionError as exc:
            self.fail("%s: %s; input %s" % (label, exc, data.hex()))
        except Exception as exc:  # noqa: BLE001 - anything but ConvertError is a bug
            self.fail("%s raised %s: %s (not a ConvertError); input %s"
                      % (label, type(exc).__name__, exc, data.hex()))

    def test_seeds_load(self):
        """The unmutated benign seeds load; the hostile ones are refused."""
        results = collections.Counter()
        for i, seed in enumerate(self.seeds):
            results[self.check("seed %d" % i, seed, lambda s=seed: torchfile._restricted_load(
                io.BytesIO(s), "seed", None, torchfile._make_load_from_bytes("seed")))] += 1
        self.assertGreater(results["data"], 40)
        self.assertGreaterEqual(results["refused"], 6)

    def test_mutated_pickles(self):
        rng = random.Random(SEED)
        results = collections.Counter()
        Watch.globals_seen.clear()
        for i in range(CASES):
            data = mutate(rng.choice(self.seeds), rng, self.seeds, self.snippets)
            results[self.check("case %d (seed %d)" % (i, SEED), data,
                               lambda d=data: torchfile._restricted_load(
                                   io.BytesIO(d), "fuzz", None,
                                   torchfile._make_load_from_bytes("fuzz")))] += 1
        hostile = sum(n for g, n in Watch.globals_seen.items()
                      if tuple(g.rsplit(".", 1)) in HOSTILE_GLOBALS)
        print("\n%d mutated pickles: %d returned data, %d refused; %d lookups of hostile "
              "globals, all refused" % (CASES, results["data"], results["refused"], hostile),
              file=sys.stderr)
        self.assertEqual(results["data"] + results["refused"], CASES)
        # The mutations reach both outcomes and the hostile globals.
        self.assertGreater(results["data"], CASES // 100)
        self.assertGreater(results["refused"], CASES // 4)
        self.assertGreater(hostile, CASES // 40)
        self.assertLess(_max_rss_mib() - self.rss_start, MAX_RSS_GROWTH_MIB)

    def _containers(self):
        payload = {"g_ema": {"w": tw.Param(np.ones((2, 3), np.float32)),
                             "b": np.arange(4, dtype=np.float32)}}
        return tw.torch_zip_bytes(payload), tw.torch_legacy_bytes(payload)

    def _archive_members(self, path):
        with zipfile.ZipFile(path) as zf:
            return [(info.filename, zf.read(info.filename)) for info in zf.infolist()
                    if "/code/" not in info.filename]

    def test_text_fixtures_load(self):
        """The CLIP archive (its code/ unread) and the mappers load and are
        read as the converter reads them, with nothing but data touched."""
        for name in ("clip-small.pt", "clip-small-state.pt", "mapper-tiny.pt"):
            path = os.path.join(TEXT, name)
            Watch.allowed_path = path
            try:
                self.assertEqual(self.check(name, b"", lambda p=path: load_file(p)), "data")
            finally:
                Watch.allowed_path = None

    def test_mutated_containers(self):
        """torchfile.load on mutated zip and legacy torch.save files, and on
        zip files whose data.pkl is mutated (so the zip itself is valid)."""
        rng = random.Random(SEED + 1)
        zip_bytes, legacy_bytes = self._containers()
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
            members = [(info.filename, zf.read(info.filename)) for info in zf.infolist()]
        # The text fixtures: a TorchScript CLIP archive and a mapper.
        archives = [members] + [self._archive_members(os.path.join(TEXT, name))
                                for name in ("clip-small.pt", "mapper-tiny-lrelu.pt")]
        results = collections.Counter()
        path = os.path.join(self.tmp, "case.pt")
        Watch.allowed_path = path
        n = max(CASES // 10, 50)
        for i in range(n):
            kind = i % 3
            if kind == 0:
                data = mutate(zip_bytes, rng, [zip_bytes], self.snippets)
            elif kind == 1:
                data = mutate(legacy_bytes, rng, [legacy_bytes], self.snippets)
            else:
                out = io.BytesIO()
                with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
                    for name, member in archives[(i // 3) % len(archives)]:
                        if name.endswith("/data.pkl"):
                            member = mutate(member, rng, self.seeds, self.snippets)
                        zf.writestr(name, member)
                data = out.getvalue()
            with open(path, "wb") as f:
                f.write(data)

            results[self.check("container case %d" % i, data,
                               lambda p=path: load_file(p))] += 1
        Watch.allowed_path = None
        print("%d mutated containers: %d returned data, %d refused"
              % (n, results["data"], results["refused"]), file=sys.stderr)
        self.assertEqual(results["data"] + results["refused"], n)
        self.assertGreater(results["refused"], n // 4)

    # Findings of this fuzzing, kept as regressions: each small file once
    # made the converter allocate gigabytes or fail with a foreign error.

    def refused(self, label, load, expect):
        start = _max_rss_mib()
        try:
            outcome = run_case(load)
        except Hang:
            self.fail("%s hangs" % label)
        self.assertEqual(outcome, "refused", label)
        self.assertIn(expect, Watch.last_error, label)
        self.assertLess(_max_rss_mib() - start, 256, label)

    def test_finding_memo_slot(self):
        # LONG_BINPUT 0x10000000: a memo table of 2^29 slots (4 GiB).
        data = b"\x80\x02]r\x00\x00\x00\x10."
        self.refused("memo slot", lambda: torchfile._restricted_load(
            io.BytesIO(data), "memo", None, None), "memo slot")

    def test_finding_bytearray_size(self):
        # bytearray(2**33) through the allowed builtins.bytearray
        data = b"c__builtin__\nbytearray\n(L8589934592L\ntR."
        self.refused("bytearray size", lambda: torchfile._restricted_load(
            io.BytesIO(data), "bytearray", None, None), "bytearray")

    def test_finding_damaged_zip_member(self):
        zip_bytes, _legacy = self._containers()
        # A damaged local header of data.pkl (the central directory is fine).
        data = bytearray(zip_bytes)
        at = data.index(b"PK\x03\x04", 4)
        data[at + 1] ^= 0xFF
        path = os.path.join(self.tmp, "damaged.pt")
        with open(path, "wb") as f:
            f.write(data)
        Watch.allowed_path = path
        try:
            self.refused("damaged zip", lambda: load_file(path), "damaged zip")
        finally:
            Watch.allowed_path = None

    def test_finding_stride_zero_tensor(self):
        # 2^28 floats viewed through stride 0 over a storage of one.
        pid = tw.PersId(("storage", tw.Global("torch", "FloatStorage"), "0", "cpu", 1))
        tensor = tw.Reduce(tw.Global("torch._utils", "_rebuild_tensor_v2"),
                           (pid, 0, (1 << 28,), (0,), False, collections.OrderedDict()))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("archive/data.pkl", tw.Pickler(2).dumps({"w": tensor}))
            zf.writestr("archive/data/0", np.ones(1, np.float32).tobytes())
        path = os.path.join(self.tmp, "stride0.pt")
        with open(path, "wb") as f:
            f.write(out.getvalue())
        Watch.allowed_path = path
        try:
            self.refused("stride 0", lambda: load_file(path), "repeats a storage")
        finally:
            Watch.allowed_path = None


if __name__ == "__main__":
    unittest.main()
