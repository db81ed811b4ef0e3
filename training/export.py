#!/usr/bin/env python3
"""Export a trained float model to the integer contract (.nvm).

Steps: describe every network as an op graph over float tensors (the same
ops netlib executes), calibrate per-channel activation ranges on training
pictures, quantize (int8 weights per output channel with the input
channel scales folded in, int32 biases, per-channel fixed-point
multipliers), build the qp -> gain tables and the entropy-model CDF
tables, check the integer graphs with the simulator against the float
model, and write the .nvm file.

    python3 training/export.py --ckpt models/checkpoints/intra_latest.pt -o models/neuvc-rt.nvm
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M    # noqa: E402
import intsim        # noqa: E402
import cdf as C      # noqa: E402

QMAX = {"u8": 255, "s8": 127, "s16": 4096, "s32": 1 << 24}
MAIN = "s16"          # type of the linear (non-ReLU) main-path tensors


# ------------------------------------------------------------ graph specs
def conv_op(src, dst, mod, typ, relu=False, stride=None, fixed=None, bias_off=None, rows=None):
    """A float conv op; a patchify conv (k == stride > 1) must be preceded
    by an s2d op and is stored as the equivalent 1x1 conv."""
    w = mod.weight.detach().double()
    b = mod.bias.detach().double()
    if rows is not None:
        w, b = w[rows], b[rows]
    k = w.shape[2]
    if mod.stride[0] == k and k > 1:
        w = w.reshape(w.shape[0], -1, 1, 1)
        k, st = 1, 1
    else:
        st = mod.stride[0]
    return {"op": "conv", "src": src, "dst": dst, "W": w, "b": b, "k": k,
            "stride": stride or st, "type": typ, "relu": relu, "fixed": fixed,
            "bias_off": bias_off}


def intra_graphs(net):
    cy = M.CY
    ana = {"name": "intra.analysis", "inputs": ["x6"], "outputs": ["y"], "in_scale": {"x6": ("u8", 1 / 255.0)}, "ops": [
        {"op": "s2d", "src": "x6", "dst": "p8", "r": 4},
        conv_op("p8", "a8", net.a_patch8, MAIN),
        conv_op("a8", "a8h", net.a_rb8.c1, "u8", relu=True),
        conv_op("a8h", "a8c", net.a_rb8.c2, MAIN),
        {"op": "add", "src": ["a8", "a8c"], "dst": "r8", "type": MAIN},
        {"op": "s2d", "src": "r8", "dst": "p16", "r": 2},
        conv_op("p16", "a16", net.a_patch16, MAIN),
        conv_op("a16", "a16h", net.a_rb16.c1, "u8", relu=True),
        conv_op("a16h", "a16c", net.a_rb16.c2, MAIN),
        {"op": "add", "src": ["a16", "a16c"], "dst": "y", "type": "s32"},
    ]}
    ha = {"name": "intra.hyper_analysis", "inputs": ["yq"], "outputs": ["z"], "in_scale": {"yq": ("s16", 1.0)}, "ops": [
        conv_op("yq", "h1", net.ha1, "u8", relu=True),
        {"op": "s2d", "src": "h1", "dst": "p", "r": 4},
        conv_op("p", "z", net.ha2, "s16", fixed=1.0),
    ]}
    off = -math.log(M.SCALE_MIN)
    rows_mu, rows_s = list(range(cy)), list(range(cy, 2 * cy))
    hs = {"name": "intra.hyper_synthesis", "inputs": ["zq"], "outputs": ["mu", "sidx"], "in_scale": {"zq": ("s16", 1.0)}, "ops": [
        conv_op("zq", "h1", net.hs1, "u8", relu=True),
        conv_op("h1", "h2", net.hs2.conv, "u8", relu=True),
        {"op": "d2s", "src": "h2", "dst": "h3", "r": 4},
        conv_op("h3", "h4", net.hs3, "u8", relu=True),
        conv_op("h4", "mu", net.hs4, "s16", fixed=1.0, rows=rows_mu),
        conv_op("h4", "sidx", net.hs4, "sidx", fixed=M.LOG_SCALE_STEP, bias_off=off, rows=rows_s),
    ]}
    syn = {"name": "intra.synthesis", "inputs": ["yd"], "outputs": ["x6"], "in_scale": {"yd": ("s16", None)}, "ops": [
        conv_op("yd", "s16h", net.s_rb16.c1, "u8", relu=True),
        conv_op("s16h", "s16c", net.s_rb16.c2, MAIN),
        {"op": "add", "src": ["yd", "s16c"], "dst": "r16", "type": MAIN},
        conv_op("r16", "u16", net.s_unpatch16.conv, MAIN),
        {"op": "d2s", "src": "u16", "dst": "a8", "r": 2},
        conv_op("a8", "s8h", net.s_rb8.c1, "u8", relu=True),
        conv_op("s8h", "s8c", net.s_rb8.c2, MAIN),
        {"op": "add", "src": ["a8", "s8c"], "dst": "r8", "type": MAIN},
        conv_op("r8", "u8x", net.s_unpatch8.conv, "s16"),
        {"op": "d2s", "src": "u8x", "dst": "x6m", "r": 4},
        conv_op("x6m", "s2h", net.s_rb2.c1, "u8", relu=True),
        conv_op("s2h", "s2c", net.s_rb2.c2, "s16"),
        {"op": "add", "src": ["x6m", "s2c"], "dst": "x6", "type": "pix"},
    ]}
    return [ana, ha, hs, syn]


def inter_graphs(net):
    cy = M.CY
    pred = {"name": "inter.pred", "inputs": ["p6"], "outputs": ["pt", "pf"], "in_scale": {"p6": ("u8", 1 / 255.0)}, "ops": [
        {"op": "s2d", "src": "p6", "dst": "pp", "r": 4},
        conv_op("pp", "pt", net.p_patch8, MAIN),
        {"op": "s2d", "src": "pt", "dst": "pt2", "r": 2},
        conv_op("pt2", "pf", net.p_feat16, "u8", relu=True),
    ]}
    ana = {"name": "inter.analysis", "inputs": ["x6", "p6", "pt"], "outputs": ["y"],
           "in_scale": {"x6": ("u8", 1 / 255.0), "p6": ("u8", 1 / 255.0), "pt": (MAIN, ("from", "inter.pred", "pt"))}, "ops": [
        {"op": "concat", "src": ["x6", "p6"], "dst": "xp"},
        {"op": "s2d", "src": "xp", "dst": "p8", "r": 4},
        conv_op("p8", "a8", net.a_patch8, MAIN),
        {"op": "concat", "src": ["a8", "pt"], "dst": "a8c"},
        conv_op("a8c", "a8h", net.a_rb8.c1, "u8", relu=True),
        conv_op("a8h", "a8r", net.a_rb8.c2, MAIN),
        {"op": "add", "src": ["a8", "a8r"], "dst": "r8", "type": MAIN},
        {"op": "s2d", "src": "r8", "dst": "p16", "r": 2},
        conv_op("p16", "a16", net.a_patch16, MAIN),
        conv_op("a16", "a16h", net.a_rb16.c1, "u8", relu=True),
        conv_op("a16h", "a16c", net.a_rb16.c2, MAIN),
        {"op": "add", "src": ["a16", "a16c"], "dst": "y", "type": "s32"},
    ]}
    ha = {"name": "inter.hyper_analysis", "inputs": ["yq"], "outputs": ["z"], "in_scale": {"yq": ("s16", 1.0)}, "ops": [
        conv_op("yq", "h1", net.ha1, "u8", relu=True),
        {"op": "s2d", "src": "h1", "dst": "p", "r": 4},
        conv_op("p", "z", net.ha2, "s16", fixed=1.0),
    ]}
    off = -math.log(M.SCALE_MIN)
    hs = {"name": "inter.hyper_synthesis", "inputs": ["zq", "pf"], "outputs": ["mu", "sidx"],
          "in_scale": {"zq": ("s16", 1.0), "pf": ("u8", ("from", "inter.pred", "pf"))}, "ops": [
        conv_op("zq", "h1", net.hs1, "u8", relu=True),
        conv_op("h1", "h2", net.hs2.conv, "u8", relu=True),
        {"op": "d2s", "src": "h2", "dst": "h3", "r": 4},
        {"op": "concat", "src": ["h3", "pf"], "dst": "h3c"},
        conv_op("h3c", "h4", net.hs3, "u8", relu=True),
        conv_op("h4", "mu", net.hs4, "s16", fixed=1.0, rows=list(range(cy))),
        conv_op("h4", "sidx", net.hs4, "sidx", fixed=M.LOG_SCALE_STEP, bias_off=off, rows=list(range(cy, 2 * cy))),
    ]}
    syn = {"name": "inter.synthesis", "inputs": ["yd", "pt", "p6"], "outputs": ["x6"],
           "in_scale": {"yd": ("s16", None), "pt": (MAIN, ("from", "inter.pred", "pt")), "p6": ("u8", 1 / 255.0)}, "ops": [
        conv_op("yd", "s16h", net.s_rb16.c1, "u8", relu=True),
        conv_op("s16h", "s16c", net.s_rb16.c2, MAIN),
        {"op": "add", "src": ["yd", "s16c"], "dst": "r16", "type": MAIN},
        conv_op("r16", "u16", net.s_unpatch16.conv, MAIN),
        {"op": "d2s", "src": "u16", "dst": "res8", "r": 2},
        {"op": "add", "src": ["res8", "pt"], "dst": "a8", "type": MAIN},
        {"op": "concat", "src": ["a8", "pt"], "dst": "a8c"},
        conv_op("a8c", "s8h", net.s_rb8.c1, "u8", relu=True),
        conv_op("s8h", "s8c", net.s_rb8.c2, MAIN),
        {"op": "add", "src": ["a8", "s8c"], "dst": "r8", "type": MAIN},
        conv_op("r8", "u8x", net.s_unpatch8.conv, "s16"),
        {"op": "d2s", "src": "u8x", "dst": "x6m", "r": 4},
        {"op": "convert", "src": "p6", "dst": "p6s", "type": "s16"},
        {"op": "concat", "src": ["x6m", "p6s"], "dst": "x6c"},
        conv_op("x6c", "s2h", net.s_rb2.c1, "u8", relu=True),
        conv_op("s2h", "s2c", net.s_rb2.c2, "s16"),
        {"op": "add", "src": ["x6m", "s2c"], "dst": "x6", "type": "pix"},
    ]}
    return [pred, ana, ha, hs, syn]


# ------------------------------------------------------- float execution
def float_run(g, inputs):
    """Runs a float graph in torch (NCHW); returns all slots."""
    v = dict(inputs)
    for op in g["ops"]:
        k = op["op"]
        if k == "conv":
            x = v[op["src"]]
            out = F.conv2d(x, op["W"], op["b"], stride=op["stride"], padding=op["k"] // 2)
            if op["relu"]:
                out = F.relu(out)
        elif k == "add":
            a, b = op["src"]
            out = v[a] + v[b]
            if op["type"] == "pix":
                out = out.clamp(0, 1)
        elif k == "s2d":
            out = F.pixel_unshuffle(v[op["src"]], op["r"])
        elif k == "d2s":
            out = F.pixel_shuffle(v[op["src"]], op["r"])
        elif k == "concat":
            a, b = op["src"]
            out = torch.cat([v[a], v[b]], 1)
        elif k == "convert":
            out = v[op["src"]]
        else:
            raise ValueError(k)
        v[op["dst"]] = out
    return v


# ------------------------------------------------------------ quantization
def mult_shift(r):
    """Per-channel fixed-point m / 2^s ~= r (r > 0), 2^30 <= m < 2^31 where
    the shift range allows."""
    r = np.asarray(r, np.float64)
    e = np.floor(np.log2(np.maximum(r, 1e-30)))
    s = np.clip(30 - e, 0, 62).astype(np.int64)
    m = np.round(r * np.power(2.0, s)).astype(np.int64)
    over = m >= (1 << 31)
    m[over] >>= 1
    s[over] -= 1
    if (m >= (1 << 31)).any() or (s < 0).any():
        raise ValueError("multiplier out of range")
    return m.astype(np.int32), s.astype(np.uint8)


def add_mult_shift(ra, rb):
    e = np.floor(np.log2(np.maximum(np.maximum(ra, rb), 1e-30)))
    s = np.clip(30 - e, 0, 62)
    ma = np.round(ra * np.power(2.0, s)).astype(np.int64)
    mb = np.round(rb * np.power(2.0, s)).astype(np.int64)
    assert (ma < (1 << 31)).all() and (mb < (1 << 31)).all()
    return ma.astype(np.int32), mb.astype(np.int32), s.astype(np.uint8)


def quantize_weights(W, b, mom, s_in):
    """int8 weights per output channel, rounded to minimise the expected
    output error e^T C e over the calibration inputs (C: centered input
    covariance in integer input units; full for 1x1 convs, diagonal for
    3x3), the scale chosen among candidates the same way, and the bias
    corrected for the mean error.  Returns (Wq int8, sw, corrected bias)."""
    cout = W.shape[0]
    k = W.shape[2]
    Wf = W.transpose(0, 2, 3, 1).reshape(cout, -1)           # (cout, k*k*cin) OHWI
    n = Wf.shape[1]
    if mom is None:
        cov, mu = np.eye(n), np.zeros(n)
    else:
        cnt, s1, s2 = mom
        mu_c = s1 / cnt / s_in                                # integer units
        if np.ndim(s2) == 2:
            m2 = s2 / cnt / np.outer(s_in, s_in)
            cov = m2 - np.outer(mu_c, mu_c) + 1e-3 * np.eye(n)
            mu = mu_c
        else:
            var = np.maximum(s2 / cnt / (s_in * s_in) - mu_c * mu_c, 1e-3)
            cov = np.diag(np.tile(var, k * k))
            mu = np.tile(mu_c, k * k)
    diag = np.diag(cov)
    Wq = np.zeros((cout, n), np.int64)
    sw = np.zeros(cout)
    for o in range(cout):
        w = Wf[o]
        amax = np.abs(w).max()
        if amax == 0:
            sw[o] = 1.0
            continue
        best = None
        for t in np.linspace(112.0, 127.0, 16):
            s = amax / t
            q = np.clip(np.round(w / s), -127, 127)
            e = w / s - q
            f = e @ cov @ e * s * s
            if best is None or f < best[0]:
                best = (f, s, q)
        _, s, q = best
        # greedy +-1 moves that lower e^T C e (e in units of s)
        e = w / s - q
        g = cov @ e
        for _ in range(2 * n):
            d = np.where(g > 0, 1.0, -1.0)
            delta = -2 * np.abs(g) + diag
            delta[np.abs(q + d) > 127] = np.inf
            i = int(np.argmin(delta))
            if not delta[i] < -1e-12:
                break
            q[i] += d[i]
            e[i] -= d[i]
            g -= d[i] * cov[:, i]
        Wq[o] = q
        sw[o] = s
        b = b.copy()
        b[o] += (e @ mu) * s                                   # mean error into the bias
    Wq = Wq.reshape(cout, k, k, -1).transpose(0, 3, 1, 2).astype(np.int8)
    return Wq, sw, b


class Quantizer:
    def __init__(self, graphs):
        self.graphs = graphs
        self.amax = {}     # (graph, slot) -> per-channel max |x| (numpy)
        self.mom = {}      # (graph, slot) -> [n, sum x, sum x x^T or sum x^2]

    def observe(self, g, slots):
        conv_src = {op["src"]: op["k"] for op in g["ops"] if op["op"] == "conv"}
        for name, t in slots.items():
            a = t.detach().abs().amax(dim=(0, 2, 3)).double().numpy()
            key = (g["name"], name)
            self.amax[key] = np.maximum(self.amax.get(key, 0), a)
            if name in conv_src:
                x = t.detach().double().permute(0, 2, 3, 1).reshape(-1, t.shape[1])
                if conv_src[name] == 1 and t.shape[1] <= 512:
                    m2 = x.T @ x
                else:
                    m2 = (x * x).sum(0)
                st = self.mom.setdefault(key, [0, 0, 0])
                st[0] += x.shape[0]
                st[1] = st[1] + x.sum(0).numpy()
                st[2] = st[2] + m2.numpy()

    def build(self, prefix_tensors):
        """Returns (int graphs, tensors dict, scales dict)."""
        tensors, out_graphs, scales = {}, [], {}
        for g in self.graphs:
            gs = {}
            for name, (typ, sc) in g["in_scale"].items():
                if isinstance(sc, tuple):                 # ("from", graph, slot)
                    sc = scales[sc[1]][sc[2]]
                elif sc is None:
                    am = self.amax[(g["name"], name)]
                    sc = np.maximum(am, 1e-6) * 2.0 / QMAX[typ]
                c = len(self.amax[(g["name"], name)])
                gs[name] = np.broadcast_to(np.asarray(sc, np.float64), (c,)).copy()
            # channel scale ties for d2s sources: share over each r*r group
            d2s_src = {op["src"]: op["r"] for op in g["ops"] if op["op"] == "d2s"}
            ops = []
            for i, op in enumerate(g["ops"]):
                tag = f"{g['name']}.{i:02d}"
                k = op["op"]
                if k == "s2d":
                    gs[op["dst"]] = np.repeat(gs[op["src"]], op["r"] ** 2)
                    ops.append({"op": "s2d", "src": op["src"], "dst": op["dst"], "r": op["r"]})
                    continue
                if k == "d2s":
                    r2 = op["r"] ** 2
                    gs[op["dst"]] = gs[op["src"]][::r2].copy()
                    ops.append({"op": "d2s", "src": op["src"], "dst": op["dst"], "r": op["r"]})
                    continue
                if k == "concat":
                    a, bb = op["src"]
                    gs[op["dst"]] = np.concatenate([gs[a], gs[bb]])
                    ops.append({"op": "concat", "src": [a, bb], "dst": op["dst"]})
                    continue
                if k == "convert":
                    # exact type change (u8 -> s16): multiplier 1, shift 0
                    c = len(gs[op["src"]])
                    gs[op["dst"]] = gs[op["src"]].copy()
                    tensors[tag + ".m"] = np.ones(c, np.int32)
                    tensors[tag + ".s"] = np.zeros(c, np.uint8)
                    lo, hi = intsim.TYPE_RANGE[op["type"]]
                    ops.append({"op": "requant", "src": op["src"], "dst": op["dst"], "out_type": op["type"],
                                "lo": lo, "hi": hi, "bias": None, "mult": tag + ".m", "shift": tag + ".s"})
                    continue
                typ = op["type"]
                am = self.amax[(g["name"], op["dst"])]
                if op["dst"] in d2s_src:
                    r2 = d2s_src[op["dst"]] ** 2
                    am = np.repeat(am.reshape(-1, r2).max(axis=1), r2)
                if typ == "pix":
                    s_out = np.full_like(am, 1 / 255.0)
                    lo, hi, otype = 0, 255, "u8"
                elif typ == "sidx":
                    s_out = np.full_like(am, op["fixed"])
                    lo, hi, otype = 0, M.NSCALES - 1, "u8"
                elif op.get("fixed") is not None:
                    s_out = np.full_like(am, op["fixed"])
                    lo, hi = intsim.TYPE_RANGE[typ]
                    otype = typ
                else:
                    s_out = np.maximum(am, 1e-6) * (2.0 if typ in ("s16", "s32") else 1.0) / QMAX[typ]
                    lo, hi = intsim.TYPE_RANGE[typ]
                    if op.get("relu"):
                        lo = 0
                    otype = typ
                gs[op["dst"]] = s_out
                if k == "conv":
                    s_in = gs[op["src"]]
                    W = op["W"].numpy() * s_in[None, :, None, None]
                    b = op["b"].numpy().copy()
                    if op.get("bias_off") is not None:
                        b = b + op["bias_off"]
                    Wq, sw, b = quantize_weights(W, b, self.mom.get((g["name"], op["src"])), s_in)
                    bq = np.round(b / sw)
                    if np.abs(bq).max() >= (1 << 30):
                        raise ValueError(f"{tag}: bias out of range")
                    m, s = mult_shift(sw / s_out)
                    tensors[tag + ".w"] = Wq.transpose(0, 2, 3, 1).copy()
                    tensors[tag + ".b"] = bq.astype(np.int32)
                    tensors[tag + ".m"] = m
                    tensors[tag + ".s"] = s
                    ops.append({"op": "conv", "src": op["src"], "dst": op["dst"], "k": op["k"],
                                "stride": op["stride"], "cin": W.shape[1], "cout": W.shape[0],
                                "in_type": None, "out_type": otype, "lo": lo, "hi": hi,
                                "weight": tag + ".w", "bias": tag + ".b", "mult": tag + ".m",
                                "shift": tag + ".s"})
                elif k == "add":
                    a, bb = op["src"]
                    ma, mb, s = add_mult_shift(gs[a] / s_out, gs[bb] / s_out)
                    tensors[tag + ".ma"], tensors[tag + ".mb"], tensors[tag + ".s"] = ma, mb, s
                    ops.append({"op": "add", "src": [a, bb], "dst": op["dst"], "out_type": otype,
                                "lo": lo, "hi": hi, "ma": tag + ".ma", "mb": tag + ".mb",
                                "shift": tag + ".s"})
            # element types of every slot, for the C graph
            types = {n: t for n, (t, _) in g["in_scale"].items()}
            for op in ops:
                if op["op"] in ("s2d", "d2s"):
                    types[op["dst"]] = types[op["src"]]
                elif op["op"] == "concat":
                    ta, tb = types[op["src"][0]], types[op["src"][1]]
                    assert ta == tb, (g["name"], op)
                    types[op["dst"]] = ta
                else:
                    types[op["dst"]] = op["out_type"]
                if op["op"] == "conv":
                    op["in_type"] = types[op["src"]]
            out_graphs.append({"name": g["name"], "inputs": g["inputs"], "outputs": g["outputs"],
                               "ops": ops, "types": types})
            scales[g["name"]] = gs
        return out_graphs, tensors, scales


# ----------------------------------------------------------- tables
def gain_tables(net, s_y, s_yd):
    """Per qp 0..63: quantizer y(s32) -> yq and dequantizer yq -> yd(s16)."""
    qm, qs, dm, ds = [], [], [], []
    for qp in range(64):
        w = M.level_weights_for_qp(qp)
        g = torch.exp(w @ net.log_gain.detach()).double().numpy()
        ig = torch.exp(w @ net.log_igain.detach()).double().numpy()
        m, s = mult_shift(s_y * g)
        qm.append(m), qs.append(s)
        m, s = mult_shift(ig / s_yd)
        dm.append(m), ds.append(s)
    return np.stack(qm), np.stack(qs), np.stack(dm), np.stack(ds)


def load_net(path):
    net = M.IntraCodec()
    ck = torch.load(path, map_location="cpu")
    net.load_state_dict(ck["state_dict"])
    net.eval()
    return net, ck.get("step", 0)


def calib_pictures(n, patch=256, seed=7):
    import data as D
    cache = os.path.join(M.__file__.rsplit("/training/", 1)[0], "build/train_cache/intra.pkl")
    pics = D.load_intra_cache(cache)
    s = D.PatchSampler(pics, patch, seed=seed)
    return s.batch(n)


class IntModel:
    """An exported codec part ("intra" or "inter") executed by the integer
    simulator.  Inter parts also take the packed prediction p6."""

    def __init__(self, prefix, graphs, tensors, qtab, ytab, ztab):
        self.p = prefix
        self.g = {g["name"]: g for g in graphs}
        self.t = tensors
        self.qm, self.qs, self.dm, self.ds = qtab
        self.ytab, self.ztab = ytab, ztab

    def run(self, name, inputs):
        return intsim.run_graph(self.g[f"{self.p}.{name}"], self.t, inputs)

    def code(self, x6_u8, qp, p6_u8=None):
        """x6_u8 (and p6_u8): (H/2, W/2, 6) ints, H and W multiples of 64.
        Returns (x6_hat ints, bits)."""
        if p6_u8 is None:
            y = self.run("analysis", {"x6": x6_u8})["y"]
            ctx = {}
        else:
            pr = self.run("pred", {"p6": p6_u8})
            y = self.run("analysis", {"x6": x6_u8, "p6": p6_u8, "pt": pr["pt"]})["y"]
            ctx = {"pf": pr["pf"]}
        yq = np.clip(intsim.requant(y, self.qm[qp], self.qs[qp]), -4096, 4096)
        z = self.run("hyper_analysis", {"yq": yq})["z"]
        hs = self.run("hyper_synthesis", dict(zq=z, **ctx))
        bits = C.bits_y(self.ytab, yq - hs["mu"], hs["sidx"]) + C.bits_z(self.ztab, z)
        yd = np.clip(intsim.requant(yq, self.dm[qp], self.ds[qp]), -4096, 4096)
        if p6_u8 is None:
            x6 = self.run("synthesis", {"yd": yd})["x6"]
        else:
            x6 = self.run("synthesis", {"yd": yd, "pt": pr["pt"], "p6": p6_u8})["x6"]
        return x6, bits


def psnr_x6(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    mse_y = ((a[..., :4] - b[..., :4]) ** 2).mean()
    mse_u = ((a[..., 4] - b[..., 4]) ** 2).mean()
    mse_v = ((a[..., 5] - b[..., 5]) ** 2).mean()
    mse = (6 * mse_y + mse_u + mse_v) / 8
    return 10 * math.log10(255 ** 2 / max(mse, 1e-10))


def hwc(t):
    return np.round(t[0].permute(1, 2, 0).numpy() * 255).astype(np.int64)


def calibrate_intra(q, net, G, x6, qps):
    with torch.no_grad():
        for i, qp in enumerate(qps):
            xb = x6[i::len(qps)]
            if len(xb) == 0:
                continue
            va = float_run(G["intra.analysis"], {"x6": xb})
            q.observe(G["intra.analysis"], va)
            g, ig = (t.double() for t in net.gains(M.level_weights_for_qp(qp)[None]))
            yq = torch.round(va["y"] * g)
            vh = float_run(G["intra.hyper_analysis"], {"yq": yq})
            q.observe(G["intra.hyper_analysis"], vh)
            q.observe(G["intra.hyper_synthesis"], float_run(G["intra.hyper_synthesis"], {"zq": torch.round(vh["z"])}))
            q.observe(G["intra.synthesis"], float_run(G["intra.synthesis"], {"yd": yq * ig}))


def inter_pairs(intra, n, qps, seed=11):
    """(x6, p6, qp) triples: frame 1 of training sequences predicted by OBMC
    from the float intra reconstruction of frame 0 (both rounded to 8 bits)."""
    import data_seq as DS
    import motion as Mo
    root = M.__file__.rsplit("/training/", 1)[0]
    sampler = DS.SeqSampler(DS.load(os.path.join(root, "build/train_cache/seq3.pkl")), seed=seed, crop=128)
    out = []
    with torch.no_grad():
        for i in range(n):
            qp = qps[i % len(qps)]
            fr = sampler.batch(1)
            y0, u0, v0, _ = fr[0]
            y1, u1, v1, mv = fr[1]
            rec, _, _ = intra(M.to_x6(y0, u0, v0), M.level_weights_for_qp(qp)[None], noise=False)
            ry, ru, rv = M.from_x6(torch.round(rec.clamp(0, 1) * 255))
            py, pu, pv = Mo.mc_yuv(ry, ru, rv, mv)
            p6 = torch.round(M.to_x6(py, pu, pv).clamp(0, 255)) / 255
            x6 = torch.round(M.to_x6(y1, u1, v1) * 255) / 255
            out.append((x6.double(), p6.double(), qp))
    return out


def calibrate_inter(q, net, G, pairs):
    with torch.no_grad():
        for x6, p6, qp in pairs:
            vp = float_run(G["inter.pred"], {"p6": p6})
            q.observe(G["inter.pred"], vp)
            va = float_run(G["inter.analysis"], {"x6": x6, "p6": p6, "pt": vp["pt"]})
            q.observe(G["inter.analysis"], va)
            g, ig = (t.double() for t in net.gains(M.level_weights_for_qp(qp)[None]))
            yq = torch.round(va["y"] * g)
            vh = float_run(G["inter.hyper_analysis"], {"yq": yq})
            q.observe(G["inter.hyper_analysis"], vh)
            q.observe(G["inter.hyper_synthesis"],
                      float_run(G["inter.hyper_synthesis"], {"zq": torch.round(vh["z"]), "pf": vp["pf"]}))
            q.observe(G["inter.synthesis"], float_run(G["inter.synthesis"], {"yd": yq * ig, "pt": vp["pt"], "p6": p6}))


def part_tables(prefix, net, scales):
    qtab = gain_tables(net, scales[f"{prefix}.analysis"]["y"], scales[f"{prefix}.synthesis"]["yd"])
    ztab = C.build_z_tables(torch.exp(net.z_log_scale.detach()).double().numpy())
    return qtab, ztab


def compare(label, im, cases, float_fn):
    """Float model vs exported integer model: bpp and PSNR-YUV per qp."""
    points = []
    for qp in sorted(set(c[-1] for c in cases)):
        fb, fp, ib, ip = [], [], [], []
        for c in cases:
            if c[-1] != qp:
                continue
            x6 = c[0]
            npix = x6.shape[2] * x6.shape[3] * 4
            xh, bits = float_fn(c)
            fb.append(bits / npix)
            fp.append(psnr_x6(hwc(x6), np.round(xh[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255)))
            xo, b = im.code(hwc(x6), qp, hwc(c[1]) if len(c) == 3 else None)
            ib.append(b / npix)
            ip.append(psnr_x6(hwc(x6), xo))
        pt = {"part": label, "qp": qp, "float_bpp": float(np.mean(fb)), "float_psnr": float(np.mean(fp)),
              "int_bpp": float(np.mean(ib)), "int_psnr": float(np.mean(ip))}
        print(json.dumps(pt), flush=True)
        points.append(pt)
    return points


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="models/checkpoints/intra_latest.pt")
    ap.add_argument("--inter-ckpt", default="models/checkpoints/inter_latest.pt")
    ap.add_argument("-o", "--out", default="build/neuvc-rt.nvm")
    ap.add_argument("--calib", type=int, default=24)
    ap.add_argument("--eval", type=int, default=6)
    ap.add_argument("--model-id", default="neuvc-rt-0")
    ap.add_argument("--report", default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    net, step = load_net(args.ckpt)
    graphs = intra_graphs(net)
    pnet, pstep = None, 0
    if args.inter_ckpt and os.path.exists(args.inter_ckpt):
        import model_p as MP
        pnet = MP.InterCodec(net)
        ck = torch.load(args.inter_ckpt, map_location="cpu")
        pnet.load_state_dict(ck["state_dict"])
        pnet.eval()
        pstep = ck.get("step", 0)
        graphs += inter_graphs(pnet)
    G = {g["name"]: g for g in graphs}
    q = Quantizer(graphs)
    y, u, v = calib_pictures(args.calib + args.eval)
    x6_all = torch.round(M.to_x6(y, u, v) * 255) / 255
    qps = [14, 20, 26, 32, 38, 44, 50]
    calibrate_intra(q, net, G, x6_all[:args.calib].double(), qps)
    if pnet is not None:
        pairs = inter_pairs(net, args.calib + args.eval, qps)
        calibrate_inter(q, pnet, G, pairs[:args.calib])
    igraphs, tensors, scales = q.build(None)
    ytab = C.build_y_tables()
    parts = {"intra": part_tables("intra", net, scales)}
    if pnet is not None:
        parts["inter"] = part_tables("inter", pnet, scales)
    report = {"intra_step": step, "inter_step": pstep, "points": []}
    ig_intra = [g for g in igraphs if g["name"].startswith("intra.")]
    im = IntModel("intra", ig_intra, tensors, parts["intra"][0], ytab, parts["intra"][1])
    cases = [(x6_all[args.calib + j:args.calib + j + 1].double(), qp)
             for qp in (18, 26, 34, 42) for j in range(args.eval)]

    def f_intra(c):
        with torch.no_grad():
            xh, by, bz = net(c[0].float(), M.level_weights_for_qp(c[1])[None], noise=False)
        return xh.double(), (by + bz).item()
    report["points"] += compare("intra", im, cases, f_intra)
    if pnet is not None:
        ig_inter = [g for g in igraphs if g["name"].startswith("inter.")]
        imp = IntModel("inter", ig_inter, tensors, parts["inter"][0], ytab, parts["inter"][1])
        pcases = [(x6, p6, qp) for (x6, p6, _) in pairs[args.calib:] for qp in (18, 26, 34, 42)]

        def f_inter(c):
            with torch.no_grad():
                xh, by, bz = pnet(c[0].float(), c[1].float(), M.level_weights_for_qp(c[2])[None], noise=False)
            return xh.double(), (by + bz).item()
        report["points"] += compare("inter", imp, pcases, f_inter)
    if args.report:
        with open(args.report, "w") as fh:
            json.dump(report, fh, indent=1)
    write_model(args.out, args.model_id, {"intra_step": step, "inter_step": pstep}, igraphs, tensors, ytab, parts)


INPUT_CHANNELS = {"x6": 6, "yq": M.CY, "zq": M.CZ, "yd": M.CY, "p6": 6, "pt": 96, "pf": 32}


def write_model(path, model_id, steps, igraphs, tensors, ytab, parts):
    import nvm
    cast = {"w": np.int8, "b": np.int32, "m": np.int32, "ma": np.int32, "mb": np.int32, "s": np.uint8}
    T = {}
    for name, arr in tensors.items():
        T[name] = np.ascontiguousarray(arr.astype(cast[name.rsplit(".", 1)[1]]))
    tabs = [("y", ytab)]
    for prefix, (qtab, ztab) in parts.items():
        qm, qs, dm, ds = qtab
        T[f"{prefix}.y_qmult"], T[f"{prefix}.y_qshift"] = qm.astype(np.int32), qs.astype(np.uint8)
        T[f"{prefix}.y_dqmult"], T[f"{prefix}.y_dqshift"] = dm.astype(np.int32), ds.astype(np.uint8)
        tabs.append((f"{prefix}.z", ztab))
    for tag, tab in tabs:
        T[tag + ".cdf"] = C.cdf_matrix(tab)
        T[tag + ".k"] = tab["k"].astype(np.uint8)
        T[tag + ".b"] = tab["b"].astype(np.uint8)
    params = {"format": 1, "cy": M.CY, "cz": M.CZ, "nscales": M.NSCALES, "pad": 64,
              "latent_stride": 16, "hyper_stride": 64, "inter": int("inter" in parts)}
    params.update({k: int(v) for k, v in steps.items()})
    graphs = []
    for g in igraphs:
        graphs.append(nvm.named_graph(g, {n: INPUT_CHANNELS[n] for n in g["inputs"]}))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    nvm.write_nvm(path, model_id, params, T, graphs)
    print(f"wrote {path}: {os.path.getsize(path)} bytes", flush=True)


if __name__ == "__main__":
    main()
