#!/usr/bin/env python3
"""Stage 1: float training of the intra codec (analysis, synthesis,
hyperprior, per-level gains) on ../shared/clips/train.

Resumes from --ckpt (weights, step) and, when present, from the optimizer
state beside it, so a run can span several sittings:
    python3 training/train_intra.py --minutes 120
Checkpoints are written every --save-minutes.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402
import ckpt        # noqa: E402
import data as D   # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "models/checkpoints/intra_latest.pt"))
    ap.add_argument("--state", default=os.path.join(ROOT, "build/train_state/intra_opt.pt"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "build/train_cache/intra.pkl"))
    ap.add_argument("--log", default=os.path.join(ROOT, "build/train_state/intra_log.jsonl"))
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--steps", type=int, default=0, help="stop at this global step (0 = time only)")
    ap.add_argument("--save-minutes", type=float, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--patch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--qp-min", type=float, default=14)
    ap.add_argument("--qp-max", type=float, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rate-mode", choices=["noise", "round"], default="round",
                    help="rate on y + noise, or on the rounded values the coder codes (model.RATE_MODE)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    M.RATE_MODE = args.rate_mode
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    pics = D.load_intra_cache(args.cache)
    print(f"{len(pics)} training pictures", flush=True)
    sampler = D.PatchSampler(pics, args.patch, seed=args.seed + int(time.time()) % 1000)

    net = M.IntraCodec()
    opt, step = ckpt.resume(net, args.ckpt, args.state, args.lr)
    meta = {"stage": "intra-float", "batch": args.batch, "patch": args.patch, "rate_mode": args.rate_mode}

    stop = ckpt.stop_flag()

    t0 = time.time()
    last_save = t0
    acc = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "n": 0}
    logf = open(args.log, "a")
    while True:
        el = time.time() - t0
        if stop["now"] or el > args.minutes * 60 or (args.steps and step >= args.steps):
            break
        y, u, v = sampler.batch(args.batch)
        x6 = M.to_x6(y, u, v)
        qps = [random.uniform(args.qp_min, args.qp_max) for _ in range(args.batch)]
        lw = torch.stack([M.level_weights_for_qp(q) for q in qps])
        lam = torch.tensor([M.lambda_for_qp(q) for q in qps])
        x6_hat, by, bz = net(x6, lw)
        npix = y.shape[2] * y.shape[3]
        bpp = (by + bz) / npix
        mse, _, _, _ = M.yuv_mse(x6, x6_hat)
        loss = (bpp + lam * mse).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        step += 1
        acc["loss"] += loss.item()
        acc["bpp"] += bpp.mean().item()
        acc["psnr"] += (10 * torch.log10(255.0 ** 2 / mse.clamp(min=1e-6))).mean().item()
        acc["n"] += 1
        if step % 100 == 0:
            n = acc["n"]
            rec = {"step": step, "t": round(time.time() - t0, 1), "loss": acc["loss"] / n,
                   "bpp": acc["bpp"] / n, "psnr": acc["psnr"] / n,
                   "sps": round(n / max(1e-9, time.time() - acc.get("t", t0)), 2)}
            print(json.dumps(rec), flush=True)
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
            acc = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "n": 0, "t": time.time()}
        if time.time() - last_save > args.save_minutes * 60:
            ckpt.save_all(args.ckpt, args.state, net, opt, step, meta)
            last_save = time.time()
    ckpt.save_all(args.ckpt, args.state, net, opt, step, meta)
    print(f"done at step {step}", flush=True)


if __name__ == "__main__":
    main()
