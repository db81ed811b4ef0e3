#!/usr/bin/env python3
"""Speed of neuvc against x264 and FFmpeg's H.264 decoder (run by `make bench`).

    tools/bench.py [--build build] [--threads 2] [--reps 3] [--frames 64] [--json FILE]

On the first --frames frames of a 1920x1080 clip (default: the evaluation
clip laptop_woman_1080p.mp4, converted to Y4M once and cached in
BUILD/bench), each repetition runs, at the same thread count:

  neuvc-enc  --keyint 32 [--qp Q]                          -> .nvc
  neuvc-dec  -o /dev/null                                  (the .nvc just made)
  x264 --preset ultrafast --tune zerolatency --keyint 32 --min-keyint 32 --no-scenecut
  x264 --preset veryfast  --tune zerolatency (same options)
  ffmpeg -threads N -i x264_veryfast.264 -f null -         (H.264 decode)

then, once, tests/bench_latency (the public API, one picture at a time) on
the first --latency-frames frames, in constant qp and in video-call mode
(--call-params: bitrate, VBV, intra refresh), printing per-frame encode
and decode latency (median and 99th percentile, milliseconds);
and reports the median frames per second of each whole program (wall
time), where neuvc's time goes per frame (networks, motion search and
OBMC, entropy coding, and the rest: I/O, picture conversion, headers;
from the NEUVC_PROFILE=1 line each neuvc run prints), its peak memory (max RSS of the child, from wait4), the bitrate of
what it wrote, and the ratios neuvc / x264 and neuvc-dec / ffmpeg.  The
neuvc rows read 'n/a: <reason>' while the tools are missing or say that
something is not supported.  Exit status 1 when x264 or ffmpeg fail or a
neuvc tool fails for another reason (a crash, a wrong frame count).
"""

import argparse
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import clips as cliplib  # noqa: E402
    import metrics  # noqa: E402
except ImportError as _e:
    sys.exit('%s: %s. Use a Python with numpy, e.g. /usr/bin/python3 with Debian\'s '
             'python3-numpy (and python3-matplotlib for plots).' % (os.path.basename(__file__), _e))

REPO = cliplib.REPO
DEFAULT_CLIP = 'laptop_woman_1080p.mp4'
REALTIME_FPS = 30.0
PROFILE_RE = re.compile(r'neuvc-profile: \w+ (\d+) frames, (\d+) threads, ([\w+]+) kernels: networks '
                        r'([\d.]+) ms, motion ([\d.]+) ms, entropy ([\d.]+) ms per frame')
STAGES = ('networks', 'motion', 'entropy')


def parse_args(argv):
    ap = argparse.ArgumentParser(description='neuvc vs x264 / FFmpeg speed at 1080p.')
    ap.add_argument('--build', default=os.path.join(REPO, 'build'),
                    help='where neuvc-enc and neuvc-dec are (build)')
    ap.add_argument('--clip', default=None,
                    help='input video (default $NEUVC_CLIPS/eval/%s)' % DEFAULT_CLIP)
    ap.add_argument('--frames', type=int, default=64, help='frames to encode (64)')
    ap.add_argument('--threads', type=int, default=2, help='threads for every tool (2)')
    ap.add_argument('--reps', type=int, default=3, help='repetitions; the median is reported (3)')
    ap.add_argument('--qp', type=int, default=None, help='neuvc-enc --qp (default: the tool default)')
    ap.add_argument('--crf', type=int, default=None, help='x264 --crf (default: x264 default, 23)')
    ap.add_argument('--keyint', type=int, default=32, help='intra period of both encoders (32)')
    ap.add_argument('--cpu', default=None, metavar='X', help='neuvc --cpu X (ref, avx2, avx512, ...)')
    ap.add_argument('--out', default=None, help='work directory (BUILD/bench)')
    ap.add_argument('--json', default=None, metavar='FILE', help="also write results as JSON ('-': stdout)")
    ap.add_argument('--timeout', type=float, default=900.0, help='seconds before a run is killed')
    ap.add_argument('--latency-frames', type=int, default=32,
                    help='frames of the per-frame latency measurement (32; 0: skip)')
    ap.add_argument('--call-params', default='bitrate=3000:vbv-maxrate=3000:vbv-bufsize=1500:'
                    'intra-refresh=1', help='encoder settings of the video-call latency run')
    a = ap.parse_args(argv)
    if a.frames < 1 or a.threads < 1 or a.reps < 1:
        ap.error('--frames, --threads and --reps must be positive')
    if a.out is None:
        a.out = os.path.join(a.build, 'bench')
    return a


class Tool:
    def __init__(self, name, cmd, out_file=None):
        self.name = name
        self.cmd = cmd
        self.out_file = out_file
        self.runs = []
        self.na = None          # reason when not measured
        self.error = False      # a real failure (not "not supported yet")

    def summary(self, frames, fps_in):
        d = {'name': self.name, 'cmd': ' '.join(self.cmd) if self.cmd else None}
        if self.na:
            d['status'] = 'n/a: ' + self.na
            return d
        walls = [r['wall'] for r in self.runs]
        d['status'] = 'ok'
        d['seconds'] = walls
        d['fps_all'] = [frames / w for w in walls]
        d['fps'] = statistics.median(d['fps_all'])
        d['seconds_median'] = statistics.median(walls)
        d['maxrss_mib'] = max(r['maxrss_kib'] for r in self.runs) / 1024.0
        d['cpu_seconds_median'] = statistics.median(r['utime'] + r['stime'] for r in self.runs)
        profs = [r['profile'] for r in self.runs if r.get('profile')]
        if profs:
            d['stages_ms'] = {k: statistics.median(p[k] for p in profs) for k in STAGES}
            d['stages_ms']['rest (I/O, conversion, headers)'] = max(
                0.0, 1e3 * d['seconds_median'] / frames - sum(d['stages_ms'][k] for k in STAGES))
            d['kernels'] = profs[0]['kernels']
        if self.out_file and os.path.exists(self.out_file):
            d['bytes'] = os.path.getsize(self.out_file)
            d['kbps'] = d['bytes'] * 8.0 / (frames / fps_in) / 1000.0
        return d


def main(argv=None):
    a = parse_args(argv if argv is not None else sys.argv[1:])
    os.makedirs(a.out, exist_ok=True)
    try:
        x264 = cliplib.need('x264')
        ffmpeg = cliplib.need('ffmpeg')
    except RuntimeError as e:
        print('bench: %s' % e, file=sys.stderr)
        return 1
    src = a.clip or os.path.join(cliplib.eval_dir(), DEFAULT_CLIP)
    if not os.path.isfile(src):
        print('bench: clip %s not found (set NEUVC_CLIPS or --clip)' % src, file=sys.stderr)
        return 1
    name = cliplib.clip_name_from_path(src)
    clip = cliplib.prepare_clip(src, name, a.frames, a.out)
    n = clip['frames']
    if (clip['width'], clip['height']) != (1920, 1080):
        print('bench: note: %s is %dx%d, not 1920x1080' % (src, clip['width'], clip['height']))
    t = str(a.threads)
    k = str(a.keyint)
    y4m = clip['y4m']
    nvc = os.path.join(a.out, 'neuvc.nvc')
    x_uf = os.path.join(a.out, 'x264_ultrafast.264')
    x_vf = os.path.join(a.out, 'x264_veryfast.264')
    for stale in (nvc, x_uf, x_vf):
        if os.path.exists(stale):
            os.unlink(stale)

    def x264_cmd(preset, out):
        c = [x264, '--preset', preset, '--tune', 'zerolatency', '--keyint', k, '--min-keyint', k,
             '--no-scenecut', '--threads', t, '--frames', str(n), '--no-progress']
        if a.crf is not None:
            c += ['--crf', str(a.crf)]
        return c + ['-o', out, y4m]

    enc_path = os.path.join(a.build, 'neuvc-enc')
    dec_path = os.path.join(a.build, 'neuvc-dec')
    enc_cmd = [enc_path, '--keyint', k, '--threads', t, '--frames', str(n), '--quiet']
    if a.qp is not None:
        enc_cmd += ['--qp', str(a.qp)]
    if a.cpu:
        enc_cmd += ['--cpu', a.cpu]
    enc_cmd += ['-o', nvc, y4m]
    dec_cmd = [dec_path, '--threads', t, '--quiet', '-o', '/dev/null', nvc]

    tools = {
        'neuvc-enc': Tool('neuvc-enc', enc_cmd, nvc),
        'neuvc-dec': Tool('neuvc-dec', dec_cmd),
        'x264 ultrafast': Tool('x264 ultrafast', x264_cmd('ultrafast', x_uf), x_uf),
        'x264 veryfast': Tool('x264 veryfast', x264_cmd('veryfast', x_vf), x_vf),
        'ffmpeg h264 dec': Tool('ffmpeg h264 dec', [ffmpeg, '-nostdin', '-hide_banner', '-loglevel',
                                                    'error', '-threads', t, '-i', x_vf, '-f', 'null', '-']),
    }
    for p, tl in ((enc_path, 'neuvc-enc'), (dec_path, 'neuvc-dec')):
        if not (os.path.isfile(p) and os.access(p, os.X_OK)):
            tools[tl].na = '%s not found (build it with make)' % p
    if tools['neuvc-enc'].na and not tools['neuvc-dec'].na:
        tools['neuvc-dec'].na = 'no stream: ' + tools['neuvc-enc'].na

    cpu = cliplib.cpu_info()
    load_before = cliplib.load_average()
    print('bench: %s, first %d frames (%dx%d, %.2f fps), %d threads per tool, %d repetitions (median)'
          % (os.path.basename(src), n, clip['width'], clip['height'], clip['fps'], a.threads, a.reps))
    print('CPU: %s, %d logical CPUs, %s' % (cpu['model'], cpu['logical_cpus'],
                                            ' '.join(cpu['flags']) or 'no AVX2/AVX-512/NEON flags seen'))
    if load_before and load_before[0] > 0.5:
        print('warning: load average %.2f before the run: other processes use the CPUs, '
              'so every tool measures slower than on an idle machine' % load_before[0])
    sys.stdout.flush()

    status = 0
    order = ['x264 ultrafast', 'x264 veryfast', 'ffmpeg h264 dec', 'neuvc-enc', 'neuvc-dec']
    for rep in range(a.reps):
        for name_ in order:
            tool = tools[name_]
            if tool.na:
                continue
            env = dict(os.environ, NEUVC_PROFILE='1') if name_.startswith('neuvc') else None
            res = cliplib.run_timed(tool.cmd, timeout=a.timeout, env=env)
            m = PROFILE_RE.search(res.get('stderr') or '')
            if m:
                res['profile'] = {'kernels': m.group(3), 'networks': float(m.group(4)),
                                  'motion': float(m.group(5)), 'entropy': float(m.group(6))}
            ok = res['rc'] == 0
            why = None
            if ok and tool.out_file and not os.path.exists(tool.out_file):
                ok, why = False, 'wrote no %s' % tool.out_file
            if not ok:
                why = why or cliplib.describe_failure(res)
                if name_.startswith('neuvc') and cliplib.not_supported(res):
                    tool.na = why
                else:
                    tool.na = 'FAILED: ' + why
                    tool.error = True
                    status = 1
                if name_ == 'neuvc-enc' and not tools['neuvc-dec'].na:
                    tools['neuvc-dec'].na = 'no stream: neuvc-enc ' + tool.na
                if name_ == 'x264 veryfast' and not tools['ffmpeg h264 dec'].na:
                    tools['ffmpeg h264 dec'].na = 'no stream: x264 veryfast failed'
                    status = 1
                continue
            tool.runs.append(res)
            print('  rep %d  %-16s %7.1f fps  %6.2f s  max RSS %6.0f MiB'
                  % (rep + 1, name_, n / res['wall'], res['wall'], res['maxrss_kib'] / 1024.0))
            sys.stdout.flush()
    if not tools['neuvc-dec'].na and os.path.exists(nvc):
        # one extra decode to a file, outside the timing, to check the frame count
        chk = os.path.join(a.out, 'neuvc_check.y4m')
        res = cliplib.run_timed(dec_cmd[:-3] + ['-o', chk, nvc], timeout=a.timeout)
        if res['rc'] == 0:
            with metrics.Y4MReader(chk) as r:
                got = r.count_frames()
                size = (r.width, r.height)
            if got != n or size != (clip['width'], clip['height']):
                tools['neuvc-dec'].error = True
                tools['neuvc-dec'].na = 'FAILED: decoded %d frames of %dx%d, expected %d of %dx%d' % (
                    got, size[0], size[1], n, clip['width'], clip['height'])
                status = 1
        if os.path.exists(chk):
            os.unlink(chk)
    latency = {}
    lat_bin = os.path.join(a.build, 'tests', 'bench_latency')
    if a.latency_frames > 0 and os.access(lat_bin, os.X_OK):
        for mode, prm in (('constant qp', None), ('video call', a.call_params)):
            cmd = [lat_bin, y4m, str(min(a.latency_frames, n)), t]
            if prm or a.qp is not None:
                cmd.append(prm or 'qp=%d' % a.qp)
            res = cliplib.run_timed(cmd, stdout_path=os.path.join(a.out, 'latency.txt'),
                                    timeout=a.timeout)
            with open(os.path.join(a.out, 'latency.txt')) as f:
                line = f.read().strip()
            if res['rc'] != 0 or not line.startswith('latency'):
                latency[mode] = 'FAILED: ' + cliplib.describe_failure(res)
                status = 1
            else:
                latency[mode] = line
            print('  %-12s %s%s' % (mode, latency[mode], '' if not prm else ' [%s]' % prm))
            sys.stdout.flush()
    elif a.latency_frames > 0:
        latency['error'] = 'n/a: %s not built (make tests)' % lat_bin
        print('  latency: ' + latency['error'])
    load_after = cliplib.load_average()

    summ = {k_: v.summary(n, clip['fps']) for k_, v in tools.items()}

    def ratio(num, den):
        if summ[num].get('fps') and summ[den].get('fps'):
            return summ[num]['fps'] / summ[den]['fps']
        return None

    ratios = {
        'neuvc-enc / x264 ultrafast': ratio('neuvc-enc', 'x264 ultrafast'),
        'neuvc-enc / x264 veryfast': ratio('neuvc-enc', 'x264 veryfast'),
        'neuvc-dec / ffmpeg h264 dec': ratio('neuvc-dec', 'ffmpeg h264 dec'),
    }

    print()
    print('%-18s %9s %9s %12s %10s   %s' % ('tool', 'fps', 'seconds', 'max RSS MiB', 'kbit/s', 'command'))
    for name_ in ['neuvc-enc', 'x264 ultrafast', 'x264 veryfast', 'neuvc-dec', 'ffmpeg h264 dec']:
        s = summ[name_]
        if s['status'] != 'ok':
            print('%-18s %s' % (name_, s['status']))
            continue
        print('%-18s %9.1f %9.2f %12.0f %10s   %s' % (
            name_, s['fps'], s['seconds_median'], s['maxrss_mib'],
            '%.0f' % s['kbps'] if 'kbps' in s else '-', s['cmd']))
    print()
    for k_, v in ratios.items():
        print('%-30s %s' % (k_, '%.3f' % v if v is not None else 'n/a'))
    for name_ in ('neuvc-enc', 'neuvc-dec'):
        s = summ[name_]
        if s.get('fps'):
            print('%s real-time (%.0f fps at %dx%d, %d threads): %s (%.1f fps)'
                  % (name_, REALTIME_FPS, clip['width'], clip['height'], a.threads,
                     'yes' if s['fps'] >= REALTIME_FPS else 'NO', s['fps']))
    for name_ in ('neuvc-enc', 'neuvc-dec'):
        st = summ[name_].get('stages_ms')
        if st:
            print('%s time per frame (%s kernels, median): %s' % (
                name_, summ[name_]['kernels'],
                ', '.join('%s %.1f ms' % (k_, v) for k_, v in st.items())))
    print('threads %d; CPU %s; load average before %s, after %s' % (
        a.threads, cpu['model'],
        '%.2f' % load_before[0] if load_before else '?', '%.2f' % load_after[0] if load_after else '?'))

    if a.json:
        doc = {'clip': os.path.abspath(src), 'clip_name': name, 'frames': n,
               'width': clip['width'], 'height': clip['height'], 'fps_source': clip['fps'],
               'threads': a.threads, 'reps': a.reps, 'keyint': a.keyint, 'neuvc_qp': a.qp,
               'x264_crf': a.crf if a.crf is not None else 'default (23)',
               'cpu': cpu, 'load_before': load_before, 'load_after': load_after,
               'commit': cliplib.git_commit(),
               'x264_version': cliplib.tool_version([x264, '--version']),
               'ffmpeg_version': cliplib.tool_version([ffmpeg, '-version']).split(' Copyright')[0],
               'tools': summ, 'ratios': ratios, 'latency': latency, 'status': status}
        text = json.dumps(doc, indent=1)
        if a.json == '-':
            print(text)
        else:
            with open(a.json, 'w') as f:
                f.write(text + '\n')
    return status


if __name__ == '__main__':
    sys.exit(main())
