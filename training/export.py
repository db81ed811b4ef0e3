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
                if sc is None:
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
    """The exported intra codec executed by the integer simulator."""

    def __init__(self, graphs, tensors, qtab, ytab, ztab):
        self.g = {g["name"]: g for g in graphs}
        self.t = tensors
        self.qm, self.qs, self.dm, self.ds = qtab
        self.ytab, self.ztab = ytab, ztab

    def code(self, x6_u8, qp):
        """x6_u8: (H/2, W/2, 6) ints, H and W multiples of 64.
        Returns (x6_hat ints, bits)."""
        y = intsim.run_graph(self.g["intra.analysis"], self.t, {"x6": x6_u8})["y"]
        yq = np.clip(intsim.requant(y, self.qm[qp], self.qs[qp]), -4096, 4096)
        z = intsim.run_graph(self.g["intra.hyper_analysis"], self.t, {"yq": yq})["z"]
        hs = intsim.run_graph(self.g["intra.hyper_synthesis"], self.t, {"zq": z})
        bits = C.bits_y(self.ytab, yq - hs["mu"], hs["sidx"]) + C.bits_z(self.ztab, z)
        yd = np.clip(intsim.requant(yq, self.dm[qp], self.ds[qp]), -4096, 4096)
        x6 = intsim.run_graph(self.g["intra.synthesis"], self.t, {"yd": yd})["x6"]
        return x6, bits


def psnr_x6(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    mse_y = ((a[..., :4] - b[..., :4]) ** 2).mean()
    mse_u = ((a[..., 4] - b[..., 4]) ** 2).mean()
    mse_v = ((a[..., 5] - b[..., 5]) ** 2).mean()
    mse = (6 * mse_y + mse_u + mse_v) / 8
    return 10 * math.log10(255 ** 2 / max(mse, 1e-10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="models/checkpoints/intra_latest.pt")
    ap.add_argument("-o", "--out", default="build/neuvc-rt.nvm")
    ap.add_argument("--calib", type=int, default=24)
    ap.add_argument("--eval", type=int, default=6)
    ap.add_argument("--model-id", default="neuvc-rt-0")
    ap.add_argument("--report", default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    net, step = load_net(args.ckpt)
    graphs = intra_graphs(net)
    G = {g["name"]: g for g in graphs}
    q = Quantizer(graphs)
    y, u, v = calib_pictures(args.calib + args.eval)
    x6_all = M.to_x6(y, u, v)
    x6_all = torch.round(x6_all * 255) / 255
    x6 = x6_all[:args.calib].double()
    qps = [14, 20, 26, 32, 38, 44, 50]
    with torch.no_grad():
        for i, qp in enumerate(qps):
            xb = x6[i::len(qps)]
            if len(xb) == 0:
                continue
            va = float_run(G["intra.analysis"], {"x6": xb})
            q.observe(G["intra.analysis"], {k: va[k] for k in va})
            lw = M.level_weights_for_qp(qp)[None].double()
            g = torch.exp(lw @ net.log_gain.double())[:, :, None, None]
            ig = torch.exp(lw @ net.log_igain.double())[:, :, None, None]
            yq = torch.round(va["y"] * g)
            vh = float_run(G["intra.hyper_analysis"], {"yq": yq})
            q.observe(G["intra.hyper_analysis"], vh)
            vs = float_run(G["intra.hyper_synthesis"], {"zq": torch.round(vh["z"])})
            q.observe(G["intra.hyper_synthesis"], vs)
            vy = float_run(G["intra.synthesis"], {"yd": yq * ig})
            q.observe(G["intra.synthesis"], vy)
    igraphs, tensors, scales = q.build(None)
    s_y = scales["intra.analysis"]["y"]
    s_yd = scales["intra.synthesis"]["yd"]
    qtab = gain_tables(net, s_y, s_yd)
    ytab = C.build_y_tables()
    ztab = C.build_z_tables(torch.exp(net.z_log_scale.detach()).double().numpy())
    im = IntModel(igraphs, tensors, qtab, ytab, ztab)

    # float vs integer on held-out patches
    report = {"step": step, "points": []}
    xe = x6_all[args.calib:]
    for qp in (18, 26, 34, 42):
        fl_p, fl_b, in_p, in_b = [], [], [], []
        for j in range(len(xe)):
            xj = xe[j:j + 1]
            with torch.no_grad():
                xh, by, bz = net(xj.float(), M.level_weights_for_qp(qp)[None], noise=False)
            npix = xj.shape[2] * xj.shape[3] * 4
            fl_b.append(((by + bz) / npix).item())
            fl_p.append(psnr_x6(xj[0].permute(1, 2, 0).numpy() * 255,
                                torch.round(xh[0].clamp(0, 1) * 255).permute(1, 2, 0).numpy()))
            xin = np.round(xj[0].permute(1, 2, 0).numpy() * 255).astype(np.int64)
            xo, bits = im.code(xin, qp)
            in_b.append(bits / npix)
            in_p.append(psnr_x6(xin, xo))
        pt = {"qp": qp, "float_bpp": np.mean(fl_b), "float_psnr": np.mean(fl_p),
              "int_bpp": np.mean(in_b), "int_psnr": np.mean(in_p)}
        report["points"].append(pt)
        print(json.dumps(pt), flush=True)
    if args.report:
        with open(args.report, "w") as fh:
            json.dump(report, fh, indent=1)
    write_model(args.out, args.model_id, step, igraphs, tensors, qtab, ytab, ztab)
    return igraphs, tensors, qtab, ytab, ztab


INPUT_CHANNELS = {"x6": 6, "yq": M.CY, "zq": M.CZ, "yd": M.CY}


def write_model(path, model_id, step, igraphs, tensors, qtab, ytab, ztab):
    import nvm
    cast = {"w": np.int8, "b": np.int32, "m": np.int32, "ma": np.int32, "mb": np.int32, "s": np.uint8}
    T = {}
    for name, arr in tensors.items():
        T[name] = np.ascontiguousarray(arr.astype(cast[name.rsplit(".", 1)[1]]))
    qm, qs, dm, ds = qtab
    T["intra.y_qmult"], T["intra.y_qshift"] = qm.astype(np.int32), qs.astype(np.uint8)
    T["intra.y_dqmult"], T["intra.y_dqshift"] = dm.astype(np.int32), ds.astype(np.uint8)
    for tag, tab in (("y", ytab), ("intra.z", ztab)):
        T[tag + ".cdf"] = C.cdf_matrix(tab)
        T[tag + ".k"] = tab["k"].astype(np.uint8)
        T[tag + ".b"] = tab["b"].astype(np.uint8)
    params = {"format": 1, "cy": M.CY, "cz": M.CZ, "nscales": M.NSCALES, "pad": 64,
              "latent_stride": 16, "hyper_stride": 64, "train_step": int(step)}
    graphs = []
    for g in igraphs:
        graphs.append(nvm.named_graph(g, {n: INPUT_CHANNELS[n] for n in g["inputs"]}))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    nvm.write_nvm(path, model_id, params, T, graphs)
    print(f"wrote {path}: {os.path.getsize(path)} bytes", flush=True)


if __name__ == "__main__":
    main()
