#!/usr/bin/env python3
"""Encode and decode speed of neuvc per backend, OpenCL beside the CPU ones
(run by `make bench`).

    tools/bench_backends.py [--build build] [--frames 8] [--threads 2]
                            [--backends avx512,avx2,opencl] [--json FILE]

On the first --frames frames of a 1920x1080 clip (default: the evaluation
clip laptop_woman_1080p.mp4, converted once into BUILD/bench), for each
backend: neuvc-enc --cpu X (keyint 4: I and P frames), then neuvc-dec
--cpu X of the first backend's stream.  Prints frames per second (wall
time of the whole program, so the OpenCL rows include loading the cached
kernel binary), whether every backend wrote the same stream and decoded
the same pictures (the integer contract), and the OpenCL device.

PoCL, the OpenCL platform of CI and of this machine, runs the kernels on
the CPU's own cores: its fps say that the OpenCL path works and what it
costs there, not what a phone GPU does (docs/opencl.md estimates that).
A backend the machine lacks is listed as 'n/a: <reason>', never timed.
"""

import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clips as cliplib  # noqa: E402

DEFAULT_CLIP = 'laptop_woman_1080p.mp4'


def parse_args(argv):
    ap = argparse.ArgumentParser(description='neuvc fps per backend (CPU levels and OpenCL).')
    ap.add_argument('--build', default=os.path.join(cliplib.REPO, 'build'))
    ap.add_argument('--clip', default=None, help='input video (default $NEUVC_CLIPS/eval/%s)' % DEFAULT_CLIP)
    ap.add_argument('--frames', type=int, default=8, help='frames (8)')
    ap.add_argument('--threads', type=int, default=2, help='--threads of both tools (2)')
    ap.add_argument('--backends', default='avx512,avx2,opencl',
                    help='comma-separated --cpu values, in order (avx512,avx2,opencl)')
    ap.add_argument('--timeout', type=float, default=1200.0, help='seconds before a run is killed')
    ap.add_argument('--json', default=None, metavar='FILE')
    a = ap.parse_args(argv)
    if a.frames < 1 or a.threads < 1:
        ap.error('--frames and --threads must be positive')
    return a


def digest(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def main(argv=None):
    a = parse_args(argv if argv is not None else sys.argv[1:])
    out = os.path.join(a.build, 'bench')
    os.makedirs(out, exist_ok=True)
    src = a.clip or os.path.join(cliplib.eval_dir(), DEFAULT_CLIP)
    if not os.path.isfile(src):
        print('bench_backends: clip %s not found (set NEUVC_CLIPS or --clip)' % src, file=sys.stderr)
        return 1
    clip = cliplib.prepare_clip(src, cliplib.clip_name_from_path(src), a.frames, out)
    n = clip['frames']
    enc = os.path.join(a.build, 'neuvc-enc')
    dec = os.path.join(a.build, 'neuvc-dec')
    cpu = cliplib.cpu_info()
    print('bench_backends: %s, %d frames of %dx%d (keyint 4), %d threads' % (
        os.path.basename(src), n, clip['width'], clip['height'], a.threads))
    load = cliplib.load_average()
    print('CPU: %s, %d logical CPUs; load average %s' % (
        cpu['model'], cpu['logical_cpus'], '%.2f' % load[0] if load else '?'))
    if load and load[0] > 0.5:
        print('warning: other processes use the CPUs: every row measures slower than on an idle machine')
    sys.stdout.flush()

    rows, status, first_nvc, ref_dec = [], 0, None, None
    same_stream, same_pictures = True, True
    device = None
    for be in [b for b in a.backends.split(',') if b]:
        row = {'backend': be, 'enc_fps': None, 'dec_fps': None, 'na': None}
        rows.append(row)
        nvc = os.path.join(out, 'backend_%s.nvc' % be)
        if be == 'opencl':
            # The device, named by the tool itself (one frame, not timed;
            # it also builds and caches the kernels before the timed runs).
            res = cliplib.run_timed([enc, '--cpu', be, '--frames', '1', '--no-progress',
                                     '-o', nvc, clip['y4m']], timeout=a.timeout)
            line = [s for s in res['stderr'].splitlines() if 'OpenCL' in s]
            device = line[0].split('OpenCL: ', 1)[1] if line and 'OpenCL: ' in line[0] else None
            if res['rc'] != 0:
                row['na'] = line[0] if line else cliplib.describe_failure(res)
                print('  %-8s n/a: %s' % (be, row['na']))
                continue
        res = cliplib.run_timed([enc, '--cpu', be, '--keyint', '4', '--threads', str(a.threads),
                                 '--frames', str(n), '--quiet', '-o', nvc, clip['y4m']],
                                timeout=a.timeout)
        if res['rc'] != 0:
            row['na'] = res['stderr'].strip().splitlines()[-1] if res['stderr'].strip() else \
                cliplib.describe_failure(res)
            if not (cliplib.not_supported(res) or 'unavailable' in row['na']):
                status = 1
            print('  %-8s n/a: %s' % (be, row['na']))
            continue
        row['enc_fps'] = n / res['wall']
        if first_nvc is None:
            first_nvc = nvc
        elif digest(nvc) != digest(first_nvc):
            same_stream = False
            status = 1
        y4m = os.path.join(out, 'backend_%s.y4m' % be)
        res = cliplib.run_timed([dec, '--cpu', be, '--threads', str(a.threads), '--quiet',
                                 '-o', y4m, first_nvc], timeout=a.timeout)
        if res['rc'] != 0:
            row['na'] = 'decoder: ' + cliplib.describe_failure(res)
            status = 1
            continue
        row['dec_fps'] = n / res['wall']
        d = digest(y4m)
        os.unlink(y4m)
        if ref_dec is None:
            ref_dec = d
        elif d != ref_dec:
            same_pictures = False
            status = 1
        print('  %-8s encode %7.2f fps   decode %7.2f fps' % (be, row['enc_fps'], row['dec_fps']))
        sys.stdout.flush()

    print()
    print('%-8s %10s %10s   %s' % ('backend', 'enc fps', 'dec fps', 'device'))
    for r in rows:
        dev = device if r['backend'] == 'opencl' else cpu['model']
        if r['na']:
            print('%-8s %s' % (r['backend'], 'n/a: ' + r['na']))
        else:
            print('%-8s %10.2f %10.2f   %s' % (r['backend'], r['enc_fps'], r['dec_fps'], dev))
    print('every backend wrote the same stream: %s; decoded the same pictures: %s' % (
        'yes' if same_stream else 'NO', 'yes' if same_pictures else 'NO'))
    if device and 'Portable Computing Language' in device:
        print('note: PoCL runs the OpenCL kernels on this CPU\'s cores; it is not a phone GPU '
              '(docs/opencl.md estimates the frame time on Adreno / Mali GPUs)')
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'clip': src, 'frames': n, 'width': clip['width'], 'height': clip['height'],
                       'threads': a.threads, 'cpu': cpu, 'opencl_device': device, 'rows': rows,
                       'same_stream': same_stream, 'same_pictures': same_pictures}, f, indent=1)
    return status


if __name__ == '__main__':
    sys.exit(main())
