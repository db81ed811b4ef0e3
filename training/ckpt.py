"""Checkpoints shared by the training stages: weights-only files that a
later sitting resumes from, the optimizer state beside them (used only
when it belongs to the same step), and a stop flag set by SIGTERM/SIGINT
so a run ends with a save instead of losing its last minutes."""
import os
import signal

import torch


def save(path, net, step, meta):
    """Weights, step and metadata, written atomically."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    torch.save({"state_dict": net.state_dict(), "step": step, "meta": meta}, tmp)
    os.replace(tmp, path)


def save_all(ckpt_path, state_path, net, opt, step, meta):
    save(ckpt_path, net, step, meta)
    os.makedirs(os.path.dirname(os.path.abspath(state_path)), exist_ok=True)
    torch.save({"opt": opt.state_dict(), "step": step}, state_path)


def resume(net, ckpt_path, state_path, lr):
    """Loads ckpt_path into net when it exists; returns (Adam optimizer with
    learning rate lr, step), the optimizer state restored when state_path
    was saved at that step."""
    step = 0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu")
        net.load_state_dict(ck["state_dict"])
        step = ck["step"]
        print(f"resumed from {ckpt_path} at step {step}", flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    if step > 0 and os.path.exists(state_path):
        st = torch.load(state_path, map_location="cpu")
        if st.get("step") == step:
            opt.load_state_dict(st["opt"])
            print("optimizer state restored", flush=True)
    for g in opt.param_groups:
        g["lr"] = lr
    return opt, step


def stop_flag():
    """A dict whose "now" becomes True on SIGTERM or SIGINT."""
    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop
