"""Integer simulator of the netlib runtime (numpy only).

Reproduces netlib/ref bit for bit: HWC int tensors, zero padding, the one
rounding rule requant(x, m, s) = (x*m + 2^(s-1)) >> s in int64 (s = 0:
x*m), clamps, PyTorch channel order for s2d/d2s.  tests/test_intsim.py
checks it against the C code on real inputs.

Graph format (the same dicts training/export.py writes into .nvm files):
  {"name": str, "inputs": [slot names], "outputs": [slot names],
   "ops": [{"op": "conv"|"requant"|"add"|"clamp"|"s2d"|"d2s"|"concat",
            "src": name | [a, b], "dst": name, attributes..., tensor names}]}
"""
import numpy as np

TYPE_RANGE = {"u8": (0, 255), "s8": (-128, 127), "s16": (-4096, 4096),
              "s32": (-(1 << 31), (1 << 31) - 1)}
NP_TYPE = {"u8": np.uint8, "s8": np.int8, "s16": np.int16, "s32": np.int32}


def requant(x, mult, shift):
    """x: int64 array (..., C); mult, shift: per channel (C,)."""
    x = x.astype(np.int64) * mult.astype(np.int64)
    sh = shift.astype(np.int64)
    rnd = np.where(sh > 0, np.left_shift(np.int64(1), np.maximum(sh - 1, 0)), 0)
    return np.right_shift(x + rnd, sh)


def conv(x, w, bias, mult, shift, stride, lo, hi):
    """x: (H, W, Cin) ints; w: (Cout, k, k, Cin) int8."""
    cout, k, _, cin = w.shape
    h, wd, c = x.shape
    assert c == cin, (c, cin)
    p = k // 2
    xp = np.zeros((h + 2 * p, wd + 2 * p, cin), np.int64)
    xp[p:p + h, p:p + wd] = x
    ho = h if stride == 1 else (h + 1) // 2
    wo = wd if stride == 1 else (wd + 1) // 2
    acc = np.zeros((ho, wo, cout), np.int64)
    w64 = w.astype(np.int64)
    for dy in range(k):
        for dx in range(k):
            patch = xp[dy:dy + stride * (ho - 1) + 1:stride, dx:dx + stride * (wo - 1) + 1:stride]
            acc += patch @ w64[:, dy, dx, :].T
    if bias is not None:
        acc += bias.astype(np.int64)
    return np.clip(requant(acc, mult, shift), lo, hi)


def add(a, b, ma, mb, shift, lo, hi):
    s = a.astype(np.int64) * ma.astype(np.int64) + b.astype(np.int64) * mb.astype(np.int64)
    sh = shift.astype(np.int64)
    rnd = np.where(sh > 0, np.left_shift(np.int64(1), np.maximum(sh - 1, 0)), 0)
    return np.clip(np.right_shift(s + rnd, sh), lo, hi)


def requant_op(x, bias, mult, shift, lo, hi):
    x = x.astype(np.int64)
    if bias is not None:
        x = x + bias.astype(np.int64)
    return np.clip(requant(x, mult, shift), lo, hi)


def s2d(x, r):
    h, w, c = x.shape
    return x.reshape(h // r, r, w // r, r, c).transpose(0, 2, 4, 1, 3).reshape(h // r, w // r, c * r * r)


def d2s(x, r):
    h, w, c = x.shape
    co = c // (r * r)
    return x.reshape(h, w, co, r, r).transpose(0, 3, 1, 4, 2).reshape(h * r, w * r, co)


def run_graph(g, tensors, inputs):
    """inputs: dict slot -> int array (H, W, C).  Returns dict of outputs."""
    v = dict(inputs)
    T = tensors
    for op in g["ops"]:
        kind = op["op"]
        if kind == "conv":
            lo, hi = op["lo"], op["hi"]
            out = conv(v[op["src"]], T[op["weight"]], T.get(op.get("bias")), T[op["mult"]],
                       T[op["shift"]], op["stride"], lo, hi)
        elif kind == "requant":
            out = requant_op(v[op["src"]], T.get(op.get("bias")), T[op["mult"]], T[op["shift"]],
                             op["lo"], op["hi"])
        elif kind == "add":
            a, b = op["src"]
            out = add(v[a], v[b], T[op["ma"]], T[op["mb"]], T[op["shift"]], op["lo"], op["hi"])
        elif kind == "clamp":
            out = np.clip(v[op["src"]], op["lo"], op["hi"])
        elif kind == "s2d":
            out = s2d(v[op["src"]], op["r"])
        elif kind == "d2s":
            out = d2s(v[op["src"]], op["r"])
        elif kind == "concat":
            a, b = op["src"]
            out = np.concatenate([v[a], v[b]], axis=2)
        else:
            raise ValueError(kind)
        v[op["dst"]] = out.astype(np.int64)
    return {k: v[k] for k in g["outputs"]}


def graphs_for_intsim(model):
    """The graphs of a read_nvm() model (training/nvm.py: slot numbers) in
    the name-slot form run_graph() takes, as {graph name: graph}.  Slot k
    is named "s<k>"; every op keeps its other fields (tensor names, lo,
    hi, ...).  "types" gives the element type of every slot, so
    nvm.named_graph() converts a result back to the stored graph."""
    out = {}
    for g in model.graphs:
        def name(slot):
            return f"s{slot}"
        types = {name(i["slot"]): i["type"] for i in g["inputs"]}
        ops = []
        for op in g["ops"]:
            new = {k: v for k, v in op.items() if k not in ("src", "dst")}
            src = [name(s) for s in op["src"]]
            new["src"] = src[0] if len(src) == 1 else src
            new["dst"] = name(op["dst"])
            if op["op"] in ("conv", "requant", "add"):
                types[new["dst"]] = op["out_type"]
            else:
                types[new["dst"]] = types[src[0]]
            ops.append(new)
        out[g["name"]] = {"name": g["name"], "inputs": [name(i["slot"]) for i in g["inputs"]],
                          "outputs": [name(s) for s in g["outputs"]], "ops": ops,
                          "types": types}
    return out
