"""training/nvm.py: round trips, refusals, and agreement with the C code.

Cross-check with C (the route: no extra program, no Makefile rule): the C
suite build/tests/test_nvm has two tool modes.  Python writes a model with
every dtype and a graph using every op; then
  * `test_nvm --nvm-dump FILE` must load it (C validation included) and
    print exactly the text this test derives from the Python content;
  * `test_nvm --nvm-rewrite FILE OUT` must write, with the C writer, the
    same bytes Python wrote;
  * a corrupted copy must be refused by the C loader.
The golden digest of a tiny model is the same constant as in test_nvm.c.
$BUILD selects the build directory (build, or build/san under SANITIZE=1);
`make check` builds the C suite before it runs this file.
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "training"))
import nvm  # noqa: E402

BUILD = os.environ.get("BUILD", "build")
C_TOOL = os.path.join(ROOT, BUILD, "tests", "test_nvm")
GOLDEN_TINY_SHA256 = "046572a44cf934fa20b3b29a75881dcdcb099e46dbb2af0277abcc8795ba7117"


def sample_content():
    """A model with tensors of every dtype and a graph using every op."""
    rng = np.random.default_rng(7)
    params = {"cy": 192, "cz": 64, "neg": -5, "min": -2**63, "max": 2**63 - 1}
    tensors = {
        "u8.1d": np.array([0, 1, 255], dtype=np.uint8),
        "s8.2d": np.array([[-128, 127], [0, -1]], dtype=np.int8),
        "u16.3d": rng.integers(0, 65536, size=(2, 3, 5)).astype(np.uint16),
        "s16.4d": rng.integers(-32768, 32768, size=(1, 2, 3, 2)).astype(np.int16),
        "u32": np.array([0, 1, 2**32 - 1], dtype=np.uint32),
        "s32": np.array([-2**31, 2**31 - 1, 5], dtype=np.int32).astype(">i4"),
        "enc.w": rng.integers(-127, 128, size=(8, 3, 3, 12)).astype(np.int8),
        "enc.b": rng.integers(-1000, 1000, size=8).astype(np.int32),
        "enc.m": rng.integers(0, 2**31, size=8).astype(np.int32),
        "enc.s": rng.integers(20, 40, size=8).astype(np.uint8),
        "add.ma": np.full(8, 3, dtype=np.int32),
        "add.mb": np.full(8, 5, dtype=np.int32),
        "add.s": np.full(8, 2, dtype=np.uint8),
        "rq.m": np.arange(1, 17, dtype=np.int32),
        "rq.s": np.full(16, 1, dtype=np.uint8),
    }
    graph = {
        "name": "intra.test",
        "n_slots": 9,
        "inputs": [{"slot": 0, "type": "u8", "c": 3}, {"slot": 1, "type": "s8", "c": 8}],
        "outputs": [8, 4],
        "ops": [
            {"op": "s2d", "src": [0], "dst": 2, "r": 2},
            {"op": "conv", "src": [2], "dst": 3, "k": 3, "stride": 2, "cin": 12, "cout": 8,
             "in_type": "u8", "out_type": "s8", "lo": -128, "hi": 127, "weight": "enc.w",
             "bias": "enc.b", "mult": "enc.m", "shift": "enc.s"},
            {"op": "add", "src": [3, 1], "dst": 4, "out_type": "s8", "lo": -100, "hi": 100,
             "ma": "add.ma", "mb": "add.mb", "shift": "add.s"},
            {"op": "clamp", "src": [4], "dst": 5, "lo": 0, "hi": 100},
            {"op": "concat", "src": [5, 1], "dst": 6},
            {"op": "requant", "src": [6], "dst": 7, "out_type": "s16", "lo": -4096,
             "hi": 4096, "bias": None, "mult": "rq.m", "shift": "rq.s"},
            {"op": "d2s", "src": [7], "dst": 8, "r": 2},
        ],
    }
    return "neuvc-py-test", params, tensors, [graph]


def expected_dump(model_id, params, tensors, graphs, payload_digest):
    """The text `test_nvm --nvm-dump` prints, derived from the content."""
    lines = [f"id {model_id}", f"sha256 {payload_digest.hex()}"]
    lines += [f"param {k} {v}" for k, v in params.items()]
    for name, arr in tensors.items():
        dname = next(n for n, (_, dt) in nvm.DTYPES.items()
                     if dt.kind == arr.dtype.kind and dt.itemsize == arr.dtype.itemsize)
        dims = "x".join(str(d) for d in arr.shape)
        raw = np.ascontiguousarray(arr, dtype=nvm.DTYPES[dname][1]).tobytes()
        lines.append(f"tensor {name} {dname} {dims} {raw.hex()}")
    index = {name: i for i, name in enumerate(tensors)}
    for g in graphs:
        lines.append(f"graph {g['name']} slots {g['n_slots']}")
        lines += [f"input {i['slot']} {nvm.SLOT_TYPES[i['type']]} {i['c']}" for i in g["inputs"]]
        lines += [f"output {s}" for s in g["outputs"]]
        for op in g["ops"]:
            _, nsrc, attr_names, tensor_names = nvm.OP_SCHEMA[op["op"]]
            src = op["src"] + [nvm.NONE] * (2 - nsrc)
            attrs = [nvm.SLOT_TYPES[op[a]] if a.endswith("_type") else op[a]
                     for a in attr_names]
            attrs += [0] * (8 - len(attrs))
            refs = [nvm.NONE if op[t] is None else index[op[t]] for t in tensor_names]
            refs += [nvm.NONE] * (4 - len(refs))
            lines.append(" ".join(str(v) for v in
                                  ["op", op["op"], op["dst"], *src, *attrs, *refs]))
    return "\n".join(lines) + "\n"


def run_c_tool(*args):
    if not os.access(C_TOOL, os.X_OK):
        raise AssertionError(f"{C_TOOL} is missing: build it with `make {BUILD}/tests/test_nvm`")
    return subprocess.run([C_TOOL, *args], capture_output=True, text=True, timeout=60)


class PythonFormat(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "model.nvm")

    def tearDown(self):
        self.tmp.cleanup()

    def test_roundtrip(self):
        model_id, params, tensors, graphs = sample_content()
        nvm.write_nvm(self.path, model_id, params, tensors, graphs)
        m = nvm.read_nvm(self.path)
        self.assertEqual(m.model_id, model_id)
        self.assertEqual(m.params, params)
        self.assertEqual(list(m.tensors), list(tensors))
        for name, arr in tensors.items():
            got = m.tensors[name]
            self.assertEqual(got.shape, arr.shape, name)
            self.assertEqual((got.dtype.kind, got.dtype.itemsize),
                             (arr.dtype.kind, arr.dtype.itemsize), name)
            self.assertTrue(np.array_equal(got, arr), name)
        self.assertEqual(m.graphs, graphs)
        # Writing what was read gives the same bytes.
        with open(self.path, "rb") as f:
            first = f.read()
        self.assertEqual(nvm.encode_nvm(*m), first)
        self.assertEqual(nvm.payload_sha256(first), hashlib.sha256(first[112:]).digest())

    def test_n_slots_default_and_bias_none(self):
        model_id, params, tensors, graphs = sample_content()
        g = dict(graphs[0])
        del g["n_slots"]
        data = nvm.encode_nvm(model_id, params, tensors, [g])
        self.assertEqual(nvm.decode_nvm(data).graphs[0]["n_slots"], 9)

    def test_tensor_alignment(self):
        data = nvm.encode_nvm("a", {}, {"x": np.zeros(3, np.uint8), "y": np.ones(2, np.int32)}, [])
        # header 112, counts 16, 2 tensor records 192: data of x at payload
        # offset 208, of y at 224 (after 13 bytes of zero padding).
        self.assertEqual(len(data), 112 + 224 + 8)
        self.assertEqual(data[112 + 208:112 + 224], b"\0\0\0" + b"\0" * 13)
        self.assertEqual(data[112 + 224:], b"\1\0\0\0\1\0\0\0")

    def test_named_graph(self):
        named = {"name": "n", "inputs": ["x", "q"], "outputs": ["out", "y"],
                 "types": {"x": "u8", "q": "s8"},
                 "ops": [{"op": "s2d", "src": "x", "dst": "p", "r": 2},
                         {"op": "concat", "src": ["p", "q"], "dst": "y"},
                         {"op": "clamp", "src": "y", "dst": "out", "lo": 0, "hi": 9}]}
        g = nvm.named_graph(named, {"x": 3, "q": 5})
        self.assertEqual(g, {
            "name": "n", "n_slots": 5,
            "inputs": [{"slot": 0, "type": "u8", "c": 3}, {"slot": 1, "type": "s8", "c": 5}],
            "outputs": [4, 3],
            "ops": [{"op": "s2d", "r": 2, "src": [0], "dst": 2},
                    {"op": "concat", "src": [2, 1], "dst": 3},
                    {"op": "clamp", "lo": 0, "hi": 9, "src": [3], "dst": 4}]})
        bad = dict(named, ops=[dict(named["ops"][0], src="z")] + named["ops"][1:])
        with self.assertRaisesRegex(nvm.NvmError, "before it is written"):
            nvm.named_graph(bad, {"x": 3, "q": 5})
        with self.assertRaisesRegex(nvm.NvmError, "never written"):
            nvm.named_graph(dict(named, outputs=["w"]), {"x": 3, "q": 5})

    def test_golden_digest(self):
        graph = {"name": "g", "inputs": [{"slot": 0, "type": "u8", "c": 1}], "outputs": [1],
                 "ops": [{"op": "clamp", "src": [0], "dst": 1, "lo": 0, "hi": 1}]}
        data = nvm.encode_nvm("tiny", {"a": 1}, {"t": np.array([1, 2, 3], np.uint8)}, [graph])
        self.assertEqual(hashlib.sha256(data).hexdigest(), GOLDEN_TINY_SHA256)

    def test_writer_refuses(self):
        model_id, params, tensors, graphs = sample_content()
        bad = [
            ("has space", params, tensors, graphs),
            ("", params, tensors, graphs),
            ("x" * 64, params, tensors, graphs),
            (model_id, {"p": True}, tensors, graphs),
            (model_id, {"p": 2**63}, tensors, graphs),
            (model_id, {"p": 1.0}, tensors, graphs),
            (model_id, {"p q": 1}, tensors, graphs),
            (model_id, params, {"f": np.zeros(2, np.float32)}, []),
            (model_id, params, {"i64": np.zeros(2, np.int64)}, []),
            (model_id, params, {"b": np.zeros(2, bool)}, []),
            (model_id, params, {"s": np.zeros((), np.int8)}, []),
            (model_id, params, {"e": np.zeros(0, np.int8)}, []),
            (model_id, params, {"5d": np.zeros((1, 1, 1, 1, 1), np.int8)}, []),
            (model_id, params, tensors, graphs + graphs),
        ]
        for args in bad:
            with self.assertRaises(nvm.NvmError, msg=repr(args[:2])):
                nvm.encode_nvm(*args)
        g = graphs[0]
        for change in [{"op": "mul"}, {"weight": "nope"}, {"mult": None}, {"in_type": "u16"},
                       {"src": [2, 3]}, {"lo": 2**31}]:
            op = dict(g["ops"][1], **change)
            g2 = dict(g, ops=g["ops"][:1] + [op] + g["ops"][2:])
            with self.assertRaises(nvm.NvmError, msg=repr(change)):
                nvm.encode_nvm(model_id, params, tensors, [g2])
        # Missing fields are schema errors, not KeyError.
        g3 = dict(g, ops=[{"op": "conv", "src": [0], "dst": 2}] + g["ops"][1:])
        with self.assertRaises(nvm.NvmError):
            nvm.encode_nvm(model_id, params, tensors, [g3])
        with self.assertRaises(nvm.NvmError):
            nvm.encode_nvm(model_id, params, tensors, [{"name": "g"}])

    def test_reader_refuses(self):
        model_id, params, tensors, graphs = sample_content()
        good = nvm.encode_nvm(model_id, {"a": 1}, {"t": tensors["u8.1d"],
                                                   "enc.w": tensors["enc.w"]}, [])
        nvm.decode_nvm(good)
        for n in range(len(good)):
            with self.assertRaises(nvm.NvmError, msg=f"prefix {n}"):
                nvm.decode_nvm(good[:n])
        with self.assertRaises(nvm.NvmError):
            nvm.decode_nvm(good + b"\0")
        for i in range(112, len(good), 7):
            bad = bytearray(good)
            bad[i] ^= 0x10
            with self.assertRaisesRegex(nvm.NvmError, "SHA-256", msg=f"byte {i}"):
                nvm.decode_nvm(bad)

        def rehashed(patch):
            b = bytearray(good)
            patch(b)
            b[80:112] = hashlib.sha256(bytes(b[112:])).digest()
            return bytes(b)

        t0 = 112 + 16 + 72
        cases = {
            "bad magic": lambda b: b.__setitem__(0, ord("X")),
            "version": lambda b: b.__setitem__(4, 2),
            "bad counts": lambda b: b.__setitem__(112 + 12, 1),
            "unknown dtype": lambda b: b.__setitem__(t0 + 64, 6),
            "ndim": lambda b: b.__setitem__(t0 + 65, 5),
            "reserved": lambda b: b.__setitem__(t0 + 66, 1),
            "dimensions": lambda b: b.__setitem__(slice(t0 + 68, t0 + 84), b"\xff\xff\xff\x7f" * 4),
            "data offset": lambda b: b.__setitem__(t0 + 88, b[t0 + 88] + 16),
            "invalid name": lambda b: b.__setitem__(t0, 0x20),
            "duplicate tensor": lambda b: b.__setitem__(slice(t0 + 96, t0 + 160), b[t0:t0 + 64]),
        }
        for msg, patch in cases.items():
            with self.assertRaisesRegex(nvm.NvmError, msg.split()[-1], msg=msg):
                nvm.decode_nvm(rehashed(patch))
        with self.assertRaisesRegex(nvm.NvmError, "exceeds the limit"):
            nvm.decode_nvm(good, max_payload=len(good) - 113)
        with open(self.path, "wb") as f:
            f.write(good)
        self.assertEqual(nvm.read_nvm(self.path).params, {"a": 1})
        with self.assertRaisesRegex(nvm.NvmError, "limit"):
            nvm.read_nvm(self.path, max_payload=len(good) - 113)


class CrossCheck(unittest.TestCase):
    """Python-written files through the C reader and writer."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "py.nvm")
        self.content = sample_content()
        nvm.write_nvm(self.path, *self.content)
        with open(self.path, "rb") as f:
            self.data = f.read()

    def tearDown(self):
        self.tmp.cleanup()

    def test_c_reads_python_file(self):
        r = run_c_tool("--nvm-dump", self.path)
        self.assertEqual(r.returncode, 0, r.stderr)
        want = expected_dump(*self.content, hashlib.sha256(self.data[112:]).digest())
        self.assertEqual(r.stdout, want)

    def test_c_writer_gives_same_bytes(self):
        out = os.path.join(self.tmp.name, "c.nvm")
        r = run_c_tool("--nvm-rewrite", self.path, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            c_bytes = f.read()
        self.assertEqual(c_bytes, self.data)
        m = nvm.read_nvm(out)
        self.assertEqual(m.graphs, self.content[3])

    def test_c_refuses_corrupt_python_file(self):
        bad = bytearray(self.data)
        bad[len(bad) // 2] ^= 0x01
        path = os.path.join(self.tmp.name, "bad.nvm")
        with open(path, "wb") as f:
            f.write(bad)
        r = run_c_tool("--nvm-dump", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("SHA-256", r.stderr)

    def test_c_refuses_invalid_graph(self):
        model_id, params, tensors, graphs = self.content
        g = dict(graphs[0])
        g["ops"] = [dict(op) for op in g["ops"]]
        g["ops"][1]["cin"] = 11  # the s2d output has 12 channels
        path = os.path.join(self.tmp.name, "cin.nvm")
        nvm.write_nvm(path, model_id, params, tensors, [g])
        nvm.read_nvm(path)  # structurally valid: Python reads it
        r = run_c_tool("--nvm-dump", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cin 11, but the source has 12 channels", r.stderr)


if __name__ == "__main__":
    unittest.main()
