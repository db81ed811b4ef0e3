"""Reader and writer of neuvc .nvm model files (numpy only).

The format is specified in docs/model-format.md; common/nvm.c (reader) and
common/nvm_write.c (writer) implement the same bytes in C.  For the same
content, write_nvm() produces exactly the bytes of the C writer: sections
in a fixed order, params and tensors in dict order, graphs and ops in list
order, tensor data 16-byte aligned with zero padding.

Content:

    model_id  str, 1..63 characters 0x21..0x7e (no spaces)
    params    {name: int}, values in [-2**63, 2**63 - 1]
    tensors   {name: np.ndarray}, dtype int8 uint8 int16 uint16 int32 uint32
              (no implicit casts: convert first), ndim 1..4, every dim >= 1
    graphs    [graph, ...], each a dict:

        {"name": "intra.synthesis",
         "n_slots": 9,                # optional on write: inputs + ops
         "inputs": [{"slot": 0, "type": "u8", "c": 3}, ...],
         "outputs": [8, ...],
         "ops": [op, ...]}            # in execution order

    and each op a dict with "op", "dst", "src" (list of 1 or 2 slots) and
    the fields of OP_SCHEMA for its kind, e.g.

        {"op": "conv", "src": [2], "dst": 3, "k": 3, "stride": 2,
         "cin": 12, "cout": 8, "in_type": "u8", "out_type": "s8",
         "lo": -128, "hi": 127, "weight": "enc.0.w", "bias": "enc.0.b",
         "mult": "enc.0.m", "shift": "enc.0.s"}

    Tensor fields name tensors of the same model; "bias" may be None.
    Types are "u8", "s8", "s16", "s32".  The weight of a conv is s8
    [cout][k][k][cin] (OHWI), bias and mult s32 [cout], shift u8 [cout];
    requant: bias (or None), mult s32 [c], shift u8 [c]; add: ma, mb s32
    [c], shift u8 [c].

Names (params, tensors, graphs): like model_id, unique within their kind.
named_graph() converts the name-slot graphs of export.py / intsim.py.

read_nvm() checks every rule of the container (sizes, SHA-256, counts,
names, canonical offsets and padding, op fields and tensor references) and
raises NvmError otherwise.  Graph semantics (slot order, shapes, channel
counts, value ranges) are checked by the C loader, not here.
"""
import hashlib
import os
import struct
from collections import namedtuple

import numpy as np

MAGIC = b"NVM1"
VERSION = 1
HEADER_SIZE = 112
NAME_FIELD = 64
NAME_MAX = 63
ALIGN = 16
MAX_ITEMS = 65536
MAX_IO = 16
MAX_OPS = 65536
NONE = 0xFFFFFFFF
DEFAULT_MAX_PAYLOAD = 256 << 20

# Tensor dtype codes and their numpy types (stored little-endian).
DTYPES = {
    "u8": (0, np.dtype("<u1")),
    "s8": (1, np.dtype("<i1")),
    "u16": (2, np.dtype("<u2")),
    "s16": (3, np.dtype("<i2")),
    "u32": (4, np.dtype("<u4")),
    "s32": (5, np.dtype("<i4")),
}
_DTYPE_BY_CODE = {code: (name, dt) for name, (code, dt) in DTYPES.items()}

# Slot element types (netlib nl_type codes).
SLOT_TYPES = {"u8": 0, "s8": 1, "s16": 2, "s32": 3}
_SLOT_TYPE_BY_CODE = {v: k for k, v in SLOT_TYPES.items()}

# opcode: (code, number of sources, attribute names, tensor names).
# Attributes and tensors are stored in this order; "in_type" and
# "out_type" are slot type names; tensors in OPTIONAL_TENSORS may be None.
OP_SCHEMA = {
    "conv": (1, 1, ("k", "stride", "cin", "cout", "in_type", "out_type", "lo", "hi"),
             ("weight", "bias", "mult", "shift")),
    "requant": (2, 1, ("out_type", "lo", "hi"), ("bias", "mult", "shift")),
    "add": (3, 2, ("out_type", "lo", "hi"), ("ma", "mb", "shift")),
    "clamp": (4, 1, ("lo", "hi"), ()),
    "s2d": (5, 1, ("r",), ()),
    "d2s": (6, 1, ("r",), ()),
    "concat": (7, 2, (), ()),
}
_OP_BY_CODE = {v[0]: k for k, v in OP_SCHEMA.items()}
OPTIONAL_TENSORS = ("bias",)
_TYPE_ATTRS = ("in_type", "out_type")

NvmModel = namedtuple("NvmModel", "model_id params tensors graphs")


class NvmError(ValueError):
    """The data is not a valid .nvm file (or content cannot be encoded)."""


# ------------------------------------------------------------------ helpers

def _align(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _check_name(name, what):
    if not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX or \
            any(not 0x21 <= ord(ch) <= 0x7E for ch in name):
        raise NvmError(f"invalid {what} {name!r}: 1..{NAME_MAX} characters 0x21..0x7e")
    return name.encode("ascii")


def _name_field(name, what):
    raw = _check_name(name, what)
    return raw + b"\0" * (NAME_FIELD - len(raw))


def _read_name(field):
    n = field.find(b"\0")
    if n <= 0 or any(field[n:]):
        return None
    if any(not 0x21 <= b <= 0x7E for b in field[:n]):
        return None
    return field[:n].decode("ascii")


def _int(value, lo, hi, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise NvmError(f"{what}: {value!r} is not an integer")
    value = int(value)
    if not lo <= value <= hi:
        raise NvmError(f"{what}: {value} outside [{lo}, {hi}]")
    return value


def _tensor_dtype(arr, name):
    for dname, (code, dt) in DTYPES.items():
        if arr.dtype.kind == dt.kind and arr.dtype.itemsize == dt.itemsize:
            return code, dt
    raise NvmError(f"tensor {name!r}: dtype {arr.dtype} not one of {', '.join(DTYPES)}")


# ------------------------------------------------------------------ writer

def _graph_bytes(g, tensor_index):
    name = g.get("name")
    gname = name if isinstance(name, str) else "?"
    inputs, outputs, ops = g["inputs"], g["outputs"], g["ops"]
    if not 1 <= len(inputs) <= MAX_IO or not 1 <= len(outputs) <= MAX_IO or \
            not 1 <= len(ops) <= MAX_OPS:
        raise NvmError(f"graph {gname!r}: {len(inputs)} inputs, {len(outputs)} outputs, "
                       f"{len(ops)} ops (1..{MAX_IO}, 1..{MAX_IO}, 1..{MAX_OPS})")
    n_slots = g.get("n_slots", len(inputs) + len(ops))
    out = [_name_field(name, "graph name"),
           struct.pack("<IIII", _int(n_slots, 0, NONE, "n_slots"), len(inputs),
                       len(outputs), len(ops))]
    for i in inputs:
        if i["type"] not in SLOT_TYPES:
            raise NvmError(f"graph {gname!r}: input type {i['type']!r}")
        out.append(struct.pack("<III", _int(i["slot"], 0, NONE, "slot"),
                               SLOT_TYPES[i["type"]], _int(i["c"], 0, NONE, "c")))
    for s in outputs:
        out.append(struct.pack("<I", _int(s, 0, NONE, "output slot")))
    for k, op in enumerate(ops):
        out.append(_op_bytes(op, tensor_index, f"graph {gname!r} op {k}"))
    return b"".join(out)


def _op_bytes(op, tensor_index, where):
    kind = op.get("op")
    if kind not in OP_SCHEMA:
        raise NvmError(f"{where}: unknown op {kind!r}")
    code, nsrc, attr_names, tensor_names = OP_SCHEMA[kind]
    src = list(op["src"])
    if len(src) != nsrc:
        raise NvmError(f"{where} ({kind}): {len(src)} sources, expected {nsrc}")
    src += [NONE] * (2 - nsrc)
    attrs = []
    for a in attr_names:
        v = op[a]
        if a in _TYPE_ATTRS:
            if v not in SLOT_TYPES:
                raise NvmError(f"{where} ({kind}): {a} {v!r}")
            v = SLOT_TYPES[v]
        attrs.append(_int(v, -2**31, 2**31 - 1, f"{where} ({kind}) {a}"))
    attrs += [0] * (8 - len(attrs))
    refs = []
    for t in tensor_names:
        ref = op.get(t)
        if ref is None and t in OPTIONAL_TENSORS:
            refs.append(NONE)
        elif ref in tensor_index:
            refs.append(tensor_index[ref])
        else:
            raise NvmError(f"{where} ({kind}): {t} tensor {ref!r} not in the model")
    refs += [NONE] * (4 - len(refs))
    return struct.pack("<IIII8i4I", code, _int(op["dst"], 0, NONE, f"{where} dst"),
                       _int(src[0], 0, NONE, f"{where} src"),
                       _int(src[1], 0, NONE, f"{where} src"), *attrs, *refs)


def encode_nvm(model_id, params, tensors, graphs):
    """The canonical file bytes for this content (see the module docstring)."""
    try:
        return _encode(model_id, params, tensors, graphs)
    except (KeyError, TypeError, AttributeError) as e:
        raise NvmError(f"content does not follow the schema: {e!r}") from e


def _encode(model_id, params, tensors, graphs):
    header_id = _name_field(model_id, "model id")
    if len(params) > MAX_ITEMS or len(tensors) > MAX_ITEMS or len(graphs) > MAX_ITEMS:
        raise NvmError(f"more than {MAX_ITEMS} params, tensors or graphs")
    tables = [struct.pack("<IIII", len(params), len(tensors), len(graphs), 0)]
    for name, value in params.items():
        tables.append(_name_field(name, "param name") +
                      struct.pack("<q", _int(value, -2**63, 2**63 - 1, f"param {name!r}")))
    blobs = []
    for name, arr in tensors.items():
        arr = np.asarray(arr)
        code, dt = _tensor_dtype(arr, name)
        if not 1 <= arr.ndim <= 4 or any(not 1 <= d <= 2**31 - 1 for d in arr.shape):
            raise NvmError(f"tensor {name!r}: shape {arr.shape} (1..4 dims, each >= 1)")
        blobs.append((name, code, arr.shape, np.ascontiguousarray(arr, dtype=dt).tobytes()))
    names = set()
    for g in graphs:
        if g.get("name") in names:
            raise NvmError(f"duplicate graph name {g.get('name')!r}")
        names.add(g.get("name"))
    tensor_index = {name: i for i, name in enumerate(tensors)}
    graph_part = b"".join(_graph_bytes(g, tensor_index) for g in graphs)
    pos = sum(len(t) for t in tables) + len(blobs) * 96 + len(graph_part)
    data = []
    for name, code, shape, raw in blobs:
        start = _align(pos)
        dims = list(shape) + [0] * (4 - len(shape))
        tables.append(_name_field(name, "tensor name") +
                      struct.pack("<BBH4IIQ", code, len(shape), 0, *dims, 0, start))
        data.append(b"\0" * (start - pos) + raw)
        pos = start + len(raw)
    payload = b"".join(tables) + graph_part + b"".join(data)
    header = MAGIC + struct.pack("<I", VERSION) + header_id + \
        struct.pack("<Q", len(payload)) + hashlib.sha256(payload).digest()
    return header + payload


def write_nvm(path, model_id, params, tensors, graphs):
    """Writes encode_nvm(...) to path."""
    data = encode_nvm(model_id, params, tensors, graphs)
    with open(path, "wb") as f:
        f.write(data)


def named_graph(g, channels):
    """Converts a graph whose slots are names (the form training/export.py
    and training/intsim.py use: "inputs" and "outputs" lists of names, op
    "src" a name or a list of names, "dst" a name, "types" {name: type})
    to the schema above.  channels: {input name: channel count}.  Inputs
    get slots 0.. in order, then each op's destination in op order."""
    slot = {}
    inputs = []
    for name in g["inputs"]:
        if name in slot:
            raise NvmError(f"graph {g['name']!r}: input {name!r} listed twice")
        slot[name] = len(slot)
        inputs.append({"slot": slot[name], "type": g["types"][name], "c": channels[name]})
    ops = []
    for k, op in enumerate(g["ops"]):
        srcs = [op["src"]] if isinstance(op["src"], str) else list(op["src"])
        for s in srcs:
            if s not in slot:
                raise NvmError(f"graph {g['name']!r} op {k}: reads {s!r} before it is written")
        if op["dst"] in slot:
            raise NvmError(f"graph {g['name']!r} op {k}: writes {op['dst']!r} a second time")
        slot[op["dst"]] = len(slot)
        new = {key: v for key, v in op.items() if key not in ("src", "dst")}
        new["src"] = [slot[s] for s in srcs]
        new["dst"] = slot[op["dst"]]
        ops.append(new)
    for name in g["outputs"]:
        if name not in slot:
            raise NvmError(f"graph {g['name']!r}: output {name!r} is never written")
    return {"name": g["name"], "n_slots": len(slot), "inputs": inputs,
            "outputs": [slot[name] for name in g["outputs"]], "ops": ops}


# ------------------------------------------------------------------ reader

class _Cursor:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n, what):
        if n > len(self.data) - self.pos:
            raise NvmError(f"{what} beyond the payload")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b


def _decode_op(raw, n_tensors, tensor_names, where):
    f = struct.unpack("<IIII8i4I", raw)
    code, dst, src, attrs, refs = f[0], f[1], f[2:4], f[4:12], f[12:16]
    kind = _OP_BY_CODE.get(code)
    if kind is None:
        raise NvmError(f"{where}: unknown opcode {code}")
    _, nsrc, attr_names, t_names = OP_SCHEMA[kind]
    if any(s != NONE for s in src[nsrc:]) or any(attrs[len(attr_names):]) or \
            any(r != NONE for r in refs[len(t_names):]):
        raise NvmError(f"{where} ({kind}): unused field not 0 / NONE")
    op = {"op": kind, "dst": dst, "src": list(src[:nsrc])}
    for a, v in zip(attr_names, attrs):
        if a in _TYPE_ATTRS:
            if v not in _SLOT_TYPE_BY_CODE:
                raise NvmError(f"{where} ({kind}): {a} {v}")
            v = _SLOT_TYPE_BY_CODE[v]
        op[a] = v
    for t, r in zip(t_names, refs):
        if r == NONE and t in OPTIONAL_TENSORS:
            op[t] = None
        elif r < n_tensors:
            op[t] = tensor_names[r]
        else:
            raise NvmError(f"{where} ({kind}): {t} tensor reference {r} "
                           f"({n_tensors} tensors)")
    return op


def _decode_graph(cur, gi, n_tensors, tensor_names):
    head = cur.take(80, f"graph {gi}")
    name = _read_name(head[:NAME_FIELD])
    if name is None:
        raise NvmError(f"graph {gi}: invalid name")
    n_slots, ni, no, nops = struct.unpack("<IIII", head[NAME_FIELD:])
    if not 1 <= ni <= MAX_IO or not 1 <= no <= MAX_IO or not 1 <= nops <= MAX_OPS:
        raise NvmError(f"graph {name!r}: {ni} inputs, {no} outputs, {nops} ops")
    body = cur.take(12 * ni + 4 * no + 64 * nops, f"graph {name!r}")
    inputs = []
    for k in range(ni):
        slot, t, c = struct.unpack_from("<III", body, 12 * k)
        if t not in _SLOT_TYPE_BY_CODE:
            raise NvmError(f"graph {name!r}: input {k} type {t}")
        inputs.append({"slot": slot, "type": _SLOT_TYPE_BY_CODE[t], "c": c})
    base = 12 * ni
    outputs = list(struct.unpack_from(f"<{no}I", body, base))
    base += 4 * no
    ops = [_decode_op(body[base + 64 * k:base + 64 * (k + 1)], n_tensors, tensor_names,
                      f"graph {name!r} op {k}") for k in range(nops)]
    return {"name": name, "n_slots": n_slots, "inputs": inputs, "outputs": outputs,
            "ops": ops}


def _check_unique(names, kind):
    seen = set()
    for n in names:
        if n in seen:
            raise NvmError(f"duplicate {kind} name {n!r}")
        seen.add(n)


def decode_nvm(data, max_payload=DEFAULT_MAX_PAYLOAD):
    """Parses a whole file image; returns NvmModel or raises NvmError."""
    data = bytes(data)
    if len(data) < HEADER_SIZE:
        raise NvmError(f"truncated header ({len(data)} of {HEADER_SIZE} bytes)")
    if data[:4] != MAGIC:
        raise NvmError("not an .nvm file (bad magic)")
    (version,) = struct.unpack_from("<I", data, 4)
    if version != VERSION:
        raise NvmError(f"unsupported .nvm version {version} (this reader knows {VERSION})")
    model_id = _read_name(data[8:8 + NAME_FIELD])
    if model_id is None:
        raise NvmError("invalid model id field")
    (size,) = struct.unpack_from("<Q", data, 72)
    if size > max_payload:
        raise NvmError(f"payload of {size} bytes exceeds the limit of {max_payload}")
    if size < 16:
        raise NvmError(f"payload of {size} bytes is too small")
    if len(data) != HEADER_SIZE + size:
        raise NvmError(f"file has {len(data)} bytes, header declares {HEADER_SIZE + size}")
    payload = data[HEADER_SIZE:]
    if hashlib.sha256(payload).digest() != data[80:112]:
        raise NvmError("payload SHA-256 mismatch (corrupt file)")
    cur = _Cursor(payload)
    np_, nt, ng, reserved = struct.unpack("<IIII", cur.take(16, "counts"))
    if max(np_, nt, ng) > MAX_ITEMS or reserved:
        raise NvmError(f"bad counts: {np_} params, {nt} tensors, {ng} graphs")
    params = {}
    raw = cur.take(72 * np_, "param table")
    pnames = []
    for i in range(np_):
        rec = raw[72 * i:72 * (i + 1)]
        name = _read_name(rec[:NAME_FIELD])
        if name is None:
            raise NvmError(f"param {i}: invalid name")
        pnames.append(name)
        params[name] = struct.unpack("<q", rec[NAME_FIELD:])[0]
    raw = cur.take(96 * nt, "tensor table")
    trecs = []
    for i in range(nt):
        rec = raw[96 * i:96 * (i + 1)]
        name = _read_name(rec[:NAME_FIELD])
        if name is None:
            raise NvmError(f"tensor {i}: invalid name")
        code, ndim, res16, d0, d1, d2, d3, res32, offset = \
            struct.unpack("<BBH4IIQ", rec[NAME_FIELD:])
        dims = (d0, d1, d2, d3)
        if code not in _DTYPE_BY_CODE:
            raise NvmError(f"tensor {name!r}: unknown dtype {code}")
        if not 1 <= ndim <= 4:
            raise NvmError(f"tensor {name!r}: ndim {ndim} (1..4)")
        if res16 or res32:
            raise NvmError(f"tensor {name!r}: reserved field not 0")
        if any(not 1 <= d <= 2**31 - 1 for d in dims[:ndim]) or any(dims[ndim:]):
            raise NvmError(f"tensor {name!r}: dimensions {dims[:ndim]}")
        trecs.append((name, code, dims[:ndim], offset))
    tnames = [t[0] for t in trecs]
    if ng * 80 > len(payload) - cur.pos:
        raise NvmError("graph table beyond the payload")
    graphs = [_decode_graph(cur, gi, nt, tnames) for gi in range(ng)]
    tensors = {}
    pos = cur.pos
    for name, code, dims, offset in trecs:
        start = _align(pos)
        if offset != start:
            raise NvmError(f"tensor {name!r}: data offset {offset}, expected {start}")
        if start > len(payload) or any(payload[pos:start]):
            raise NvmError(f"tensor {name!r}: padding beyond the payload or not 0")
        dt = _DTYPE_BY_CODE[code][1]
        nbytes = int(np.prod(dims, dtype=object)) * dt.itemsize
        if nbytes > len(payload) - start:
            raise NvmError(f"tensor {name!r}: data beyond the payload")
        tensors[name] = np.frombuffer(payload, dtype=dt, count=nbytes // dt.itemsize,
                                      offset=start).reshape(dims).astype(dt.newbyteorder("="))
        pos = start + nbytes
    if pos != len(payload):
        raise NvmError(f"{len(payload) - pos} unused bytes at the payload end")
    _check_unique(pnames, "param")
    _check_unique(tnames, "tensor")
    _check_unique([g["name"] for g in graphs], "graph")
    return NvmModel(model_id, params, tensors, graphs)


def read_nvm(path, max_payload=DEFAULT_MAX_PAYLOAD):
    """Reads and checks a file; returns NvmModel(model_id, params, tensors,
    graphs) with the structures write_nvm takes (graphs complete: n_slots
    and every op field, bias None when absent)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > HEADER_SIZE + max_payload:
            raise NvmError(f"{path}: {size} bytes exceed the limit of {max_payload} + header")
        data = f.read(HEADER_SIZE + max_payload + 1)
    return decode_nvm(data, max_payload)


def payload_sha256(data):
    """SHA-256 of the payload of a file image (as stored in its header);
    the model fingerprint is its first 8 bytes."""
    decode_nvm(data)
    return bytes(data[80:112])
