"""neuvc float model, inter part: conditional coding of a frame given its
motion-compensated prediction p6 (the OBMC prediction of docs/motion.md,
packed like x6).

Warm start: exactly DCT-domain residual coding.  The analysis sees
[x6, p6] and starts as T(x) - T(p); the synthesis adds T(p) back before
the inverse transform.  Every conditional path (the prediction's
features entering the residual blocks and the entropy model) starts at
zero, so training begins at a working residual coder and moves towards
conditional coding.

Ops are the netlib ops only (see model.py): conv 1x1/3x3, s2d, d2s, add,
concat, relu.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import model as M
from model import CY, CZ, ResBlock, Unpatch, ste_round, latent_bits


class CondResBlock(nn.Module):
    """x + conv3x3(relu(conv3x3(concat(x, cond)))); starts as identity."""

    def __init__(self, c, cc, hidden):
        super().__init__()
        self.c1 = nn.Conv2d(c + cc, hidden, 3, padding=1)
        self.c2 = nn.Conv2d(hidden, c, 3, padding=1)
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)

    def forward(self, x, cond):
        return x + self.c2(F.relu(self.c1(torch.cat([x, cond], 1))))


class InterCodec(nn.Module):
    def __init__(self, intra=None):
        super().__init__()
        nl = len(M.TRAIN_QPS)
        # prediction transform to the 8x8 DCT domain (1/8)
        self.p_patch8 = nn.Conv2d(6, 96, 4, stride=4)
        # analysis: [x6, p6] -> 96 at 1/8 (starts as T(x) - T(p))
        self.a_patch8 = nn.Conv2d(12, 96, 4, stride=4)
        self.a_rb8 = CondResBlock(96, 96, 24)
        self.a_patch16 = nn.Conv2d(96, CY, 2, stride=2)
        self.a_rb16 = ResBlock(CY, 48)
        # hyper analysis
        self.ha1 = nn.Conv2d(CY, 64, 3, padding=1)
        self.ha2 = nn.Conv2d(64, CZ, 4, stride=4)
        # prediction features at 1/16 for the entropy model
        self.p_feat16 = nn.Conv2d(96, 32, 2, stride=2)
        # hyper synthesis (z and prediction features)
        self.hs1 = nn.Conv2d(CZ, 128, 3, padding=1)
        self.hs2 = Unpatch(128, 48, 4)
        self.hs3 = nn.Conv2d(48 + 32, 96, 3, padding=1)
        self.hs4 = nn.Conv2d(96, 2 * CY, 1)
        # synthesis
        self.s_rb16 = ResBlock(CY, 48)
        self.s_unpatch16 = Unpatch(CY, 96, 2)
        self.s_rb8 = CondResBlock(96, 96, 24)
        self.s_unpatch8 = Unpatch(96, 6, 4)
        self.s_rb2 = CondResBlock(6, 6, 16)
        g0 = np.array([math.log(255.0 / M.qstep(q)) for q in M.TRAIN_QPS])
        self.log_gain = nn.Parameter(torch.tensor(g0, dtype=torch.float32)[:, None].repeat(1, CY))
        self.log_igain = nn.Parameter(-self.log_gain.detach().clone())
        self.z_log_scale = nn.Parameter(torch.full((CZ,), math.log(2.0)))
        self.init_from(intra or M.IntraCodec())

    @torch.no_grad()
    def init_from(self, intra):
        w8 = intra.a_patch8.weight          # (96, 6, 4, 4) DCT basis
        self.p_patch8.weight.copy_(w8)
        self.p_patch8.bias.zero_()
        self.a_patch8.weight.copy_(torch.cat([w8, -w8], 1))
        self.a_patch8.bias.zero_()
        for name in ("a_patch16", "ha1", "ha2", "hs1", "hs4"):
            getattr(self, name).load_state_dict(getattr(intra, name).state_dict())
        self.hs2.load_state_dict(intra.hs2.state_dict())
        # hs3 sees [h, pfeat]: intra weights for h, zero for the new input
        self.hs3.weight.zero_()
        self.hs3.weight[:, :48] = intra.hs3.weight
        self.hs3.bias.copy_(intra.hs3.bias)
        for name in ("a_rb16", "s_rb16", "s_unpatch16", "s_unpatch8"):
            getattr(self, name).load_state_dict(getattr(intra, name).state_dict())
        self.log_gain.copy_(intra.log_gain)
        self.log_igain.copy_(intra.log_igain)
        self.z_log_scale.copy_(intra.z_log_scale)

    def gains(self, level_w):
        g = torch.exp(level_w @ self.log_gain)[:, :, None, None]
        ig = torch.exp(level_w @ self.log_igain)[:, :, None, None]
        return g, ig

    def forward(self, x6, p6, level_w, noise=True):
        g, ig = self.gains(level_w)
        pt = self.p_patch8(p6)                                   # T(p), 1/8
        a8 = self.a_rb8(self.a_patch8(torch.cat([x6, p6], 1)), pt)
        y = self.a_rb16(self.a_patch16(a8)) * g
        yq = ste_round(y)
        z = self.ha2(F.relu(self.ha1(yq)))
        zq = ste_round(z)
        pf = F.relu(self.p_feat16(pt))
        h = F.relu(self.hs2(F.relu(self.hs1(zq))))
        p = self.hs4(F.relu(self.hs3(torch.cat([h, pf], 1))))
        mu, log_sigma = p[:, :CY], p[:, CY:]
        bits_y, bits_z = latent_bits(y, yq, z, zq, mu, log_sigma, self.z_log_scale, noise)
        s16 = self.s_unpatch16(self.s_rb16(yq * ig))
        a8 = self.s_rb8(s16 + pt, pt)
        x6m = self.s_unpatch8(a8)
        x6_hat = self.s_rb2(x6m, p6)
        return x6_hat, bits_y, bits_z
