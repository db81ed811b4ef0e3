"""Offline construction of the entropy model's integer tables, and the
exact bit count the C coder spends with them (ignoring the few bytes of
range-coder flush).

Latents are coded as v = yq - mu (integers) with the table of their scale
index i (0..NSCALES-1, sigma_i = SCALE_MIN * exp(i * LOG_SCALE_STEP)).
For large sigma the low b_i bits of v are sent raw and the high part
h = v >> b_i (floor) with the table, where b_i makes sigma / 2^b_i < 4.
A table covers h in [-K, K] (symbols 0..2K) plus an escape symbol 2K+1;
an escaped h is followed by a sign bit and |h| - K - 1 in Exp-Golomb
order 0 (bypass bits).  Frequencies are 15-bit (total 32768), each >= 1.
"""
import math

import numpy as np

import model as M

TOTAL = 1 << 15


def _phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def freqs_from_probs(p):
    """Deterministic 15-bit quantization: every symbol >= 1, sum == 32768."""
    p = np.asarray(p, np.float64)
    p = p / p.sum()
    f = np.maximum(1, np.floor(p * (TOTAL - len(p)))).astype(np.int64)
    d = TOTAL - int(f.sum())
    order = np.argsort(-p, kind="stable")
    i = 0
    while d != 0:
        j = order[i % len(p)]
        if d > 0:
            f[j] += 1
            d -= 1
        elif f[j] > 1:
            f[j] -= 1
            d += 1
        i += 1
    assert f.sum() == TOTAL and f.min() >= 1
    return f


def gaussian_table(sigma, b):
    sp = sigma / (1 << b)
    K = int(min(127, max(1, math.ceil(5.0 * sp + 1))))
    w = 1 << b
    probs = []
    for h in range(-K, K + 1):
        lo = h * w - 0.5
        hi = h * w + w - 0.5
        probs.append(_phi(hi / sigma) - _phi(lo / sigma))
    tail = max(0.0, 1.0 - sum(probs))
    probs.append(max(tail, 1e-12))
    return K, freqs_from_probs(probs)


def raw_bits_for(sigma):
    b = 0
    while sigma / (1 << b) >= 4.0:
        b += 1
    return b


def build_y_tables():
    ks, bs, fs = [], [], []
    for i in range(M.NSCALES):
        s = M.SCALE_MIN * math.exp(i * M.LOG_SCALE_STEP)
        b = raw_bits_for(s)
        K, f = gaussian_table(s, b)
        ks.append(K), bs.append(b), fs.append(f)
    return {"k": np.array(ks), "b": np.array(bs), "freq": fs}


def build_z_tables(sigmas):
    ks, bs, fs = [], [], []
    for s in sigmas:
        s = max(float(s), M.SCALE_MIN)
        K, f = gaussian_table(s, 0)
        ks.append(K), bs.append(0), fs.append(f)
    return {"k": np.array(ks), "b": np.array(bs), "freq": fs}


def cdf_matrix(tab, width=257):
    """(n_tables, width) uint16 cumulative tables, zero-padded after n+1."""
    out = np.zeros((len(tab["freq"]), width), np.uint16)
    for i, f in enumerate(tab["freq"]):
        c = np.concatenate([[0], np.cumsum(f)])
        c[-1] = TOTAL        # stored as 32768: fits uint16
        out[i, :len(c)] = c
    return out


def _eg0_len(x):
    return 2 * np.floor(np.log2(x + 1.0)) + 1


def _bits(tab, v, idx):
    v = v.astype(np.int64)
    total = 0.0
    for i in np.unique(idx):
        sel = idx == i
        K, b, f = int(tab["k"][i]), int(tab["b"][i]), tab["freq"][i]
        h = np.right_shift(v[sel], b)
        inr = np.abs(h) <= K
        cost = np.where(inr, -np.log2(f[np.clip(h + K, 0, 2 * K)] / TOTAL),
                        -math.log2(f[2 * K + 1] / TOTAL) + 1 + _eg0_len(np.maximum(np.abs(h) - K - 1, 0)))
        total += cost.sum() + b * sel.sum()
    return total


def bits_y(tab, v, sidx):
    return _bits(tab, v, sidx.astype(np.int64))


def bits_z(tab, z):
    idx = np.broadcast_to(np.arange(z.shape[-1]), z.shape)
    return _bits(tab, z, idx)
