#!/usr/bin/env python3
"""Rate-control accuracy of neuvc-enc (issue: video-call mode).

For every clip (default: the evaluation clips of clips/manifest, first 96
frames) it encodes
  - the fixed-qp curve at --qps (the RD curve the rate control is judged
    against), and
  - one run with --bitrate T --vbv-maxrate T --vbv-bufsize T*bufsize_s per
    target T, the targets being the fixed-qp bitrates at --target-qps
    (so each target is reachable),
and prints per run: target and achieved bitrate (payload bytes of all
packets, the bytes the rate control steers), the error, the largest VBV
buffer fullness (simulated from the packet sizes: each frame adds its
bits, maxrate / fps drains per frame; overflow = above bufsize), the
largest frame, PSNR-YUV (6Y+U+V)/8 of the rate-controlled run and of the
fixed-qp curve interpolated (linearly in log-rate) at the same achieved
bitrate, i.e. the quality cost of rate control at equal size.  With
--refresh every rate-controlled run is coded again with the same
settings and --intra-refresh, and both modes' largest frames after the
first (an I frame in both) are printed, with their rates and costs.

    tools/rc_eval.py [--frames 96] [--fps F] [--refresh] [FILE ...] [--json OUT]

Tune nothing on the evaluation clips: use FILE arguments from the train
clips for that.
"""
import argparse
import json
import math
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clips  # noqa: E402

REPO = clips.REPO


def packets(path):
    """[(frame_type, qp, payload_size)] of a .nvc file."""
    with open(path, 'rb') as f:
        d = f.read()
    out, p = [], 100
    while p < len(d):
        n, _ = struct.unpack_from('<Iq', d, p)
        p += 12
        out.append((d[p], d[p + 1], n))
        p += n
    return out


def encode(enc, y4m, out, frames, opts):
    cmd = [enc, '--frames', str(frames), '--no-progress', '-o', out] + opts + [y4m]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError('%s failed: %s' % (' '.join(cmd), r.stderr.strip()))
    m = re.search(r'YUV ([0-9.]+) dB', r.stderr)
    if not m:
        raise RuntimeError('no PSNR in: %s' % r.stderr)
    return float(m.group(1)), packets(out)


def kbps(pk, fps):
    return sum(n for _, _, n in pk) * 8 / 1000.0 / (len(pk) / fps)


def vbv_max_fill(pk, fps, maxrate_kbps, bufsize_kbit):
    fill, top = 0.0, 0.0
    for _, _, n in pk:
        fill += n * 8 / 1000.0
        top = max(top, fill)
        fill = max(0.0, fill - maxrate_kbps / fps)
    return top / bufsize_kbit


def interp_psnr(curve, rate):
    """PSNR of the fixed-qp curve [(kbps, psnr)] at rate, linear in
    log(rate); None outside the curve."""
    c = sorted(curve)
    for (r0, p0), (r1, p1) in zip(c, c[1:]):
        if r0 <= rate <= r1 and r1 > r0:
            t = (math.log(rate) - math.log(r0)) / (math.log(r1) - math.log(r0))
            return p0 + t * (p1 - p0)
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('files', nargs='*', help='clips (default: the evaluation clips)')
    ap.add_argument('--frames', type=int, default=96)
    ap.add_argument('--qps', default='26,32,38,44', help='fixed-qp curve')
    ap.add_argument('--target-qps', default='32,38', help='targets: the curve rates at these qp')
    ap.add_argument('--bufsize-s', type=float, default=1.0, help='VBV buffer, seconds of maxrate')
    ap.add_argument('--keyint', type=int, default=32)
    ap.add_argument('--fps', type=float, default=0,
                    help='code at this frame rate instead of the clip\'s (tuning short calls '
                         'on train clips at several rates)')
    ap.add_argument('--out', default=os.path.join(REPO, 'build', 'rc_eval'))
    ap.add_argument('--json', help='write every run here')
    ap.add_argument('--enc', default=os.path.join(REPO, 'build', 'neuvc-enc'),
                    help='the encoder to measure')
    ap.add_argument('--refresh', action='store_true',
                    help='also code each rate-controlled run again with --intra-refresh and '
                         'print the peak frame sizes (after the first frame) of both modes')
    a = ap.parse_args(argv)
    enc = a.enc
    if a.files:
        todo = [(f, clips.clip_name_from_path(f)) for f in a.files]
    else:
        d = clips.eval_dir()
        todo = [(os.path.join(d, c['file']), c['name']) for c in clips.read_manifest()]
    qps = [int(q) for q in a.qps.split(',')]
    tqps = [int(q) for q in a.target_qps.split(',')]
    os.makedirs(a.out, exist_ok=True)
    rows = []
    fixed_runs = {}                               # (clip, qp) -> (psnr, packets)
    curves = {}                                   # clip -> [(kbps, psnr)] at --qps
    print('%-28s %9s %9s %7s %8s %9s %7s %7s %7s' % ('clip', 'target', 'achieved', 'error',
          'max_vbv', 'max_frame', 'psnr', 'fixed', 'cost'))
    for src, name in todo:
        info = clips.prepare_clip(src, name, a.frames, os.path.join(a.out, 'clips'))
        fps, n = a.fps or info['fps'], min(a.frames, info['frames'])
        fpsopt = ['--fps', '%d/1000' % round(a.fps * 1000)] if a.fps else []
        curve, at = [], {}
        for q in sorted(set(qps + tqps)):
            ps, pk = encode(enc, info['y4m'], os.path.join(a.out, '%s_q%d.nvc' % (name, q)), n,
                            ['--qp', str(q), '--keyint', str(a.keyint)] + fpsopt)
            fixed_runs[(name, q)] = (ps, pk)
            at[q] = kbps(pk, fps)
            if q in qps:
                curve.append((at[q], ps))
        curves[name] = curve
        for q in tqps:
            t = max(1, int(round(at[q])))
            buf = max(1, int(round(t * a.bufsize_s)))
            ps, pk = encode(enc, info['y4m'], os.path.join(a.out, '%s_rc%d.nvc' % (name, t)), n,
                            ['--bitrate', str(t), '--vbv-maxrate', str(t), '--vbv-bufsize',
                             str(buf), '--keyint', str(a.keyint)] + fpsopt)
            got = kbps(pk, fps)
            fill = vbv_max_fill(pk, fps, t, buf)
            fixed = interp_psnr(curve, got)
            row = {'clip': name, 'width': info['width'], 'height': info['height'],
                   'frames': n, 'target_kbps': t, 'achieved_kbps': got,
                   'error': got / t - 1, 'max_vbv_fill': fill,
                   'max_frame_bytes': max(s for _, _, s in pk), 'psnr_yuv': ps,
                   'fixed_qp_psnr_at_rate': fixed,
                   'qps': [q for _, q, _ in pk], 'types': [ty for ty, _, _ in pk],
                   'sizes': [s_ for _, _, s_ in pk]}
            rows.append(row)
            print('%-28s %9d %9.1f %+6.1f%% %7.0f%% %9d %7.2f %7s %7s' % (
                name[:28], t, got, 100 * row['error'], 100 * fill, row['max_frame_bytes'], ps,
                '-' if fixed is None else '%.2f' % fixed,
                '-' if fixed is None else '%+.2f' % (ps - fixed)), flush=True)
    if a.refresh:
        # The call setting: the same --bitrate / VBV as the runs above,
        # periodic keyframes (keyint) against --intra-refresh; peaks after
        # the first frame (an I frame in both modes).
        print()
        print('%-28s %7s %8s %8s %8s %8s %6s %7s %7s %7s %7s' % (
              'clip', 'target', 'kbps_key', 'kbps_ir', 'peak_key', 'peak_ir', 'ratio', 'psnr_k',
              'psnr_ir', 'cost_k', 'cost_ir'))
        for r in [r for r in rows if r.get('kind') != 'refresh']:
            name, t = r['clip'], r['target_kbps']
            src = [s_ for s_, n_ in todo if n_ == name][0]
            info = clips.prepare_clip(src, name, a.frames, os.path.join(a.out, 'clips'))
            fps, n = a.fps or info['fps'], min(a.frames, info['frames'])
            fpsopt = ['--fps', '%d/1000' % round(a.fps * 1000)] if a.fps else []
            buf = max(1, int(round(t * a.bufsize_s)))
            ir_ps, ir = encode(enc, info['y4m'], os.path.join(a.out, '%s_ir%d.nvc' % (name, t)), n,
                               ['--bitrate', str(t), '--vbv-maxrate', str(t), '--vbv-bufsize',
                                str(buf), '--keyint', str(a.keyint), '--intra-refresh'] + fpsopt)
            pk = list(zip(r['types'], r['qps'], r['sizes']))
            curve = curves[name]
            got_ir = kbps(ir, fps)
            fixed_ir = interp_psnr(curve, got_ir)
            row = {'clip': name, 'frames': n, 'target_kbps': t,
                   'kbps_keyframes': r['achieved_kbps'], 'kbps_refresh': got_ir,
                   'error_refresh': got_ir / t - 1,
                   'max_vbv_fill_refresh': vbv_max_fill(ir, fps, t, buf),
                   'peak_keyframes': max(s_ for _, _, s_ in pk[1:]) if n > 1 else 0,
                   'peak_refresh': max(s_ for _, _, s_ in ir[1:]) if n > 1 else 0,
                   'keyframes_after_first': sum(1 for ty, _, _ in pk[1:] if ty == 0),
                   'psnr_keyframes': r['psnr_yuv'], 'psnr_refresh': ir_ps,
                   'cost_keyframes': None if r['fixed_qp_psnr_at_rate'] is None
                   else r['psnr_yuv'] - r['fixed_qp_psnr_at_rate'],
                   'cost_refresh': None if fixed_ir is None else ir_ps - fixed_ir,
                   'qps_refresh': [q for _, q, _ in ir], 'sizes_refresh': [s_ for _, _, s_ in ir],
                   'sizes_keyframes': [s_ for _, _, s_ in pk]}
            rows.append(dict(row, kind='refresh'))
            f2 = lambda v: '-' if v is None else '%+.2f' % v
            print('%-28s %7d %8.1f %8.1f %8d %8d %6.2f %7.2f %7.2f %7s %7s' % (
                name[:28], t, row['kbps_keyframes'], got_ir, row['peak_keyframes'],
                row['peak_refresh'], row['peak_refresh'] / max(1, row['peak_keyframes']),
                row['psnr_keyframes'], ir_ps, f2(row['cost_keyframes']),
                f2(row['cost_refresh'])), flush=True)
    rows_rc = [r for r in rows if r.get('kind') != 'refresh']
    if rows_rc:
        errs = [abs(r['error']) for r in rows_rc]
        costs = [r['psnr_yuv'] - r['fixed_qp_psnr_at_rate'] for r in rows_rc
                 if r['fixed_qp_psnr_at_rate'] is not None]
        print('runs %d: |error| mean %.1f%% max %.1f%%, within 10%%: %d; max VBV fill %.0f%%; '
              'PSNR vs fixed qp at equal rate: mean %+.2f dB (%d runs inside the curve)'
              % (len(rows_rc), 100 * sum(errs) / len(errs), 100 * max(errs),
                 sum(e <= 0.10 for e in errs), 100 * max(r['max_vbv_fill'] for r in rows_rc),
                 sum(costs) / len(costs) if costs else float('nan'), len(costs)))
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
