"""Block motion for training: the OBMC motion compensation of
docs/motion.md in floating point (no intermediate rounding), and a
hierarchical block motion search used to prepare training sequences.

Planes are float tensors (B, 1, H, W) in pixel units 0..255; vector
fields are int64 (B, 2, H/16, W/16) in quarter luma samples (x, y).
"""
import torch
import torch.nn.functional as F

TAPS = torch.tensor([
    [0, 64, 0, 0],
    [-2, 58, 10, -2],
    [-4, 54, 16, -2],
    [-6, 46, 28, -4],
    [-4, 36, 36, -4],
    [-4, 28, 46, -6],
    [-2, 16, 54, -4],
    [-2, 10, 58, -2],
], dtype=torch.float32) / 64.0
MV_MIN, MV_MAX = -512, 511


def phase_stack(ref, chroma):
    """All sub-sample phases of a plane: (B, P, H, W) with P = 16 (luma:
    quarter phases 0,2,4,6 in y and x) or 64 (chroma: eighth phases),
    channel py_i * sqrt(P) + px_i.  Edge handling replicates 1-2 samples,
    which matches the clamped definition except for vectors pointing more
    than a sample outside the picture (training only)."""
    ph = list(range(8)) if chroma else [0, 2, 4, 6]
    taps = TAPS.to(ref.device, ref.dtype)
    k = torch.stack([torch.outer(taps[py], taps[px]) for py in ph for px in ph])[:, None]
    return F.conv2d(F.pad(ref, (1, 2, 1, 2), mode="replicate"), k)


def _gather_pred(stack, ix, iy, pidx):
    B, P, H, W = stack.shape
    idx = pidx * (H * W) + iy.clamp(0, H - 1) * W + ix.clamp(0, W - 1)
    return torch.gather(stack.reshape(B, -1), 1, idx.reshape(B, -1)).reshape(ix.shape)


def _window(n, device):
    """1-D OBMC weight of the own block for r = 0..n-1, over 2n."""
    r = torch.arange(n, device=device, dtype=torch.float32)
    t = r + n // 2
    return torch.where(t < n, 2 * t + 1, 4 * n - 1 - 2 * t) / (2 * n)


def _pos(mx, my, xs, ys, chroma):
    # >> floors and & takes the non-negative remainder for int64 (two's
    # complement), as the C definition does; both are far faster than
    # torch's floor division here.
    if chroma:
        ix = xs[None, None, :] + (mx >> 3)
        iy = ys[None, :, None] + (my >> 3)
        pidx = ((my & 7) << 3) + (mx & 7)
    else:
        ix = xs[None, None, :] + (mx >> 2)
        iy = ys[None, :, None] + (my >> 2)
        pidx = ((my & 3) << 2) + (mx & 3)
    return ix, iy, pidx


def mc_plane(ref, mv, n, chroma, stack=None):
    """OBMC prediction of one plane; n = block size in that plane."""
    B, _, H, W = ref.shape
    hb, wb = H // n, W // n
    dev = ref.device
    if stack is None:
        stack = phase_stack(ref, chroma)
    ys = torch.arange(H, device=dev)
    xs = torch.arange(W, device=dev)
    by, ry = ys // n, ys % n
    bx, rx = xs // n, xs % n
    ny = torch.where(ry < n // 2, by - 1, by + 1).clamp(0, hb - 1)
    nx = torch.where(rx < n // 2, bx - 1, bx + 1).clamp(0, wb - 1)
    w_own_y = _window(n, dev)[ry]
    w_own_x = _window(n, dev)[rx]
    out = 0
    for (yi, wy) in ((by, w_own_y), (ny, 1 - w_own_y)):
        for (xi, wx) in ((bx, w_own_x), (nx, 1 - w_own_x)):
            m = mv[:, :, yi][:, :, :, xi]                 # (B,2,H,W)
            ix, iy, pidx = _pos(m[:, 0], m[:, 1], xs, ys, chroma)
            p = _gather_pred(stack, ix, iy, pidx)
            out = out + (wy[:, None] * wx[None, :])[None] * p
    return out[:, None]


def mc_yuv(ry, ru, rv, mv):
    return mc_plane(ry, mv, 16, False), mc_plane(ru, mv, 8, True), mc_plane(rv, mv, 8, True)


# ------------------------------------------------------------- search
def _block_sad(a, b, n):
    return F.avg_pool2d((a - b).abs(), n) * n * n


def _shift(ref, dx, dy):
    """ref shifted by integer (dx, dy) with edge clamping."""
    B, C, H, W = ref.shape
    xs = (torch.arange(W) + dx).clamp(0, W - 1)
    ys = (torch.arange(H) + dy).clamp(0, H - 1)
    return ref[:, :, ys][:, :, :, xs]


def search(cur, ref, rng=32, lam=4.0):
    """Block vectors (qpel) for cur given ref (B,1,H,W luma, 0..255).
    Coarse full search at 1/4 resolution, integer refinement, then half
    and quarter sample refinement with the block (non-overlapped)
    prediction.  A cost lam * (|mvx| + |mvy|) / 4 favours short vectors."""
    B, _, H, W = cur.shape
    hb, wb = H // 16, W // 16
    stack = phase_stack(ref, False)
    c4, r4 = F.avg_pool2d(cur, 4), F.avg_pool2d(ref, 4)
    best = torch.full((B, 1, hb, wb), float("inf"))
    bmv = torch.zeros(B, 2, hb, wb, dtype=torch.int64)
    cr = rng // 4
    for dy in range(-cr, cr + 1):
        for dx in range(-cr, cr + 1):
            sad = _block_sad(c4, _shift(r4, dx, dy), 4) * 16 + lam * 4 * (abs(dx) + abs(dy))
            upd = sad < best
            best = torch.where(upd, sad, best)
            bmv[:, 0:1] = torch.where(upd, torch.full_like(upd, dx * 16, dtype=torch.int64), bmv[:, 0:1])
            bmv[:, 1:2] = torch.where(upd, torch.full_like(upd, dy * 16, dtype=torch.int64), bmv[:, 1:2])
    # integer refinement +-2 around the coarse vector and around zero
    near = [(dx, dy) for dy in range(-2, 3) for dx in range(-2, 3)]
    cand = [(dx, dy, True) for dx, dy in near] + [(dx, dy, False) for dx, dy in near]
    base = bmv.clone()
    best = torch.full((B, 1, hb, wb), float("inf"))
    for (dx, dy, absolute) in cand:
        off = torch.tensor([dx * 4, dy * 4]).view(1, 2, 1, 1)
        mv = off.expand_as(base).clone() if absolute else base + off
        mv = mv.clamp(MV_MIN, MV_MAX)
        pred = block_pred(stack, mv)
        sad = _block_sad(cur, pred, 16) + lam * (mv[:, 0:1].abs() + mv[:, 1:2].abs()).float() / 4
        upd = sad < best
        best = torch.where(upd, sad, best)
        bmv = torch.where(upd.expand_as(bmv), mv, bmv)
    for step in (2, 1):
        base = bmv.clone()
        for dy in (-step, 0, step):
            for dx in (-step, 0, step):
                if dx == 0 and dy == 0:
                    continue
                mv = (base + torch.tensor([dx, dy]).view(1, 2, 1, 1)).clamp(MV_MIN, MV_MAX)
                pred = block_pred(stack, mv)
                sad = _block_sad(cur, pred, 16) + lam * (mv[:, 0:1].abs() + mv[:, 1:2].abs()).float() / 4
                upd = sad < best
                best = torch.where(upd, sad, best)
                bmv = torch.where(upd.expand_as(bmv), mv, bmv)
    return bmv


def block_pred(stack, mv):
    """Non-overlapped block prediction from a luma phase stack (search)."""
    B, _, H, W = stack.shape
    ys = torch.arange(H)
    xs = torch.arange(W)
    m = mv[:, :, ys // 16][:, :, :, xs // 16]
    ix, iy, pidx = _pos(m[:, 0], m[:, 1], xs, ys, False)
    return _gather_pred(stack, ix, iy, pidx)[:, None]


def mv_bits_estimate(mv):
    """Rough bits of the vector field (median prediction, Exp-Golomb-like
    cost per component); for logging only (vectors are not learned)."""
    B, _, hb, wb = mv.shape
    left = F.pad(mv, (1, 0, 0, 0))[:, :, :, :-1]
    top = F.pad(mv, (0, 0, 1, 0))[:, :, :-1, :]
    tr = F.pad(mv, (0, 1, 1, 0))[:, :, :-1, 1:]
    med = torch.median(torch.stack([left, top, tr]), dim=0).values
    d = (mv - med).abs().float()
    return (2 * torch.floor(torch.log2(d + 1)) + 1).sum(dim=(1, 2, 3))
