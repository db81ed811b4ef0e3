"""neuvc float model (intra part): the architecture the C runtime executes.

Every op here maps one-to-one to a netlib op:
  Conv2d(k=3, s=1, pad=1)            -> nl conv3x3
  Conv2d(k=s, s=s) "patchify"        -> space-to-depth(s) + conv1x1
  Unpatch (conv1x1 + pixel_shuffle)  -> conv1x1 + depth-to-space(r)
  ResBlock                           -> conv3x3, relu, conv3x3, add
so that quantization-aware training and export do not change the graph.

Pictures are carried as the "half-resolution 6-channel" tensor x6:
channels [Y(0,0), Y(0,1), Y(1,0), Y(1,1), U, V] (pixel_unshuffle(2) of Y
followed by U and V), values pixel/255.  Latent y is at 1/16 of the luma
resolution, hyper-latent z at 1/64.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Quality levels trained explicitly; qp in between interpolates log-gains.
TRAIN_QPS = [12, 18, 24, 30, 36, 42, 48, 54]
CY = 192          # latent channels at 1/16
CZ = 64           # hyper-latent channels at 1/64
NSCALES = 64      # scale indices of the integer entropy model
SCALE_MIN = 0.11
SCALE_MAX = 64.0
LOG_SCALE_STEP = math.log(SCALE_MAX / SCALE_MIN) / (NSCALES - 1)


def qstep(qp):
    """x264-like quantizer step (pixel units, orthonormal transform)."""
    return 0.625 * 2.0 ** (qp / 6.0)


def lambda_for_qp(qp):
    """High-rate R-D slope for step qstep(qp): bits per (MSE * pixel)."""
    d = qstep(qp)
    return 6.0 / (math.log(2.0) * d * d)


# ---------------------------------------------------------------- helpers

def to_x6(y, u, v):
    """(B,1,H,W),(B,1,H/2,W/2)x2 in [0,1] -> (B,6,H/2,W/2)."""
    return torch.cat([F.pixel_unshuffle(y, 2), u, v], dim=1)


def from_x6(x6):
    return F.pixel_shuffle(x6[:, 0:4], 2), x6[:, 4:5], x6[:, 5:6]


class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        return g


def ste_round(x):
    return RoundSTE.apply(x)


class ResBlock(nn.Module):
    """x + conv3x3(relu(conv3x3(x))); the second conv starts at zero so the
    block starts as the identity."""

    def __init__(self, c, hidden):
        super().__init__()
        self.c1 = nn.Conv2d(c, hidden, 3, padding=1)
        self.c2 = nn.Conv2d(hidden, c, 3, padding=1)
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)

    def forward(self, x):
        return x + self.c2(F.relu(self.c1(x)))


class Unpatch(nn.Module):
    """conv1x1 to c*r*r channels, then depth-to-space(r)."""

    def __init__(self, cin, cout, r):
        super().__init__()
        self.r = r
        self.conv = nn.Conv2d(cin, cout * r * r, 1)

    def forward(self, x):
        return F.pixel_shuffle(self.conv(x), self.r)


# ------------------------------------------------- orthonormal warm start

def dct_matrix(n):
    m = np.zeros((n, n))
    for k in range(n):
        a = math.sqrt(1.0 / n) if k == 0 else math.sqrt(2.0 / n)
        for i in range(n):
            m[k, i] = a * math.cos(math.pi * (2 * i + 1) * k / (2 * n))
    return m


def _x6_index(h, w, plane, by, bx):
    """Pixel of a block in x6-patch coordinates for a patch of (bh x bw) x6
    samples: returns (channel, row, col)."""
    if plane == 0:
        return (by % 2) * 2 + (bx % 2), by // 2, bx // 2
    return 3 + plane, by, bx


def block_dct_basis(n6):
    """Rows: orthonormal DCT basis of a block of n6 x n6 x6-samples, i.e. a
    (2*n6)^2 luma block plus n6^2 U and V blocks, expressed on the x6 patch
    (6, n6, n6) flattened.  Also returns each row's (plane, u, v)."""
    ny = 2 * n6
    dy, dc = dct_matrix(ny), dct_matrix(n6)
    rows, tags = [], []
    for plane in range(3):
        n = ny if plane == 0 else n6
        d = dy if plane == 0 else dc
        for u in range(n):
            for v in range(n):
                basis = np.zeros((6, n6, n6))
                for by in range(n):
                    for bx in range(n):
                        c, r, q = _x6_index(n6, n6, plane, by, bx)
                        basis[c, r, q] = d[u, by] * d[v, bx]
                rows.append(basis.reshape(-1))
                tags.append((plane, u, v))
    return np.array(rows), tags


def keep_order(tags):
    """Importance of a DCT coefficient for the 6:1:1 YUV metric: plane weight
    over (1 + frequency^2); frequency indices of the chroma block match the
    luma ones (both span the same picture area)."""
    w = [6.0, 1.0, 1.0]
    score = [w[p] / (1.0 + u * u + v * v) for (p, u, v) in tags]
    return np.argsort(-np.array(score), kind="stable")


# ------------------------------------------------------------ intra codec

class IntraCodec(nn.Module):
    def __init__(self):
        super().__init__()
        nl = len(TRAIN_QPS)
        # analysis
        self.a_patch8 = nn.Conv2d(6, 96, 4, stride=4)
        self.a_rb8 = ResBlock(96, 32)
        self.a_patch16 = nn.Conv2d(96, CY, 2, stride=2)
        self.a_rb16 = ResBlock(CY, 48)
        # hyper analysis
        self.ha1 = nn.Conv2d(CY, 64, 3, padding=1)
        self.ha2 = nn.Conv2d(64, CZ, 4, stride=4)
        # hyper synthesis
        self.hs1 = nn.Conv2d(CZ, 128, 3, padding=1)
        self.hs2 = Unpatch(128, 48, 4)
        self.hs3 = nn.Conv2d(48, 96, 3, padding=1)
        self.hs4 = nn.Conv2d(96, 2 * CY, 1)
        # synthesis
        self.s_rb16 = ResBlock(CY, 48)
        self.s_unpatch16 = Unpatch(CY, 96, 2)
        self.s_rb8 = ResBlock(96, 32)
        self.s_unpatch8 = Unpatch(96, 6, 4)
        self.s_rb2 = ResBlock(6, 16)
        # per-level gains (log domain) for y, inverse gains for synthesis
        g0 = np.array([math.log(255.0 / qstep(q)) for q in TRAIN_QPS])
        self.log_gain = nn.Parameter(torch.tensor(g0, dtype=torch.float32)[:, None].repeat(1, CY))
        self.log_igain = nn.Parameter(-self.log_gain.detach().clone())
        # factorized prior of z: per channel zero-mean Gaussian scale
        self.z_log_scale = nn.Parameter(torch.full((CZ,), math.log(2.0)))
        self.dct_init()

    @torch.no_grad()
    def dct_init(self):
        b8, _ = block_dct_basis(4)                         # 96 x 96
        self.a_patch8.weight.copy_(torch.tensor(b8, dtype=torch.float32).view(96, 6, 4, 4))
        self.a_patch8.bias.zero_()
        # synthesis of an 8x8 block: transpose, arranged for pixel_shuffle(4)
        w = torch.tensor(b8.T, dtype=torch.float32).view(6, 4, 4, 96)  # (c6, r, q, coef)
        self.s_unpatch8.conv.weight.copy_(w.reshape(6 * 16, 96, 1, 1))
        self.s_unpatch8.conv.bias.zero_()
        # 16x16 stage: x6 patch of 8x8 -> four 8x8-block coefficient vectors
        b16, tags = block_dct_basis(8)                      # 384 x 384 on (6,8,8)
        # A1: x6(6,8,8) -> stage-1 tensor (96 ch, 2, 2)
        a1 = np.zeros((96 * 4, 6 * 64))
        for ch in range(96):
            basis = b8[ch].reshape(6, 4, 4)
            for by in range(2):
                for bx in range(2):
                    full = np.zeros((6, 8, 8))
                    full[:, by * 4:(by + 1) * 4, bx * 4:(bx + 1) * 4] = basis
                    a1[ch * 4 + by * 2 + bx] = full.reshape(-1)
        t = b16 @ a1.T                                       # stage1 -> 16x16 DCT
        keep = keep_order(tags)[:CY]
        t = t[keep]                                          # CY x 384
        self.a_patch16.weight.copy_(torch.tensor(t, dtype=torch.float32).view(CY, 96, 2, 2))
        self.a_patch16.bias.zero_()
        # inverse: stage1 = t^T y, arranged (ch, by, bx) == pixel_shuffle order
        self.s_unpatch16.conv.weight.copy_(torch.tensor(t.T, dtype=torch.float32).view(384, CY, 1, 1))
        self.s_unpatch16.conv.bias.zero_()

    # -- networks
    def analysis(self, x6):
        return self.a_rb16(self.a_patch16(self.a_rb8(self.a_patch8(x6))))

    def synthesis(self, yd):
        x = self.s_unpatch16(self.s_rb16(yd))
        return self.s_rb2(self.s_unpatch8(self.s_rb8(x)))

    def hyper_analysis(self, yq):
        return self.ha2(F.relu(self.ha1(yq)))

    def hyper_synthesis(self, zq):
        h = F.relu(self.hs2(F.relu(self.hs1(zq))))
        p = self.hs4(F.relu(self.hs3(h)))
        mu, log_sigma = p[:, :CY], p[:, CY:]
        return mu, log_sigma

    def gains(self, level_w):
        """level_w: (B, L) interpolation weights over TRAIN_QPS levels."""
        g = torch.exp(level_w @ self.log_gain)[:, :, None, None]
        ig = torch.exp(level_w @ self.log_igain)[:, :, None, None]
        return g, ig

    def forward(self, x6, level_w, noise=True):
        g, ig = self.gains(level_w)
        y = self.analysis(x6) * g
        yq = ste_round(y)
        z = self.hyper_analysis(yq)
        zq = ste_round(z)
        mu, log_sigma = self.hyper_synthesis(zq)
        bits_y, bits_z = latent_bits(y, yq, z, zq, mu, log_sigma, self.z_log_scale, noise)
        x6_hat = self.synthesis(yq * ig)
        return x6_hat, bits_y, bits_z


# Rate model used in training: "noise" measures y + U(-1/2, 1/2) against a
# continuous mean (Balle et al.); "round" measures exactly what the C coder
# codes: the integer yq - round(mu) against a zero-centred discretized
# Gaussian (and the integer z), with straight-through gradients.  Noise
# cannot reward scales near the table minimum for latents that are exactly
# at the mean, so models trained with it pay a rate floor at low rates;
# "round" removes that mismatch.
RATE_MODE = "noise"


def latent_bits(y, yq, z, zq, mu, log_sigma, z_log_scale, noise):
    zs = z_log_scale[None, :, None, None].expand_as(z)
    if RATE_MODE == "round" or not noise:
        bits_y = gaussian_bits(yq - ste_round(mu), torch.zeros_like(mu), log_sigma)
        bits_z = gaussian_bits(zq, torch.zeros_like(zq), zs)
    else:
        yn = y + torch.empty_like(y).uniform_(-0.5, 0.5)
        zn = z + torch.empty_like(z).uniform_(-0.5, 0.5)
        bits_y = gaussian_bits(yn, mu, log_sigma)
        bits_z = gaussian_bits(zn, torch.zeros_like(zn), zs)
    return bits_y, bits_z


def gaussian_bits(v, mu, log_sigma):
    """-log2 P(v) for a Gaussian discretized to unit bins; log sigma is
    clamped to the integer model's table range."""
    ls = torch.clamp(log_sigma, math.log(SCALE_MIN), math.log(SCALE_MAX))
    s = torch.exp(ls)
    d = torch.abs(v - mu)
    # upper tail form keeps precision for large d
    upper = 0.5 * torch.erfc((d - 0.5) / (s * math.sqrt(2.0)))
    lower = 0.5 * torch.erfc((d + 0.5) / (s * math.sqrt(2.0)))
    p = torch.clamp(upper - lower, min=1e-9)
    return -torch.log2(p).sum(dim=(1, 2, 3))


def yuv_mse(x6, x6_hat):
    """Per-sample MSE in 0..255 units, weighted 6:1:1 (Y:U:V)."""
    e = ((x6_hat - x6) * 255.0) ** 2
    mse_y = e[:, 0:4].mean(dim=(1, 2, 3))
    mse_u = e[:, 4].mean(dim=(1, 2))
    mse_v = e[:, 5].mean(dim=(1, 2))
    return (6 * mse_y + mse_u + mse_v) / 8.0, mse_y, mse_u, mse_v


def level_weights_for_qp(qp):
    """Interpolation weights over TRAIN_QPS for a qp (clamped at the ends)."""
    w = torch.zeros(len(TRAIN_QPS))
    if qp <= TRAIN_QPS[0]:
        w[0] = 1
    elif qp >= TRAIN_QPS[-1]:
        w[-1] = 1
    else:
        for i in range(len(TRAIN_QPS) - 1):
            a, b = TRAIN_QPS[i], TRAIN_QPS[i + 1]
            if a <= qp <= b:
                t = (qp - a) / (b - a)
                w[i], w[i + 1] = 1 - t, t
                break
    return w


def mac_per_pixel(model, h=256, w=256):
    """Count multiply-accumulates of every conv for one picture, per luma pixel."""
    macs = {"total": 0}

    def hook(mod, inp, out):
        k = mod.weight.shape[1] * mod.weight.shape[2] * mod.weight.shape[3]
        macs["total"] += out.numel() // out.shape[0] * k
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    return hs, macs
