"""Integer simulator of the netlib runtime (numpy only).

Reproduces netlib/ref bit for bit: HWC int tensors, zero padding, the one
rounding rule requant(x, m, s) = (x*m + 2^(s-1)) >> s in int64 (s = 0:
x*m), clamps, PyTorch channel order for s2d/d2s.  tests/test_intsim.py
checks it against the C code on real inputs.

Motion compensation of docs/motion.md (mc_obmc_plane_int,
mc_obmc_picture_int) is here too, exactly as common/mc.c computes it
(tests/test_mc_py.py checks it), so that P frames can be simulated: the
prediction p6 of docs/codec.md "Inter frame" is the x6 packing of
mc_obmc_picture_int of the previous frame's padded reconstruction.

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


# ------------------------------------------------- motion compensation

MV_MIN, MV_MAX = -512, 511          # a vector component, quarter luma samples
MC_TAPS = np.array([
    [0, 64, 0, 0],
    [-2, 58, 10, -2],
    [-4, 54, 16, -2],
    [-6, 46, 28, -4],
    [-4, 36, 36, -4],
    [-4, 28, 46, -6],
    [-2, 16, 54, -4],
    [-2, 10, 58, -2],
], dtype=np.int64)


def mc_pred_samples_int(ref, vx, vy, xs, ys, chroma):
    """Block prediction of docs/motion.md at sample positions (xs, ys)
    with per-sample vectors (vx, vy) (quarter luma / eighth chroma
    samples); all arrays of one shape.  Returns int64 values in 0..255."""
    h, w = ref.shape
    q = 8 if chroma else 4
    ix = xs + np.floor_divide(vx, q)
    iy = ys + np.floor_divide(vy, q)
    px = np.mod(vx, q) * (8 // q)
    py = np.mod(vy, q) * (8 // q)
    r = ref.astype(np.int64)
    acc = np.zeros(np.shape(xs), dtype=np.int64)
    for j in range(4):
        yy = np.clip(iy - 1 + j, 0, h - 1)
        hsum = np.zeros_like(acc)
        for t in range(4):
            hsum += MC_TAPS[px, t] * r[yy, np.clip(ix - 1 + t, 0, w - 1)]
        acc += MC_TAPS[py, j] * hsum
    return np.clip(np.floor_divide(acc + 2048, 4096), 0, 255)


def _obmc_window(n):
    """w(t) for t = 0 .. 2n-1."""
    t = np.arange(2 * n)
    return np.where(t < n, 2 * t + 1, 4 * n - 1 - 2 * t)


def mc_obmc_plane_int(ref, mvs, n, chroma):
    """OBMC prediction of one plane, exactly as common/mc.c computes it.

    ref: (H, W) uint8, H and W multiples of n; mvs: (H/n, W/n, 2) integer
    (x, y) vectors in quarter luma samples (chroma reads them as eighth
    chroma samples); n: block size in this plane (16 luma, 8 chroma);
    chroma: bool.  Returns (H, W) uint8."""
    h, w = ref.shape
    hb, wb = h // n, w // n
    ys, xs = np.mgrid[0:h, 0:w]
    win = _obmc_window(n)
    own_x, own_y = xs // n, ys // n
    # the other covering window: the block before or after, by half
    oth_x = np.where(xs % n < n // 2, own_x - 1, own_x + 1)
    oth_y = np.where(ys % n < n // 2, own_y - 1, own_y + 1)
    total = np.zeros((h, w), dtype=np.int64)
    for by in (own_y, oth_y):
        wy = win[ys - (by * n - n // 2)]
        for bx in (own_x, oth_x):
            wx = win[xs - (bx * n - n // 2)]
            # the field extended beyond its edges by repetition
            v = mvs[np.clip(by, 0, hb - 1), np.clip(bx, 0, wb - 1)].astype(np.int64)
            total += wx * wy * mc_pred_samples_int(ref, v[..., 0], v[..., 1], xs, ys, chroma)
    return np.floor_divide(total + 2 * n * n, 4 * n * n).astype(np.uint8)


def mc_obmc_picture_int(ref, mvs):
    """OBMC prediction of a padded picture, as nv_mc_obmc_picture.

    ref: (Y, U, V) uint8 planes, Y of H x W (multiples of 16), U and V
    of H/2 x W/2; mvs: (H/16, W/16, 2) integer vectors in quarter luma
    samples, each component in [MV_MIN, MV_MAX].  Returns (Y, U, V)."""
    y, u, v = ref
    return (mc_obmc_plane_int(y, mvs, 16, False), mc_obmc_plane_int(u, mvs, 8, True),
            mc_obmc_plane_int(v, mvs, 8, True))
