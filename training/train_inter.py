#!/usr/bin/env python3
"""Stage 2: the inter model, with the intra model frozen.

Each step codes a short sequence: frame 0 with the frozen intra model,
then frames 1..n-1 as P frames, each predicted by OBMC from the previous
RECONSTRUCTION with vectors searched offline (training/data_seq.py).  The
loss (rate + lambda * 6:1:1 MSE) is averaged over the P frames and the
gradient flows back through the references (unrolled training), so error
does not pile up along the GOP.

    python3 training/train_inter.py --minutes 90
Resumes from --ckpt (and the optimizer state beside it).
"""
import argparse
import json
import os
import random
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M       # noqa: E402
import ckpt             # noqa: E402
import model_p as MP    # noqa: E402
import motion as Mo     # noqa: E402
import data_seq as DS   # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))



def round8(x):
    """Reference pictures are 8-bit in the codec: round with a straight-
    through gradient."""
    return x + (torch.round(x.clamp(0, 1) * 255) / 255 - x).detach()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--intra", default=os.path.join(ROOT, "models/checkpoints/intra_latest.pt"))
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "models/checkpoints/inter_latest.pt"))
    ap.add_argument("--state", default=os.path.join(ROOT, "build/train_state/inter_opt.pt"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "build/train_cache/seq3.pkl"))
    ap.add_argument("--log", default=os.path.join(ROOT, "build/train_state/inter_log.jsonl"))
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--save-minutes", type=float, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--qp-min", type=float, default=14)
    ap.add_argument("--qp-max", type=float, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rate-mode", choices=["noise", "round"], default="round",
                    help="rate on y + noise, or on the rounded values the coder codes (model.RATE_MODE)")
    ap.add_argument("--seed", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    M.RATE_MODE = args.rate_mode
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    intra = M.IntraCodec()
    ck = torch.load(args.intra, map_location="cpu")
    intra.load_state_dict(ck["state_dict"])
    intra.eval()
    for p in intra.parameters():
        p.requires_grad_(False)
    intra_step = ck.get("step", 0)

    net = MP.InterCodec(intra)
    opt, step = ckpt.resume(net, args.ckpt, args.state, args.lr)
    sampler = DS.SeqSampler(DS.load(args.cache), seed=args.seed + int(time.time()) % 1000, crop=args.crop)
    logf = open(args.log, "a")
    meta = {"stage": "inter-float", "intra_step": intra_step, "batch": args.batch, "crop": args.crop,
            "rate_mode": args.rate_mode}

    stop = ckpt.stop_flag()

    t0 = time.time()
    last_save = t0
    acc = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "pred_psnr": 0.0, "n": 0, "t": t0}
    while not stop["now"] and time.time() - t0 < args.minutes * 60:
        frames = sampler.batch(args.batch)
        qps = [random.uniform(args.qp_min, args.qp_max) for _ in range(args.batch)]
        lw = torch.stack([M.level_weights_for_qp(q) for q in qps])
        lam = torch.tensor([M.lambda_for_qp(q) for q in qps])
        y0, u0, v0, _ = frames[0]
        with torch.no_grad():
            x6h, _, _ = intra(M.to_x6(y0, u0, v0), lw, noise=False)
        ref = M.from_x6(round8(x6h))
        loss = 0.0
        bpp_sum, psnr_sum, ppsnr_sum = 0.0, 0.0, 0.0
        for k in range(1, len(frames)):
            y, u, v, mv = frames[k]
            x6 = M.to_x6(y, u, v)
            py, pu, pv = Mo.mc_yuv(ref[0] * 255, ref[1] * 255, ref[2] * 255, mv)
            p6 = M.to_x6(py / 255, pu / 255, pv / 255)
            x6h, by, bz = net(x6, p6, lw)
            npix = y.shape[2] * y.shape[3]
            bpp = (by + bz) / npix
            mse, _, _, _ = M.yuv_mse(x6, x6h)
            loss = loss + (bpp + lam * mse).mean()
            with torch.no_grad():
                pmse, _, _, _ = M.yuv_mse(x6, p6)
                bpp_sum += bpp.mean().item()
                psnr_sum += (10 * torch.log10(255.0 ** 2 / mse.clamp(min=1e-6))).mean().item()
                ppsnr_sum += (10 * torch.log10(255.0 ** 2 / pmse.clamp(min=1e-6))).mean().item()
            ref = M.from_x6(round8(x6h))
        nP = len(frames) - 1
        loss = loss / nP
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        step += 1
        acc["loss"] += loss.item()
        acc["bpp"] += bpp_sum / nP
        acc["psnr"] += psnr_sum / nP
        acc["pred_psnr"] += ppsnr_sum / nP
        acc["n"] += 1
        if step % 50 == 0:
            n = acc["n"]
            rec = {"step": step, "t": round(time.time() - t0, 1), "loss": acc["loss"] / n,
                   "bpp": acc["bpp"] / n, "psnr": acc["psnr"] / n, "pred_psnr": acc["pred_psnr"] / n,
                   "sps": round(n / max(1e-9, time.time() - acc["t"]), 2)}
            print(json.dumps(rec), flush=True)
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
            acc = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "pred_psnr": 0.0, "n": 0, "t": time.time()}
        if time.time() - last_save > args.save_minutes * 60:
            ckpt.save_all(args.ckpt, args.state, net, opt, step, meta)
            last_save = time.time()
    ckpt.save_all(args.ckpt, args.state, net, opt, step, meta)
    print(f"done at step {step}", flush=True)


if __name__ == "__main__":
    main()
