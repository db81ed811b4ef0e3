#!/usr/bin/env python3
"""Clip preparation and process helpers shared by eval.py and bench.py.

As a program it converts the evaluation clips (or the files given) to
8-bit 4:2:0 Y4M, first N frames, and prints where they are:

    tools/clips.py [--frames 32] [--out build/eval/clips] [FILE ...]

Clips are cut with
    ffmpeg -i IN -frames:v N -pix_fmt yuv420p -f yuv4mpegpipe OUT.y4m
and cached: a Y4M that is newer than its source is reused.
"""

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metrics  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIDEO_EXT = ('.y4m', '.mp4', '.mkv', '.h264', '.264', '.avi', '.mov', '.webm', '.nut', '.ivf')


def clips_root():
    """$NEUVC_CLIPS, or ../shared/clips next to the repository."""
    env = os.environ.get('NEUVC_CLIPS')
    if env:
        return os.path.abspath(env)
    return os.path.normpath(os.path.join(REPO, '..', 'shared', 'clips'))


def eval_dir():
    return os.path.join(clips_root(), 'eval')


def read_manifest(path=None):
    """List of dicts {name, file, description} from clips/manifest."""
    path = path or os.path.join(REPO, 'clips', 'manifest')
    out = []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split(None, 2)
            if len(parts) < 2:
                raise ValueError('%s:%d: expected "name file description"' % (path, lineno))
            out.append({'name': parts[0], 'file': parts[1],
                        'description': parts[2] if len(parts) > 2 else ''})
    names = [c['name'] for c in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError('%s: duplicate clip names %s' % (path, ', '.join(dup)))
    return out


def clip_name_from_path(path):
    base = os.path.basename(path)
    stem = base.rsplit('.', 1)[0] if '.' in base else base
    return re.sub(r'[^A-Za-z0-9_.-]', '_', stem)


def need(tool):
    """Path of an external program, or raise with what to install."""
    p = shutil.which(tool)
    if p is None:
        pkg = {'ffmpeg': 'ffmpeg', 'ffprobe': 'ffmpeg', 'x264': 'x264'}.get(tool, tool)
        raise RuntimeError('%s not found on PATH (Debian package: %s)' % (tool, pkg))
    return p


def prepare_clip(src, name, frames, out_dir, log=None):
    """Convert src to Y4M (first `frames` frames) under out_dir, cached.

    Returns {name, src, y4m, width, height, fps (float), fps_num, fps_den,
    frames}.  A source shorter than `frames` gives all its frames.
    """
    os.makedirs(out_dir, exist_ok=True)
    dst = os.path.join(out_dir, '%s_%df.y4m' % (name, frames))
    fresh = (os.path.exists(dst) and os.path.getmtime(dst) >= os.path.getmtime(src))
    if not fresh:
        ffmpeg = need('ffmpeg')
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % name, suffix='.y4m', dir=out_dir)
        os.close(fd)
        cmd = [ffmpeg, '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
               '-i', src, '-frames:v', str(frames), '-pix_fmt', 'yuv420p',
               '-f', 'yuv4mpegpipe', tmp]
        if log:
            log('preparing %s: %s' % (name, ' '.join(cmd)))
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            os.unlink(tmp)
            raise RuntimeError('ffmpeg failed on %s: %s'
                               % (src, r.stderr.decode(errors='replace').strip()[-2000:]))
        os.replace(tmp, dst)
    with metrics.Y4MReader(dst) as rd:
        n = rd.count_frames()
        info = {'name': name, 'src': os.path.abspath(src), 'y4m': dst,
                'width': rd.width, 'height': rd.height,
                'fps': float(rd.fps), 'fps_num': rd.fps.numerator,
                'fps_den': rd.fps.denominator, 'frames': n}
    if n < 1:
        raise RuntimeError('%s: no frames after conversion' % src)
    return info


def run_timed(cmd, stdout_path=None, timeout=None, env=None):
    """Run cmd, measuring wall time and the child's peak memory.

    Returns {rc, wall, maxrss_kib, utime, stime, stderr, signal, timed_out}.
    stdout goes to stdout_path (or is discarded); stderr is captured through
    a temporary file so a chatty child cannot block on a full pipe.
    """
    errf = tempfile.TemporaryFile()
    outf = open(stdout_path, 'wb') if stdout_path else subprocess.DEVNULL
    timed_out = [False]
    try:
        t0 = time.monotonic()
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=outf,
                                 stderr=errf, env=env)
        except OSError as e:
            return {'rc': 127, 'wall': 0.0, 'maxrss_kib': 0, 'utime': 0.0, 'stime': 0.0,
                    'stderr': 'cannot run %s: %s' % (cmd[0], e), 'signal': None,
                    'timed_out': False}
        timer = None
        if timeout:
            def kill():
                timed_out[0] = True
                try:
                    p.kill()
                except OSError:
                    pass
            timer = threading.Timer(timeout, kill)
            timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        if timer:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') \
            else (-(status & 0x7f) if status & 0x7f else status >> 8)
        errf.seek(0)
        err = errf.read().decode('utf-8', 'replace')
    finally:
        errf.close()
        if stdout_path:
            outf.close()
    rc = p.returncode
    return {'rc': rc, 'wall': wall, 'maxrss_kib': int(ru.ru_maxrss),
            'utime': ru.ru_utime, 'stime': ru.ru_stime, 'stderr': err,
            'signal': -rc if rc < 0 else None, 'timed_out': timed_out[0]}


def describe_failure(res):
    """One line saying why a run_timed() result is a failure."""
    if res['timed_out']:
        why = 'timed out after %.0f s' % res['wall']
    elif res['signal']:
        why = 'killed by signal %d' % res['signal']
    else:
        why = 'exit status %d' % res['rc']
    tail = [ln for ln in res['stderr'].strip().splitlines() if ln.strip()][-3:]
    return why + (': ' + ' | '.join(tail) if tail else '')


def not_supported(res):
    """True when a tool's failure says the feature is not there yet."""
    s = res['stderr'].lower()
    return res['rc'] != 0 and not res['signal'] and (
        'not supported' in s or 'not implemented' in s or 'unsupported' in s)


def cpu_info():
    """{model, logical_cpus, flags of interest} from /proc/cpuinfo."""
    model, n, flags = platform.processor() or 'unknown', 0, set()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    n += 1
                elif line.startswith('flags') and not flags:
                    flags = set(line.split(':', 1)[1].split())
    except OSError:
        pass
    keep = [x for x in ('avx2', 'avx512f', 'avx512_vnni', 'avx512vnni', 'asimd', 'asimddp')
            if x in flags]
    return {'model': model, 'logical_cpus': n or os.cpu_count(), 'flags': keep}


def tool_version(cmd):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        line = r.stdout.decode(errors='replace').strip().splitlines()
        return line[0] if line else '?'
    except (OSError, subprocess.SubprocessError):
        return 'not available'


def git_commit():
    """Short commit id of the working tree (read-only git), or 'unknown'."""
    try:
        r = subprocess.run(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=20)
        c = r.stdout.decode().strip()
        if r.returncode != 0 or not c:
            return 'unknown (no commit)'
        d = subprocess.run(['git', '-C', REPO, 'status', '--porcelain', '--untracked-files=no'],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=20)
        return c + ('-dirty' if d.stdout.strip() else '')
    except (OSError, subprocess.SubprocessError):
        return 'unknown'


def load_average():
    try:
        return os.getloadavg()
    except OSError:
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description='Prepare evaluation clips as 8-bit 4:2:0 Y4M.')
    ap.add_argument('files', nargs='*', help='videos to convert (default: the manifest)')
    ap.add_argument('--frames', type=int, default=32)
    ap.add_argument('--out', default=os.path.join(REPO, 'build', 'eval', 'clips'))
    ap.add_argument('--manifest', default=os.path.join(REPO, 'clips', 'manifest'))
    a = ap.parse_args(argv)
    if a.files:
        todo = [(f, clip_name_from_path(f)) for f in a.files]
    else:
        d = eval_dir()
        if not os.path.isdir(d):
            print('clips directory %s not found (set NEUVC_CLIPS)' % d, file=sys.stderr)
            return 2
        todo = [(os.path.join(d, c['file']), c['name']) for c in read_manifest(a.manifest)]
    for src, name in todo:
        info = prepare_clip(src, name, a.frames, a.out, log=lambda s: print(s, file=sys.stderr))
        print('%-40s %4dx%-4d %6.2f fps %3d frames  %s'
              % (name, info['width'], info['height'], info['fps'], info['frames'], info['y4m']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
