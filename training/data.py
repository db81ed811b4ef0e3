"""Training data: decodes ../shared/clips/train (never eval/) to 8-bit 4:2:0
pictures with ffmpeg and caches them as one pickle of uint8 planes.

Only train/ is read.  The cache lives in build/train_cache (not committed).
"""
import os
import pickle
import random
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def clips_dir():
    d = os.environ.get("NEUVC_CLIPS", os.path.join(ROOT, "..", "shared", "clips"))
    return os.path.abspath(d)


def probe_size(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                          "-show_entries", "stream=width,height", "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True).stdout.strip()
    w, h = out.split("\n")[0].split(",")[:2]
    return int(w), int(h)


def decode_yuv420(path, max_frames=None, scale=None, select=None):
    """Returns a list of (Y, U, V) uint8 arrays, even sizes."""
    w, h = probe_size(path)
    if scale:
        w, h = int(w * scale), int(h * scale)
    w, h = w & ~1, h & ~1
    vf = [f"scale={w}:{h}:flags=area"]
    if select:
        vf.insert(0, f"select='not(mod(n\\,{select}))'")
    cmd = ["ffmpeg", "-v", "error", "-i", path, "-vf", ",".join(vf), "-vsync", "0",
           "-pix_fmt", "yuv420p", "-f", "rawvideo"]
    if max_frames:
        cmd += ["-frames:v", str(max_frames)]
    cmd += ["-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    fs = w * h * 3 // 2
    frames = []
    for i in range(len(raw) // fs):
        b = np.frombuffer(raw, np.uint8, fs, i * fs)
        y = b[:w * h].reshape(h, w)
        u = b[w * h:w * h + w * h // 4].reshape(h // 2, w // 2)
        v = b[w * h + w * h // 4:].reshape(h // 2, w // 2)
        frames.append((y.copy(), u.copy(), v.copy()))
    return frames


def build_intra_cache(out_path, video_every=10, max_per_video=60):
    root = os.path.join(clips_dir(), "train")
    pics = []
    img_dir = os.path.join(root, "images")
    for sub in sorted(os.listdir(img_dir)):
        d = os.path.join(img_dir, sub)
        for f in sorted(os.listdir(d)):
            if not f.lower().endswith((".png", ".jpg", ".jpeg")):
                continue
            p = os.path.join(d, f)
            for s in (1.0, 0.5):
                try:
                    fr = decode_yuv420(p, max_frames=1, scale=s)
                except subprocess.CalledProcessError as e:
                    print("skip", p, e, file=sys.stderr)
                    continue
                if fr and fr[0][0].shape[0] >= 256 and fr[0][0].shape[1] >= 256:
                    pics.append(fr[0])
    vid_dir = os.path.join(root, "video")
    for f in sorted(os.listdir(vid_dir)):
        p = os.path.join(vid_dir, f)
        fr = decode_yuv420(p, max_frames=max_per_video, select=video_every)
        fr = [x for x in fr if x[0].shape[0] >= 256 and x[0].shape[1] >= 256]
        print(f"{f}: {len(fr)} frames", file=sys.stderr)
        pics.extend(fr)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "wb") as fh:
        pickle.dump(pics, fh, protocol=4)
    return pics


def load_intra_cache(path):
    if not os.path.exists(path):
        return build_intra_cache(path)
    with open(path, "rb") as fh:
        return pickle.load(fh)


class PatchSampler:
    """Random crops (even offsets), random horizontal flips; returns float
    tensors in [0,1]: Y (B,1,P,P), U and V (B,1,P/2,P/2)."""

    def __init__(self, pics, patch=256, seed=0):
        self.pics = pics
        self.patch = patch
        self.rng = random.Random(seed)
        # weight pictures by area so big frames give more crops
        self.weights = [p[0].size for p in pics]

    def batch(self, n):
        P = self.patch
        ys = np.empty((n, 1, P, P), np.uint8)
        us = np.empty((n, 1, P // 2, P // 2), np.uint8)
        vs = np.empty((n, 1, P // 2, P // 2), np.uint8)
        idx = self.rng.choices(range(len(self.pics)), weights=self.weights, k=n)
        for k, i in enumerate(idx):
            y, u, v = self.pics[i]
            h, w = y.shape
            oy = self.rng.randrange(0, (h - P) // 2 + 1) * 2
            ox = self.rng.randrange(0, (w - P) // 2 + 1) * 2
            yy = y[oy:oy + P, ox:ox + P]
            uu = u[oy // 2:(oy + P) // 2, ox // 2:(ox + P) // 2]
            vv = v[oy // 2:(oy + P) // 2, ox // 2:(ox + P) // 2]
            if self.rng.random() < 0.5:
                yy, uu, vv = yy[:, ::-1], uu[:, ::-1], vv[:, ::-1]
            ys[k, 0], us[k, 0], vs[k, 0] = yy, uu, vv
        f = lambda a: torch.from_numpy(a).float().div_(255.0)
        return f(ys), f(us), f(vs)
