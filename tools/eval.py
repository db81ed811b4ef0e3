#!/usr/bin/env python3
"""Rate-distortion evaluation of neuvc against x264 (run by `make eval`).

    tools/eval.py [options] [CLIP ...]

Without CLIP arguments every clip of clips/manifest is taken from
$NEUVC_CLIPS/eval (default ../shared/clips/eval).  Each clip is cut to its
first --frames frames as 8-bit 4:2:0 Y4M (cached in OUT/clips), encoded by
neuvc at each --neuvc-qps value and by x264 at each --presets x --crfs
pair (low delay, --tune zerolatency, intra period --keyint, no scene cut),
decoded, and measured: bitrate from the file size, PSNR Y/U/V and
PSNR-YUV = (6Y+U+V)/8 per frame, MS-SSIM on Y per frame, encoder and
decoder frames per second (wall time of the whole tool) and peak memory.
BD-rate of neuvc against each x264 preset is computed per clip and
averaged.  Outputs in OUT (default build/eval): results.json,
results.csv, summary.md and plots/*.png.  See docs/evaluation.md.

A point already measured with the same command, input, tool binaries and
metric code is reused from OUT/points (say --force to measure again).
"""

import argparse
import concurrent.futures
import csv
import datetime
import hashlib
import json
import math
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import clips as cliplib  # noqa: E402
    import metrics  # noqa: E402
except ImportError as _e:
    sys.exit('%s: %s. Use a Python with numpy, e.g. /usr/bin/python3 with Debian\'s '
             'python3-numpy (and python3-matplotlib for plots).' % (os.path.basename(__file__), _e))

REPO = cliplib.REPO
CONDITIONS = ('Low delay P, intra period 32, the first 32 or 96 frames, 8-bit 4:2:0. '
              'Anchor: x264 --preset veryfast --tune zerolatency (the video-call setting), '
              'plus medium --tune zerolatency, same intra period, no scene cut, CRF 22/27/32/37.')
CAVEAT = ('The clip set is lossy-sourced (all but two raw Y4M files and one FFV1 file were '
          'H.264 or MPEG-4 at 0.4-9 Mbit/s; their decoded frames are the reference) and '
          'mostly 720p. Low-bitrate sources flatter any codec at high rates.')

CSV_FIELDS = ['clip', 'codec', 'preset', 'qp', 'crf', 'frames', 'width', 'height', 'fps',
              'bytes', 'kbps', 'psnr_y', 'psnr_u', 'psnr_v', 'psnr_yuv', 'ms_ssim',
              'ms_ssim_db', 'enc_fps', 'dec_fps', 'enc_maxrss_mib', 'dec_maxrss_mib',
              'threads', 'cached', 'error']


def int_list(s):
    try:
        return [int(x) for x in s.split(',') if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError('expected comma-separated integers: %r' % s)


def str_list(s):
    return [x.strip() for x in s.split(',') if x.strip()]


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description='neuvc vs x264 rate-distortion evaluation (BD-rate, RD plots).',
        epilog='Outputs: OUT/results.json, results.csv, summary.md, plots/. '
               'See docs/evaluation.md.')
    ap.add_argument('clips', nargs='*', metavar='CLIP',
                    help='video files to evaluate (default: clips/manifest from the clips dir)')
    ap.add_argument('--clips-dir', default=None,
                    help='directory of the manifest clips (default $NEUVC_CLIPS/eval or '
                         '../shared/clips/eval)')
    ap.add_argument('--manifest', default=os.path.join(REPO, 'clips', 'manifest'))
    ap.add_argument('--only', type=str_list, default=None, metavar='NAME,...',
                    help='only these manifest clips (names or substrings)')
    ap.add_argument('--frames', type=int, default=32, help='first N frames of each clip (32)')
    ap.add_argument('--keyint', type=int, default=32, help='intra period for both codecs (32)')
    ap.add_argument('--threads', type=int, default=2, help='threads of each encoder/decoder (2)')
    ap.add_argument('--jobs', type=int, default=1, help='encodes run at the same time (1)')
    ap.add_argument('--neuvc-qps', type=int_list, default=[22, 27, 32, 37, 42], metavar='Q,...')
    ap.add_argument('--presets', type=str_list, default=['veryfast', 'medium'], metavar='P,...')
    ap.add_argument('--crfs', type=int_list, default=[22, 27, 32, 37], metavar='C,...')
    ap.add_argument('--no-neuvc', action='store_true', help='x264 only')
    ap.add_argument('--no-x264', action='store_true', help='neuvc only')
    ap.add_argument('--neuvc-cpu', default=None, metavar='X', help='pass --cpu X to neuvc-enc')
    ap.add_argument('--check-recon', action='store_true',
                    help='also write neuvc-enc --recon and check it equals the decoder output '
                         '(adds file writing to the encoder time)')
    ap.add_argument('--build', default=os.path.join(REPO, 'build'),
                    help='where neuvc-enc and neuvc-dec are (build)')
    ap.add_argument('--out', default=None, help='output directory (BUILD/eval)')
    ap.add_argument('--force', action='store_true', help='measure again even if cached')
    ap.add_argument('--keep-decoded', action='store_true', help='keep decoded Y4M files')
    ap.add_argument('--timeout', type=float, default=3600.0,
                    help='seconds before an encoder or decoder run is killed (3600)')
    ap.add_argument('--no-plots', action='store_true')
    a = ap.parse_args(argv)
    if a.out is None:
        a.out = os.path.join(a.build, 'eval')
    if a.frames < 1 or a.keyint < 1 or a.threads < 1 or a.jobs < 1:
        ap.error('--frames, --keyint, --threads and --jobs must be positive')
    return a


class Log:
    def __init__(self):
        self.t0 = time.monotonic()
        self.lock = threading.Lock()

    def elapsed(self):
        s = int(time.monotonic() - self.t0)
        return '%02d:%02d:%02d' % (s // 3600, s // 60 % 60, s % 60)

    def __call__(self, msg):
        with self.lock:
            print('[%s] %s' % (self.elapsed(), msg), flush=True)


# ------------------------------------------------------------------ clips

def collect_clips(a, log):
    """List of (name, source path, description)."""
    if a.clips:
        out = []
        for f in a.clips:
            if not os.path.isfile(f):
                raise SystemExit('eval: %s: no such file' % f)
            out.append((cliplib.clip_name_from_path(f), os.path.abspath(f), 'given on the command line'))
        names = [o[0] for o in out]
        if len(set(names)) != len(names):
            raise SystemExit('eval: two clips have the same name; rename one')
        return out
    d = a.clips_dir or cliplib.eval_dir()
    if not os.path.isdir(d):
        raise SystemExit('eval: clips directory %s not found. Put the clips there or set '
                         'NEUVC_CLIPS (its eval/ subdirectory is used) or --clips-dir.' % d)
    man = cliplib.read_manifest(a.manifest)
    listed = {c['file'] for c in man}
    for f in sorted(os.listdir(d)):
        if f.lower().endswith(cliplib.VIDEO_EXT) and f not in listed:
            log('note: %s is in %s but not in %s; not evaluated' % (f, d, a.manifest))
    out = []
    for c in man:
        if a.only and not any(o == c['name'] or o in c['name'] for o in a.only):
            continue
        p = os.path.join(d, c['file'])
        if not os.path.isfile(p):
            raise SystemExit('eval: manifest clip %s missing: %s' % (c['name'], p))
        out.append((c['name'], p, c['description']))
    if not out:
        raise SystemExit('eval: no clips selected')
    return out


# -------------------------------------------------------------- the tools

def file_sig(path):
    try:
        st = os.stat(path)
        return [os.path.abspath(path), st.st_size, int(st.st_mtime)]
    except OSError:
        return [path, None, None]


def metrics_sig():
    with open(metrics.__file__, 'rb') as f:
        return hashlib.sha1(f.read()).hexdigest()[:12]


def check_neuvc(a):
    """(enc, dec, reason): paths of the tools, or reason why they cannot run."""
    enc = os.path.join(a.build, 'neuvc-enc')
    dec = os.path.join(a.build, 'neuvc-dec')
    for p in (enc, dec):
        if not (os.path.isfile(p) and os.access(p, os.X_OK)):
            return None, None, '%s not found (build it with make)' % p
    return enc, dec, None


# ------------------------------------------------------------------- jobs

def job_id(job):
    if job['codec'] == 'x264':
        return 'x264_%s_crf%d' % (job['preset'], job['crf'])
    return 'neuvc_qp%d' % job['qp']


def job_label(job):
    if job['codec'] == 'x264':
        return 'x264 %s crf%d' % (job['preset'], job['crf'])
    return 'neuvc qp%d' % job['qp']


def curve_name(p):
    return 'x264 ' + p['preset'] if p['codec'] == 'x264' else 'neuvc'


def build_commands(job, clip, a, tools, paths):
    n, k, t = clip['frames'], a.keyint, a.threads
    if job['codec'] == 'x264':
        enc = [tools['x264'], '--preset', job['preset'], '--tune', 'zerolatency',
               '--keyint', str(k), '--min-keyint', str(k), '--no-scenecut',
               '--crf', str(job['crf']), '--threads', str(t), '--frames', str(n),
               '--no-progress', '-o', paths['stream'], clip['y4m']]
        dec = [tools['ffmpeg'], '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
               '-threads', str(t), '-i', paths['stream'], '-pix_fmt', 'yuv420p',
               '-f', 'yuv4mpegpipe', paths['decoded']]
    else:
        enc = [tools['neuvc-enc'], '--qp', str(job['qp']), '--keyint', str(k),
               '--frames', str(n), '--threads', str(t), '--quiet']
        if a.neuvc_cpu:
            enc += ['--cpu', a.neuvc_cpu]
        if a.check_recon:
            enc += ['--recon', paths['recon']]
        enc += ['-o', paths['stream'], clip['y4m']]
        dec = [tools['neuvc-dec'], '--threads', str(t), '--quiet', '-o', paths['decoded'],
               paths['stream']]
    return enc, dec


def same_y4m_frames(p1, p2):
    """True when two Y4M files hold the same size and the same frame data."""
    with metrics.Y4MReader(p1) as r1, metrics.Y4MReader(p2) as r2:
        if (r1.width, r1.height) != (r2.width, r2.height):
            return False
        while True:
            f1, f2 = r1.read_frame(), r2.read_frame()
            if f1 is None or f2 is None:
                return f1 is None and f2 is None
            if any(not (x == y).all() for x, y in zip(f1, f2)):
                return False


def run_job(job, clip, a, tools, state):
    """Encode, decode and measure one point; returns the point dict."""
    jid = job_id(job)
    ext = '.264' if job['codec'] == 'x264' else '.nvc'
    sdir = os.path.join(a.out, 'streams', clip['name'])
    tdir = os.path.join(a.out, 'decoded')
    pdir = os.path.join(a.out, 'points', clip['name'])
    for d in (sdir, tdir, pdir):
        os.makedirs(d, exist_ok=True)
    paths = {'stream': os.path.join(sdir, jid + ext),
             'decoded': os.path.join(tdir, '%s__%s.y4m' % (clip['name'], jid)),
             'recon': os.path.join(tdir, '%s__%s.recon.y4m' % (clip['name'], jid))}
    enc_cmd, dec_cmd = build_commands(job, clip, a, tools, paths)
    point = {'clip': clip['name'], 'codec': job['codec'],
             'preset': job.get('preset', ''), 'qp': job.get('qp', ''), 'crf': job.get('crf', ''),
             'setting': job_label(job), 'frames': clip['frames'], 'width': clip['width'],
             'height': clip['height'], 'fps': clip['fps'], 'threads': a.threads,
             'enc_cmd': ' '.join(enc_cmd), 'dec_cmd': ' '.join(dec_cmd)}
    if job['codec'] == 'x264':
        bins = [file_sig(tools['x264']), file_sig(tools['ffmpeg'])]
    else:
        bins = [file_sig(tools['neuvc-enc']), file_sig(tools['neuvc-dec'])]
    key = hashlib.sha1(json.dumps([enc_cmd, dec_cmd, file_sig(clip['y4m']), bins,
                                   metrics_sig()]).encode()).hexdigest()
    point['key'] = key
    cache = os.path.join(pdir, jid + '.json')
    if not a.force and os.path.exists(cache):
        try:
            with open(cache) as f:
                old = json.load(f)
            if old.get('key') == key and not old.get('error') and os.path.exists(paths['stream']):
                old['cached'] = True
                return old
        except (OSError, ValueError):
            pass
    if job['codec'] == 'neuvc' and state.get('neuvc_off'):
        point['error'] = 'skipped: ' + state['neuvc_off']
        point['skipped'] = True
        return point

    try:
        enc = cliplib.run_timed(enc_cmd, timeout=a.timeout)
        if enc['rc'] != 0:
            point['error'] = 'encoder failed: ' + cliplib.describe_failure(enc)
            if job['codec'] == 'neuvc' and cliplib.not_supported(enc):
                state['neuvc_off'] = 'neuvc-enc says: ' + cliplib.describe_failure(enc)
            return point
        dec = cliplib.run_timed(dec_cmd, timeout=a.timeout)
        if dec['rc'] != 0:
            point['error'] = 'decoder failed: ' + cliplib.describe_failure(dec)
            if job['codec'] == 'neuvc' and cliplib.not_supported(dec):
                state['neuvc_off'] = 'neuvc-dec says: ' + cliplib.describe_failure(dec)
            return point
        nbytes = os.path.getsize(paths['stream'])
        with metrics.Y4MReader(paths['decoded']) as r:
            ndec = r.count_frames()
            dsize = (r.width, r.height)
        if dsize != (clip['width'], clip['height']):
            point['error'] = 'decoded size %dx%d differs from the source' % dsize
            return point
        if ndec != clip['frames']:
            point['error'] = 'decoded %d frames, source has %d' % (ndec, clip['frames'])
            return point
        if job['codec'] == 'neuvc' and a.check_recon:
            point['recon_match'] = same_y4m_frames(paths['recon'], paths['decoded'])
            if not point['recon_match']:
                point['error'] = 'decoder output differs from the encoder reconstruction'
        m = metrics.compare_y4m(clip['y4m'], paths['decoded'])
    finally:
        if not a.keep_decoded:
            for p in (paths['decoded'], paths['recon']):
                if os.path.exists(p):
                    os.unlink(p)
    n = clip['frames']
    seconds = n / clip['fps']
    point.update({
        'bytes': nbytes,
        'kbps': nbytes * 8.0 / seconds / 1000.0,
        'psnr_y': mean(m['psnr_y']), 'psnr_u': mean(m['psnr_u']),
        'psnr_v': mean(m['psnr_v']), 'psnr_yuv': mean(m['psnr_yuv']),
        'ms_ssim': mean(m['ms_ssim']),
        'enc_seconds': enc['wall'], 'dec_seconds': dec['wall'],
        'enc_fps': n / enc['wall'] if enc['wall'] > 0 else None,
        'dec_fps': n / dec['wall'] if dec['wall'] > 0 else None,
        'enc_maxrss_mib': enc['maxrss_kib'] / 1024.0,
        'dec_maxrss_mib': dec['maxrss_kib'] / 1024.0,
        'per_frame': {k: m[k] for k in ('psnr_y', 'psnr_u', 'psnr_v', 'psnr_yuv', 'ms_ssim')},
        'measured': datetime.datetime.now().isoformat(timespec='seconds'),
        'cached': False,
    })
    point['ms_ssim_db'] = metrics.ms_ssim_db(point['ms_ssim'])
    if 'error' not in point:
        tmp = cache + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(point, f)
        os.replace(tmp, cache)
    return point


def mean(xs):
    return sum(xs) / len(xs) if xs else float('nan')


def fmt(x, spec='%.2f', none='-'):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return none
    return spec % x


def point_line(p):
    if p.get('skipped'):
        return p['error']
    if p.get('error'):
        return 'FAILED: ' + p['error']
    s = '%8.1f kbit/s  PSNR-YUV %6.2f dB  MS-SSIM %.5f  enc %6.1f fps  dec %6.1f fps' % (
        p['kbps'], p['psnr_yuv'], p['ms_ssim'], p['enc_fps'] or 0, p['dec_fps'] or 0)
    return s + ('  (cached)' if p.get('cached') else '')


# --------------------------------------------------------------- BD-rate

def curves_of(points):
    """{clip: {curve name: [points sorted by rate]}} of the good points."""
    out = {}
    for p in points:
        if p.get('error'):
            continue
        out.setdefault(p['clip'], {}).setdefault(curve_name(p), []).append(p)
    for c in out.values():
        for k in c:
            c[k].sort(key=lambda p: p['kbps'])
    return out


def compute_bd(points, presets):
    """List of BD-rate comparisons and their averages over clips."""
    curves = curves_of(points)
    pairs = [('neuvc', 'x264 ' + pr) for pr in presets]
    if 'veryfast' in presets:
        pairs += [('x264 ' + pr, 'x264 veryfast') for pr in presets if pr != 'veryfast']
    pairs = [pr for pr in pairs
             if any(pr[0] in c and pr[1] in c for c in curves.values())]
    per_clip = []
    for clip in curves:
        for test, anchor in pairs:
            t, an = curves[clip].get(test), curves[clip].get(anchor)
            for metric in ('psnr_yuv', 'ms_ssim_db'):
                e = {'clip': clip, 'test': test, 'anchor': anchor, 'metric': metric}
                if not t or not an:
                    e.update(bd_rate=None, reason='no %s points' % (test if not t else anchor))
                else:
                    v, why, lo, hi = metrics.bd_rate_detail(
                        [p['kbps'] for p in an], [p[metric] for p in an],
                        [p['kbps'] for p in t], [p[metric] for p in t])
                    e.update(bd_rate=v, reason=why, overlap=[lo, hi] if lo is not None else None)
                    e['bd_quality_db'] = metrics.bd_quality(
                        [p['kbps'] for p in an], [p[metric] for p in an],
                        [p['kbps'] for p in t], [p[metric] for p in t])
                per_clip.append(e)
    summary = []
    for test, anchor in pairs:
        for metric in ('psnr_yuv', 'ms_ssim_db'):
            rows = [e for e in per_clip
                    if (e['test'], e['anchor'], e['metric']) == (test, anchor, metric)]
            if not any(test in c and anchor in c for c in curves.values()):
                continue
            vals = [e for e in rows if e['bd_rate'] is not None]
            worst = max(vals, key=lambda e: e['bd_rate']) if vals else None
            summary.append({'test': test, 'anchor': anchor, 'metric': metric,
                            'mean': mean([e['bd_rate'] for e in vals]) if vals else None,
                            'clips': len(vals), 'missing': len(rows) - len(vals),
                            'worst': worst['bd_rate'] if worst else None,
                            'worst_clip': worst['clip'] if worst else None})
    return per_clip, summary


# ---------------------------------------------------------------- outputs

def write_csv(path, points):
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction='ignore')
        w.writeheader()
        for p in points:
            row = {}
            for k in CSV_FIELDS:
                v = p.get(k, '')
                if isinstance(v, float):
                    v = '%.6g' % v if k not in ('kbps', 'enc_fps', 'dec_fps') else '%.3f' % v
                row[k] = v
            w.writerow(row)


METRIC_LABEL = {'psnr_yuv': 'PSNR-YUV', 'ms_ssim_db': 'MS-SSIM(dB)'}


def write_summary(path, meta, clips, points, per_clip, bd_summary):
    L = []
    L.append('# neuvc evaluation summary\n')
    L.append('- date: %s, commit: %s' % (meta['date'], meta['commit']))
    L.append('- CPU: %s (%d logical CPUs), load average at start %s'
             % (meta['cpu']['model'], meta['cpu']['logical_cpus'], meta['load_average']))
    L.append('- conditions: first %d frames, intra period %d, %d threads per tool, '
             'x264 `%s`' % (meta['frames'], meta['keyint'], meta['threads'], meta['x264_args']))
    L.append('- tools: %s; %s; neuvc: %s' % (meta['x264_version'], meta['ffmpeg_version'],
                                            meta['neuvc_status']))
    L.append('- caveat: ' + CAVEAT)
    L.append('- bitrate from the file size; PSNR-YUV = (6Y+U+V)/8 per frame, averaged over frames; '
             'MS-SSIM on Y; BD-rate: cubic fit of log10(rate) over the overlapping quality range; '
             'negative = test needs less rate than the anchor. Frames per second of the whole tool.')
    L.append('')
    L.append('## Clips\n')
    L.append('| clip | size | frames | fps | MS-SSIM scales | description |')
    L.append('|---|---|---|---|---|---|')
    for c in clips:
        L.append('| %s | %dx%d | %d | %.2f | %d | %s |' % (
            c['name'], c['width'], c['height'], c['frames'], c['fps'], c['msssim_scales'],
            c['description']))
    L.append('')
    L.append('## BD-rate\n')
    if not bd_summary:
        L.append('No comparison possible.')
    pairs = []
    for s in bd_summary:
        if (s['test'], s['anchor']) not in pairs:
            pairs.append((s['test'], s['anchor']))
    for test, anchor in pairs:
        L.append('### %s vs %s\n' % (test, anchor))
        L.append('| clip | BD-rate PSNR-YUV | BD-PSNR-YUV (dB) | BD-rate MS-SSIM | overlap PSNR-YUV (dB) | note |')
        L.append('|---|---|---|---|---|---|')
        rows = {}
        for e in per_clip:
            if (e['test'], e['anchor']) == (test, anchor):
                rows.setdefault(e['clip'], {})[e['metric']] = e
        for clip in [c['name'] for c in clips]:
            r = rows.get(clip)
            if not r:
                continue
            ep, em = r['psnr_yuv'], r['ms_ssim_db']
            note = '; '.join(sorted({x['reason'] for x in (ep, em) if x.get('reason')}))
            ov = ep.get('overlap')
            L.append('| %s | %s | %s | %s | %s | %s |' % (
                clip, fmt(ep['bd_rate'], '%+.2f%%'), fmt(ep.get('bd_quality_db'), '%+.2f'),
                fmt(em['bd_rate'], '%+.2f%%'),
                '%.2f-%.2f' % tuple(ov) if ov else '-', note))
        for s in bd_summary:
            if (s['test'], s['anchor']) != (test, anchor):
                continue
            L.append('| **%s average** (%d clips, %d without a value) | %s | | | | worst: %s %s |' % (
                METRIC_LABEL[s['metric']], s['clips'], s['missing'],
                fmt(s['mean'], '%+.2f%%'), s['worst_clip'] or '-', fmt(s['worst'], '%+.2f%%')))
        L.append('')
    L.append('## Speed (median over the points of each curve)\n')
    L.append('| clip | curve | encode fps | decode fps | encoder max RSS (MiB) | decoder max RSS (MiB) |')
    L.append('|---|---|---|---|---|---|')
    curves = curves_of(points)
    for c in clips:
        for name, pts in sorted(curves.get(c['name'], {}).items()):
            L.append('| %s | %s | %.1f | %.1f | %.0f | %.0f |' % (
                c['name'], name, median([p['enc_fps'] for p in pts]),
                median([p['dec_fps'] for p in pts]),
                max(p['enc_maxrss_mib'] for p in pts), max(p['dec_maxrss_mib'] for p in pts)))
    L.append('')
    L.append('## All points\n')
    L.append('| clip | setting | kbit/s | PSNR-Y | PSNR-U | PSNR-V | PSNR-YUV | MS-SSIM | enc fps | dec fps |')
    L.append('|---|---|---|---|---|---|---|---|---|---|')
    for p in points:
        if p.get('error'):
            continue
        L.append('| %s | %s | %.1f | %.2f | %.2f | %.2f | %.2f | %.5f | %.1f | %.1f |' % (
            p['clip'], p['setting'], p['kbps'], p['psnr_y'], p['psnr_u'], p['psnr_v'],
            p['psnr_yuv'], p['ms_ssim'], p['enc_fps'], p['dec_fps']))
    bad = [p for p in points if p.get('error')]
    if bad:
        L.append('\n## Points without a result\n')
        for p in bad:
            L.append('- %s %s: %s' % (p['clip'], p['setting'], p['error']))
    L.append('')
    with open(path, 'w') as f:
        f.write('\n'.join(L))


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return float('nan')
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


CURVE_STYLE = {'neuvc': ('tab:red', 'o', '-'), 'x264 veryfast': ('tab:blue', 's', '--'),
               'x264 medium': ('tab:green', '^', '--'), 'x264 ultrafast': ('tab:gray', 'v', ':')}


PAIR_COLORS = ('tab:red', 'tab:orange', 'tab:green', 'tab:purple', 'tab:brown')


def style(name):
    return CURVE_STYLE.get(name, (None, 'x', '-.'))


def make_plots(out_dir, clips, points, per_clip, anchor_crf, log):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError as e:
        log('plots skipped: matplotlib not available (%s)' % e)
        return []
    os.makedirs(out_dir, exist_ok=True)
    files = []
    curves = curves_of(points)
    for c in clips:
        cc = curves.get(c['name'])
        if not cc:
            continue
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
        for name, pts in sorted(cc.items()):
            col, mk, ls = style(name)
            x = [p['kbps'] for p in pts]
            for ax, key in zip(axes, ('psnr_yuv', 'ms_ssim_db')):
                ax.plot(x, [p[key] for p in pts], color=col, marker=mk, linestyle=ls, label=name)
        for ax, lab in zip(axes, ('PSNR-YUV (dB)', 'MS-SSIM on Y (dB: -10 log10(1-MS-SSIM))')):
            ax.set_xscale('log')
            ax.set_xlabel('kbit/s')
            ax.set_ylabel(lab)
            ax.grid(True, which='both', alpha=0.3)
            ax.legend()
        fig.suptitle('%s (%dx%d, %d frames, %.2f fps)' % (c['name'], c['width'], c['height'],
                                                         c['frames'], c['fps']))
        fig.tight_layout()
        f = os.path.join(out_dir, c['name'] + '.png')
        fig.savefig(f, dpi=90)
        plt.close(fig)
        files.append(f)

    # Average: rates normalised per clip by x264 veryfast at the anchor CRF,
    # geometric mean over the clips that have the point; PSNR-YUV averaged.
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    ax = axes[0]
    plotted = False
    by_curve = {}
    for p in points:
        if p.get('error'):
            continue
        setting = p['crf'] if p['codec'] == 'x264' else p['qp']
        by_curve.setdefault(curve_name(p), {}).setdefault(setting, []).append(p)
    ref = {}
    for p in points:
        if not p.get('error') and p['codec'] == 'x264' and p['preset'] == 'veryfast' \
                and p['crf'] == anchor_crf:
            ref[p['clip']] = p['kbps']
    nclips = len(ref)
    for name, settings in sorted(by_curve.items()):
        xs, ys = [], []
        for s in sorted(settings):
            pts = [p for p in settings[s] if p['clip'] in ref]
            if nclips == 0 or len(pts) < nclips:
                continue
            xs.append(math.exp(mean([math.log(p['kbps'] / ref[p['clip']]) for p in pts])))
            ys.append(mean([p['psnr_yuv'] for p in pts]))
        if len(xs) >= 2:
            col, mk, ls = style(name)
            order = sorted(range(len(xs)), key=lambda i: xs[i])
            ax.plot([xs[i] for i in order], [ys[i] for i in order], color=col, marker=mk,
                    linestyle=ls, label=name)
            plotted = True
    ax.set_xscale('log')
    ax.set_xlabel('rate / rate of x264 veryfast crf%d on the same clip (geometric mean)' % anchor_crf)
    ax.set_ylabel('PSNR-YUV (dB), mean over clips')
    ax.set_title('average over %d clips' % nclips)
    ax.grid(True, which='both', alpha=0.3)
    if plotted:
        ax.legend()
    ax = axes[1]
    pairs = []
    for e in per_clip:
        if e['metric'] == 'psnr_yuv' and (e['test'], e['anchor']) not in pairs:
            pairs.append((e['test'], e['anchor']))
    names = [c['name'] for c in clips]
    width = 0.8 / max(1, len(pairs))
    for i, (test, anchor) in enumerate(pairs):
        vals = []
        for n in names:
            e = [x for x in per_clip if x['clip'] == n and x['metric'] == 'psnr_yuv'
                 and (x['test'], x['anchor']) == (test, anchor)]
            vals.append(e[0]['bd_rate'] if e and e[0]['bd_rate'] is not None else float('nan'))
        ax.barh([j + i * width for j in range(len(names))], vals, height=width,
                label='%s vs %s' % (test, anchor),
                color=PAIR_COLORS[i % len(PAIR_COLORS)])
    ax.set_yticks([j + (len(pairs) - 1) * width / 2 for j in range(len(names))])
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color='k', linewidth=0.8)
    ax.set_xlabel('BD-rate PSNR-YUV (%), negative = fewer bits')
    ax.grid(True, axis='x', alpha=0.3)
    if pairs:
        ax.legend(fontsize=8)
    fig.tight_layout()
    f = os.path.join(out_dir, 'average.png')
    fig.savefig(f, dpi=90)
    plt.close(fig)
    files.append(f)
    return files


# ------------------------------------------------------------------- main

def main(argv=None):
    a = parse_args(argv if argv is not None else sys.argv[1:])
    log = Log()
    os.makedirs(a.out, exist_ok=True)

    tools = {}
    want_x264 = not a.no_x264
    want_neuvc = not a.no_neuvc
    try:
        tools['ffmpeg'] = cliplib.need('ffmpeg')
        if want_x264:
            tools['x264'] = cliplib.need('x264')
    except RuntimeError as e:
        print('eval: %s' % e, file=sys.stderr)
        return 2
    neuvc_status = 'not requested (--no-neuvc)'
    if want_neuvc:
        enc, dec, why = check_neuvc(a)
        if why:
            neuvc_status = 'n/a: ' + why
            log('neuvc: not available: %s; only x264 is measured' % why)
            want_neuvc = False
        else:
            tools['neuvc-enc'], tools['neuvc-dec'] = enc, dec
            neuvc_status = 'build %s' % os.path.abspath(a.build)

    srcs = collect_clips(a, log)
    clips = []
    for name, src, desc in srcs:
        info = cliplib.prepare_clip(src, name, a.frames, os.path.join(a.out, 'clips'))
        info['description'] = desc
        info['msssim_scales'] = metrics.ms_ssim_scales(info['height'], info['width'])
        note = '' if info['frames'] == a.frames else '  (source has only %d frames)' % info['frames']
        log('clip %-38s %4dx%-4d %6.2f fps %3d frames%s' % (
            name, info['width'], info['height'], info['fps'], info['frames'], note))
        if info['msssim_scales'] < len(metrics.MSSSIM_WEIGHTS):
            log('  note: %s is too small for 5 MS-SSIM scales; %d used, weights renormalised'
                % (name, info['msssim_scales']))
        clips.append(info)

    jobs = []
    for c in clips:
        if want_neuvc:
            for q in a.neuvc_qps:
                jobs.append(({'codec': 'neuvc', 'qp': q}, c))
        if want_x264:
            for pr in a.presets:
                for crf in a.crfs:
                    jobs.append(({'codec': 'x264', 'preset': pr, 'crf': crf}, c))
    log('%d clips, %d encodes (%d at a time, %d threads each)' % (len(clips), len(jobs), a.jobs, a.threads))

    state = {}
    points = []
    done = [0]
    lock = threading.Lock()

    def one(job, clip):
        t0 = time.monotonic()
        try:
            p = run_job(job, clip, a, tools, state)
        except Exception as e:  # keep going; the point records what broke
            p = {'clip': clip['name'], 'codec': job['codec'], 'preset': job.get('preset', ''),
                 'qp': job.get('qp', ''), 'crf': job.get('crf', ''), 'setting': job_label(job),
                 'frames': clip['frames'], 'error': '%s: %s' % (type(e).__name__, e)}
        with lock:
            done[0] += 1
            k = done[0]
        log('[%3d/%d] %-22s %-36s %s (%.1f s)' % (k, len(jobs), job_label(job), clip['name'],
                                                  point_line(p), time.monotonic() - t0))
        return p

    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        futs = [ex.submit(one, j, c) for j, c in jobs]
        for f in futs:
            points.append(f.result())

    if state.get('neuvc_off'):
        neuvc_status = 'n/a: ' + state['neuvc_off']
        log('neuvc: ' + neuvc_status)

    order = {c['name']: i for i, c in enumerate(clips)}
    porder = {pr: i for i, pr in enumerate(a.presets)}
    points.sort(key=lambda p: (order[p['clip']], p['codec'] != 'neuvc',
                               porder.get(p.get('preset'), 0), p.get('qp') or 0, p.get('crf') or 0))
    per_clip, bd_summary = compute_bd(points, a.presets if want_x264 else [])
    anchor_crf = sorted(a.crfs)[(len(a.crfs) - 1) // 2] if a.crfs else 27
    meta = {
        'date': datetime.date.today().isoformat(),
        'commit': cliplib.git_commit(),
        'cpu': cliplib.cpu_info(),
        'load_average': ' '.join('%.2f' % x for x in (cliplib.load_average() or ())),
        'frames': a.frames, 'keyint': a.keyint, 'threads': a.threads, 'jobs': a.jobs,
        'neuvc_qps': a.neuvc_qps, 'presets': a.presets, 'crfs': a.crfs,
        'x264_args': '--preset P --tune zerolatency --keyint %d --min-keyint %d --no-scenecut '
                     '--crf C --threads %d' % (a.keyint, a.keyint, a.threads),
        'x264_version': cliplib.tool_version([tools['x264'], '--version']) if 'x264' in tools else 'x264 not used',
        'ffmpeg_version': cliplib.tool_version([tools['ffmpeg'], '-version']).split(' Copyright')[0],
        'neuvc_status': neuvc_status,
        'conditions': CONDITIONS, 'caveat': CAVEAT,
        'psnr_cap_db': metrics.PSNR_CAP,
        'bd_rate': 'Bjontegaard: cubic fit of log10(kbit/s) vs quality, overlapping range only',
    }
    results = {'meta': meta, 'clips': clips, 'points': points,
               'bd_rate': per_clip, 'bd_rate_average': bd_summary}
    with open(os.path.join(a.out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    write_csv(os.path.join(a.out, 'results.csv'), points)
    write_summary(os.path.join(a.out, 'summary.md'), meta, clips, points, per_clip, bd_summary)
    plots = [] if a.no_plots else make_plots(os.path.join(a.out, 'plots'), clips, points,
                                             per_clip, anchor_crf, log)

    print()
    for s in bd_summary:
        print('BD-rate %-13s %-14s vs %-14s: %s over %d clips (%d without a value), worst %s %s'
              % (METRIC_LABEL[s['metric']], s['test'], s['anchor'], fmt(s['mean'], '%+.2f%%'),
                 s['clips'], s['missing'], s['worst_clip'] or '-', fmt(s['worst'], '%+.2f%%')))
    print('neuvc: %s' % neuvc_status)
    print('wrote %s/results.json, results.csv, summary.md and %d plots in %s/plots'
          % (a.out, len(plots), a.out))
    failed = [p for p in points if p.get('error') and not p.get('skipped')
              and not (p['codec'] == 'neuvc' and state.get('neuvc_off'))]
    if failed:
        print('%d points failed:' % len(failed), file=sys.stderr)
        for p in failed:
            print('  %s %s: %s' % (p['clip'], p['setting'], p['error']), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
