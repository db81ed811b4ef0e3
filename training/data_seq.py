"""Training sequences for the inter model: short runs of consecutive
frames (256x256 crops) from ../shared/clips/train/video and photos given
synthetic motion (pans with sub-pixel velocity and slight zoom), with
block vectors searched offline between consecutive ORIGINAL frames
(training/motion.py).  Cached as one pickle in build/train_cache.

    python3 training/data_seq.py            # builds the cache
"""
import os
import pickle
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D      # noqa: E402
import motion as Mo   # noqa: E402

P = 256


def video_windows(rng, nframes, per_video):
    root = os.path.join(D.clips_dir(), "train", "video")
    out = []
    for f in sorted(os.listdir(root)):
        path = os.path.join(root, f)
        frames = D.decode_yuv420(path, max_frames=400)
        if len(frames) < nframes or frames[0][0].shape[0] < P or frames[0][0].shape[1] < P:
            print(f"skip {f}: {len(frames)} frames", file=sys.stderr)
            continue
        for _ in range(per_video):
            step = rng.choice([1, 1, 1, 2])
            span = (nframes - 1) * step + 1
            if span > len(frames):
                step, span = 1, nframes
            t0 = rng.randrange(0, len(frames) - span + 1)
            h, w = frames[0][0].shape
            oy = rng.randrange(0, (h - P) // 2 + 1) * 2
            ox = rng.randrange(0, (w - P) // 2 + 1) * 2
            seq = []
            for k in range(nframes):
                y, u, v = frames[t0 + k * step]
                seq.append((y[oy:oy + P, ox:ox + P].copy(),
                            u[oy // 2:(oy + P) // 2, ox // 2:(ox + P) // 2].copy(),
                            v[oy // 2:(oy + P) // 2, ox // 2:(ox + P) // 2].copy()))
            out.append(seq)
        print(f"{f}: {len(frames)} frames", file=sys.stderr, flush=True)
    return out


def _resample(plane, cx, cy, scale, size):
    """Bilinear resample of a uint8 plane around centre (cx, cy) (pixels of
    plane) with a zoom factor, to size x size."""
    h, w = plane.shape
    t = torch.from_numpy(plane).float()[None, None]
    ys = (torch.arange(size) - size / 2 + 0.5) * scale + cy
    xs = (torch.arange(size) - size / 2 + 0.5) * scale + cx
    gy = ys / (h - 1) * 2 - 1
    gx = xs / (w - 1) * 2 - 1
    grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], -1)[None]
    r = F.grid_sample(t, grid, mode="bilinear", align_corners=True, padding_mode="border")
    return r[0, 0].round().clamp(0, 255).byte().numpy()


def synthetic(rng, pics, n, nframes):
    out = []
    for _ in range(n):
        y, u, v = pics[rng.randrange(len(pics))]
        h, w = y.shape
        if h < P + 64 or w < P + 64:
            continue
        vx, vy = rng.uniform(-6, 6), rng.uniform(-4, 4)
        zoom = rng.choice([1.0, 1.0, rng.uniform(0.985, 1.015)])
        margin = 8 * nframes + P // 2 + 8
        cx = rng.uniform(margin, w - margin) if w > 2 * margin else w / 2
        cy = rng.uniform(margin, h - margin) if h > 2 * margin else h / 2
        seq = []
        s = 1.0
        for k in range(nframes):
            yy = _resample(y, cx + k * vx, cy + k * vy, s, P)
            uu = _resample(u, (cx + k * vx) / 2, (cy + k * vy) / 2, s, P // 2)
            vv = _resample(v, (cx + k * vx) / 2, (cy + k * vy) / 2, s, P // 2)
            seq.append((yy, uu, vv))
            s *= zoom
        out.append(seq)
    return out


def add_vectors(seqs, batch=8):
    """Block vectors for frame k > 0 of each sequence against frame k-1."""
    t0 = time.time()
    nf = len(seqs[0])
    mvs = [[None] * nf for _ in seqs]
    for i in range(0, len(seqs), batch):
        chunk = seqs[i:i + batch]
        for k in range(1, nf):
            cur = torch.stack([torch.from_numpy(s[k][0]) for s in chunk]).float()[:, None]
            ref = torch.stack([torch.from_numpy(s[k - 1][0]) for s in chunk]).float()[:, None]
            mv = Mo.search(cur, ref, rng=24)
            for j in range(len(chunk)):
                mvs[i + j][k] = mv[j].short().numpy()
        if (i // batch) % 10 == 0:
            print(f"vectors {i + len(chunk)}/{len(seqs)} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    return mvs


def build(out_path, nframes=3, per_video=40, n_synth=500, seed=3):
    rng = random.Random(seed)
    seqs = video_windows(rng, nframes, per_video)
    pics = D.load_intra_cache(os.path.join(os.path.dirname(out_path), "intra.pkl"))
    pics = [p for p in pics if p[0].shape[0] >= 400]     # photos and large frames
    seqs += synthetic(rng, pics, n_synth, nframes)
    rng.shuffle(seqs)
    mvs = add_vectors(seqs)
    with open(out_path, "wb") as fh:
        pickle.dump({"seqs": seqs, "mvs": mvs}, fh, protocol=4)
    return seqs, mvs


def load(path):
    with open(path, "rb") as fh:
        return pickle.load(fh)


class SeqSampler:
    """Batches of sequences, optionally cropped to crop x crop at offsets
    that are multiples of 64 (so block vectors and the latent grid stay
    aligned)."""

    def __init__(self, cache, seed=0, crop=P):
        self.seqs, self.mvs = cache["seqs"], cache["mvs"]
        self.rng = random.Random(seed)
        self.crop = crop

    def batch(self, n):
        idx = [self.rng.randrange(len(self.seqs)) for _ in range(n)]
        c = self.crop
        offs = [(self.rng.randrange(0, (P - c) // 64 + 1) * 64,
                 self.rng.randrange(0, (P - c) // 64 + 1) * 64) for _ in idx]
        nf = len(self.seqs[0])
        frames = []
        for k in range(nf):
            planes = []
            for p_i, div in ((0, 1), (1, 2), (2, 2)):
                arr = np.stack([self.seqs[i][k][p_i][oy // div:(oy + c) // div, ox // div:(ox + c) // div]
                                for i, (oy, ox) in zip(idx, offs)])
                planes.append(torch.from_numpy(arr).float()[:, None] / 255)
            mv = None
            if k > 0:
                mv = torch.from_numpy(np.stack([self.mvs[i][k][:, oy // 16:(oy + c) // 16, ox // 16:(ox + c) // 16]
                                                for i, (oy, ox) in zip(idx, offs)])).long()
            frames.append((planes[0], planes[1], planes[2], mv))
        return frames


if __name__ == "__main__":
    torch.set_num_threads(1)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build(os.path.join(root, "build/train_cache/seq3.pkl"))
