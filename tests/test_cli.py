#!/usr/bin/env python3
"""Tests of the command-line tools build/neuvc-enc and build/neuvc-dec.

Run by `make check` (tests/run.sh, with Debian's /usr/bin/python3) or
directly from the repository root:
    BUILD=build /usr/bin/python3 tests/test_cli.py -v

Needs the tools built in $BUILD (default build/) and the evaluation clip
vmaf_park_joy_480x270_10f.y4m in $NEUVC_CLIPS/eval or ../shared/clips/eval
relative to the repository root; a missing tool or clip is a failure, not a
skip.  Nothing else (no numpy, no ffmpeg): clips are cropped, Y4M is parsed
and PSNR is computed here in plain Python.

Bad input (BadInputEnc, BadInputDec, OptionRanges): every case must give a
non-zero exit status that is not a signal, nothing on stdout and exactly one
line on stderr starting with the tool's name.  Round trips (RoundTrip) need
a working library: while it answers ENOSYS they fail, by design.
"""

import math
import os
import re
import struct
import subprocess
import tempfile
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BUILD = os.environ.get('BUILD', 'build')
BUILD = BUILD if os.path.isabs(BUILD) else os.path.join(REPO, BUILD)
ENC = os.path.join(BUILD, 'neuvc-enc')
DEC = os.path.join(BUILD, 'neuvc-dec')
CLIP = 'vmaf_park_joy_480x270_10f.y4m'
TIMEOUT = 120                     # seconds per tool run: a hang is a failure
PSNR_CAP = 100.0


def clip_path():
    env = os.environ.get('NEUVC_CLIPS')
    root = os.path.abspath(env) if env else os.path.normpath(os.path.join(REPO, '..', 'shared', 'clips'))
    path = os.path.join(root, 'eval', CLIP)
    if not os.path.isfile(path):
        raise AssertionError('test clip %s is missing (set NEUVC_CLIPS to the clips directory, '
                             'which holds eval/%s)' % (path, CLIP))
    return path


def check_tools():
    for t in (ENC, DEC):
        if not os.access(t, os.X_OK):
            raise AssertionError('%s is not built (run make first; BUILD=%s)' % (t, BUILD))


def run(args, stdin_bytes=None, stdin_file=None):
    """Runs a tool; returns (returncode, stdout bytes, stderr text)."""
    check_tools()
    r = subprocess.run(args, input=stdin_bytes, stdin=stdin_file,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    return r.returncode, r.stdout, r.stderr.decode('utf-8', errors='replace')


# ------------------------------------------------------------------ Y4M

def y4m_parse(data):
    """(header line, width, height, fps (num, den), [frame bytes]) of a Y4M file."""
    nl = data.index(b'\n')
    header = data[:nl].decode('ascii')
    tags = header.split()
    if tags[0] != 'YUV4MPEG2':
        raise ValueError('not Y4M: %r' % header[:40])
    w = h = None
    fps = (25, 1)
    for t in tags[1:]:
        if t[0] == 'W':
            w = int(t[1:])
        elif t[0] == 'H':
            h = int(t[1:])
        elif t[0] == 'F':
            n, d = t[1:].split(':')
            fps = (int(n), int(d))
    fsize = w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)
    frames, pos = [], nl + 1
    while pos < len(data):
        end = data.index(b'\n', pos)
        if not data[pos:end].startswith(b'FRAME'):
            raise ValueError('bad FRAME line at byte %d' % pos)
        pos = end + 1
        if pos + fsize > len(data):
            raise ValueError('truncated frame')
        frames.append(data[pos:pos + fsize])
        pos += fsize
    return header, w, h, fps, frames


def y4m_make(w, h, frames, fps='50:1', extra='C420jpeg'):
    out = [('YUV4MPEG2 W%d H%d F%s Ip A1:1 %s\n' % (w, h, fps, extra)).encode()]
    for f in frames:
        out.append(b'FRAME\n')
        out.append(f)
    return b''.join(out)


def y4m_crop(data, cw, ch, nframes):
    """The top-left cw x ch (even) of the first nframes frames, 4:2:0."""
    _, w, h, fps, frames = y4m_parse(data)
    out = []
    for f in frames[:nframes]:
        y = b''.join(f[r * w:r * w + cw] for r in range(ch))
        c = (w + 1) // 2
        u0 = w * h
        v0 = u0 + c * ((h + 1) // 2)
        u = b''.join(f[u0 + r * c:u0 + r * c + cw // 2] for r in range(ch // 2))
        v = b''.join(f[v0 + r * c:v0 + r * c + cw // 2] for r in range(ch // 2))
        out.append(y + u + v)
    return y4m_make(cw, ch, out, fps='%d:%d' % fps)


def plane_psnr(a, b):
    sse = sum((x - y) * (x - y) for x, y in zip(a, b))
    if sse == 0:
        return PSNR_CAP
    return min(PSNR_CAP, 10.0 * math.log10(255.0 * 255.0 * len(a) / sse))


def mean_psnr(src_frames, rec_frames, w, h):
    """Per-plane PSNR and (6Y+U+V)/8, each averaged over the frames."""
    ys = w * h
    cs = ((w + 1) // 2) * ((h + 1) // 2)
    acc = [0.0, 0.0, 0.0, 0.0]
    for s, r in zip(src_frames, rec_frames):
        p = [plane_psnr(s[:ys], r[:ys]), plane_psnr(s[ys:ys + cs], r[ys:ys + cs]),
             plane_psnr(s[ys + cs:], r[ys + cs:])]
        for i in range(3):
            acc[i] += p[i]
        acc[3] += (6 * p[0] + p[1] + p[2]) / 8.0
    return [a / len(src_frames) for a in acc]


# ------------------------------------------------------------------ .nvc

def nvc_header(width=128, height=96, fps=(30, 1), model_id=b'neuvc-rt', version=1):
    b = (b'NVC1' + struct.pack('<HHHHII', version, 100, width, height, fps[0], fps[1]) +
         struct.pack('<I', 0) + b'\x01\x23\x45\x67\x89\xab\xcd\xef' + model_id.ljust(64, b'\0'))
    return b + struct.pack('<I', zlib.crc32(b))


def nvc_packets(data):
    """[(offset, size)] of the packets of a .nvc file; raises on bad framing."""
    if data[:4] != b'NVC1' or len(data) < 100:
        raise ValueError('no sequence header')
    pos, out = 100, []
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError('truncated packet header')
        size = struct.unpack_from('<I', data, pos)[0]
        if size == 0 or pos + 12 + size > len(data):
            raise ValueError('bad packet size')
        out.append((pos, size))
        pos += 12 + size
    return out


class ToolCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix='neuvc_cli_')
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        p = self.path(name)
        with open(p, 'wb') as f:
            f.write(data)
        return p

    def assert_one_error(self, res, tool, *words):
        """Non-zero exit, no signal, no stdout, one stderr line 'tool: ...'
        containing every word (case-insensitive)."""
        rc, out, err = res
        self.assertGreaterEqual(rc, 0, 'killed by signal %d; stderr: %s' % (-rc, err))
        self.assertNotEqual(rc, 0, 'exit status 0 for bad input; stderr: %r' % err)
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, 'expected one stderr line, got: %r' % err)
        self.assertTrue(lines[0].startswith(tool + ': '), 'line does not start with %s: %r'
                        % (tool, lines[0]))
        for w in words:
            self.assertIn(w.lower(), lines[0].lower(), 'message lacks %r: %r' % (w, lines[0]))
        self.assertEqual(out, b'', 'bad input wrote to stdout')
        return lines[0]


def small_y4m():
    """A 16x16, 2-frame 4:2:0 Y4M."""
    return y4m_make(16, 16, [bytes(range(256)) + bytes(128)] * 2)


class BadInputEnc(ToolCase):
    def enc(self, *args, stdin_bytes=None):
        return run([ENC] + list(args), stdin_bytes=stdin_bytes)

    def test_help_version(self):
        for a in ('--help', '-h'):
            rc, out, err = self.enc(a)
            self.assertEqual((rc, err), (0, ''))
            self.assertIn(b'usage: neuvc-enc', out)
            self.assertRegex(out.decode(), r'--qp N .*0\.\.63 \[32\]')   # the library default
        rc, out, err = self.enc('--version')
        self.assertEqual((rc, err), (0, ''))
        self.assertRegex(out.decode(), r'^neuvc-enc \d+\.\d+\.\d+ \(libneuvc \d+\.\d+\.\d+\)\n$')

    def test_no_arguments(self):
        self.assert_one_error(self.enc(), 'neuvc-enc', 'no input')

    def test_no_output(self):
        self.assert_one_error(self.enc(self.write('a.y4m', small_y4m())), 'neuvc-enc', '-o')

    def test_missing_input(self):
        self.assert_one_error(self.enc('-o', self.path('o.nvc'), self.path('nope.y4m')),
                              'neuvc-enc', 'nope.y4m', 'no such file')

    def test_not_y4m(self):
        p = self.write('a.y4m', b'RIFF....WAVEfmt ' * 10)
        self.assert_one_error(self.enc('-o', self.path('o.nvc'), p), 'neuvc-enc', 'not a y4m')

    def test_empty_input(self):
        self.assert_one_error(self.enc('-o', self.path('o.nvc'), self.write('a.y4m', b'')),
                              'neuvc-enc', 'empty')
        self.assert_one_error(self.enc('-o', self.path('o.nvc'), '-', stdin_bytes=b''),
                              'neuvc-enc', 'stdin', 'empty')

    def test_422(self):
        p = self.write('a.y4m', y4m_make(16, 16, [bytes(512)], extra='C422jpeg'))
        self.assert_one_error(self.enc('-o', self.path('o.nvc'), p), 'neuvc-enc', 'C422', 'not supported')

    def test_10bit(self):
        p = self.write('a.y4m', y4m_make(16, 16, [bytes(768)], extra='C420p10 XYSCSS=420P10'))
        self.assert_one_error(self.enc('-o', self.path('o.nvc'), p), 'neuvc-enc', 'C420p10',
                              'not supported')

    def test_bad_header_value(self):
        p = self.write('a.y4m', b'YUV4MPEG2 W0 H16\nFRAME\n')
        self.assert_one_error(self.enc('-o', self.path('o.nvc'), p), 'neuvc-enc', 'width')

    def test_model_file_missing(self):
        self.assert_one_error(self.enc('--model', self.path('none.nvm'), '-o', self.path('o.nvc'),
                                       self.write('a.y4m', small_y4m())), 'neuvc-enc', 'none.nvm')

    def test_model_file_garbage(self):
        m = self.write('bad.nvm', b'this is not a model file' * 40)
        self.assert_one_error(self.enc('--model', m, '-o', self.path('o.nvc'),
                                       self.write('a.y4m', small_y4m())), 'neuvc-enc', 'bad.nvm')

    def test_bad_options(self):
        y = self.write('a.y4m', small_y4m())
        o = self.path('o.nvc')
        cases = [
            (['--bogus', '1'], ['unknown option --bogus']),
            (['-x'], ['unknown option -x']),
            (['--qp', 'abc'], ['abc', '--qp']),
            (['--qp=64'], ['64', '--qp']),
            (['-q', '-1'], ['-1', '-q']),
            (['--cpu', 'z80'], ['z80', '--cpu']),
            (['--fps', '30/0'], ['30/0', '--fps']),
            (['--fps', 'x'], ['--fps']),
            (['--keyint', '1.5'], ['1.5', '--keyint']),
            (['--frames', '-3'], ['-3', '--frames']),
            (['--frames', '10x'], ['10x', '--frames']),
            (['--intra-refresh=7'], ['--intra-refresh']),
            (['--help=1'], ['--help takes no value']),
            (['--params', 'qp=99'], ["'qp' in --params"]),
            (['--params', 'nonsense=1'], ['unknown option', 'nonsense']),
            (['--params', 'qp'], ['not key=value']),
            (['--recon', o], ['same file']),
            ([y], ['more than one input']),
        ]
        for args, words in cases:
            with self.subTest(args=args):
                self.assert_one_error(self.enc(*(args + ['-o', o, y])), 'neuvc-enc', *words)
        self.assert_one_error(self.enc('-o', o, y, '--qp'), 'neuvc-enc', '--qp needs a value')
        self.assert_one_error(self.enc('--recon', '-', '-o', '-', y), 'neuvc-enc', 'stdout')

    def test_truncated_input(self):
        """Frames before the cut are coded, written and stay a valid .nvc."""
        y = y4m_make(16, 16, [bytes(384)] * 3)
        p = self.write('a.y4m', y[:-100])          # frame 2 is cut short
        o = self.path('o.nvc')
        self.assert_one_error(self.enc('-o', o, p), 'neuvc-enc', 'frame 2', 'truncated')
        with open(o, 'rb') as f:
            self.assertEqual(len(nvc_packets(f.read())), 2)


class BadInputDec(ToolCase):
    def dec(self, *args, stdin_bytes=None):
        return run([DEC] + list(args), stdin_bytes=stdin_bytes)

    def test_help_version(self):
        for a in ('--help', '-h'):
            rc, out, err = self.dec(a)
            self.assertEqual((rc, err), (0, ''))
            self.assertIn(b'usage: neuvc-dec', out)
        rc, out, err = self.dec('-V')
        self.assertEqual((rc, err), (0, ''))
        self.assertRegex(out.decode(), r'^neuvc-dec \d+\.\d+\.\d+ \(libneuvc \d+\.\d+\.\d+\)\n$')

    def test_no_arguments(self):
        self.assert_one_error(self.dec(), 'neuvc-dec', 'no input')

    def test_no_output(self):
        self.assert_one_error(self.dec(self.write('a.nvc', nvc_header())), 'neuvc-dec', '-o')

    def test_missing_input(self):
        self.assert_one_error(self.dec('-o', self.path('o.y4m'), self.path('nope.nvc')),
                              'neuvc-dec', 'nope.nvc', 'no such file')

    def test_not_nvc(self):
        p = self.write('a.nvc', small_y4m())
        self.assert_one_error(self.dec('-o', self.path('o.y4m'), p), 'neuvc-dec', 'not a neuvc')

    def test_empty(self):
        self.assert_one_error(self.dec('-o', self.path('o.y4m'), '-', stdin_bytes=b''),
                              'neuvc-dec', 'stdin', 'empty')

    def test_truncated_header(self):
        p = self.write('a.nvc', nvc_header()[:60])
        self.assert_one_error(self.dec('-o', self.path('o.y4m'), p), 'neuvc-dec', 'truncated')

    def test_corrupt_header(self):
        h = bytearray(nvc_header())
        h[9] ^= 1                                  # width changes, CRC no longer matches
        p = self.write('a.nvc', bytes(h))
        self.assert_one_error(self.dec('-o', self.path('o.y4m'), p), 'neuvc-dec', 'CRC')

    def test_newer_version(self):
        p = self.write('a.nvc', nvc_header(version=2))
        self.assert_one_error(self.dec('-o', self.path('o.y4m'), p), 'neuvc-dec', 'version')

    def test_above_size_limit(self):
        p = self.write('a.nvc', nvc_header(width=4000, height=64))
        self.assert_one_error(self.dec('--max-width', '1920', '-o', self.path('o.y4m'), p),
                              'neuvc-dec', 'limit')

    def test_unknown_model_id(self):
        p = self.write('a.nvc', nvc_header(model_id=b'no-such-model'))
        self.assert_one_error(self.dec('-o', self.path('o.y4m'), p), 'neuvc-dec', 'no-such-model')
        self.assertFalse(os.path.exists(self.path('o.y4m')), 'output created for a refused stream')

    def test_bad_options(self):
        p = self.write('a.nvc', nvc_header())
        cases = [
            (['--qp', '30'], ['unknown option --qp']),     # an encoder option
            (['--frames', 'x'], ['--frames']),
            (['--threads', '-1'], ['--threads']),
            (['--cpu', 'gpu'], ['--cpu']),
            (['--params', 'threads=999'], ["'threads' in --params"]),
            (['--version=2'], ['takes no value']),
            ([p], ['more than one input']),
        ]
        for args, words in cases:
            with self.subTest(args=args):
                self.assert_one_error(self.dec(*(args + ['-o', self.path('o.y4m'), p])),
                                      'neuvc-dec', *words)


class OptionRanges(ToolCase):
    """Every option --help shows with a range lo..hi: lo and hi are accepted
    (the run then fails on the missing input, not on the option), lo-1 and
    hi+1 are refused naming the option.  This checks the help text against
    the library's parameter parser, which the tools forward to."""

    def ranged_options(self, tool):
        rc, out, _ = run([tool, '--help'])
        self.assertEqual(rc, 0)
        opts = re.findall(r'^\s+(?:-\w, )?\s*--([a-z-]+) \S+\s.*?(-?\d+)\.\.(-?\d+)(?: \[-?\d+\])?$',
                          out.decode(), re.M)
        return [(n, int(lo), int(hi)) for n, lo, hi in opts]

    def check(self, tool, name, must_have):
        opts = self.ranged_options(tool)
        self.assertTrue(must_have <= {n for n, _, _ in opts}, 'help lacks ranges: %s' % opts)
        missing = self.path('missing.in')
        for n, lo, hi in opts:
            for v in (lo, hi):
                with self.subTest(option=n, value=v):
                    self.assert_one_error(run([tool, '--' + n, str(v), '-o', self.path('o'), missing]),
                                          name, 'missing.in')
            for v in (lo - 1, hi + 1):
                with self.subTest(option=n, value=v):
                    self.assert_one_error(run([tool, '--' + n, str(v), '-o', self.path('o'), missing]),
                                          name, 'invalid value', '--' + n)

    def test_enc(self):
        self.check(ENC, 'neuvc-enc', {'qp', 'keyint', 'threads', 'frames', 'bitrate'})

    def test_dec(self):
        self.check(DEC, 'neuvc-dec', {'threads', 'frames'})

    def test_params_and_forwarding(self):
        """--params and a long option missing from the help table both reach the library."""
        missing = self.path('missing.in')
        for args in (['--params', 'qp=30:keyint=64:cpu=ref'], ['--params=threads=1'],
                     ['--qp=7', '--intra-refresh', '--fps', '30000/1001', '--no-progress'],
                     ['-q', '0', '-I', '-1', '-B', '500']):
            with self.subTest(args=args):
                self.assert_one_error(run([ENC] + args + ['-o', self.path('o'), missing]),
                                      'neuvc-enc', 'missing.in')


class PipeLatency(ToolCase):
    """One frame in, one packet out, at once: through pipes, neuvc-enc
    writes packet k before it is given picture k + 1, and neuvc-dec writes
    picture k before it is given packet k + 1 (no frame of delay)."""

    def read_exact(self, f, n):
        buf = b''
        while len(buf) < n:
            chunk = os.read(f.fileno(), n - len(buf))
            self.assertTrue(chunk, 'the tool closed its output early')
            buf += chunk
        return buf

    def test_encoder_then_decoder(self):
        with open(clip_path(), 'rb') as f:
            y4m = f.read()
        hdr_end = y4m.index(b'\n') + 1
        frames = y4m[hdr_end:].split(b'FRAME\n')[1:4]
        check_tools()
        enc = subprocess.Popen([ENC, '--quiet', '--qp', '40', '-o', '-', '-'], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        dec = subprocess.Popen([DEC, '--quiet', '-o', '-', '-'], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            enc.stdin.write(y4m[:hdr_end])
            out_hdr = None
            for k, fr in enumerate(frames):
                enc.stdin.write(b'FRAME\n' + fr)
                enc.stdin.flush()                                  # picture k, and nothing after it
                if k == 0:                                         # the sequence header comes with it
                    dec.stdin.write(self.read_exact(enc.stdout, 100))
                ph = self.read_exact(enc.stdout, 12)
                size = struct.unpack('<I', ph[:4])[0]
                dec.stdin.write(ph + self.read_exact(enc.stdout, size))
                dec.stdin.flush()                                  # packet k, and nothing after it
                if out_hdr is None:
                    line = b''
                    while not line.endswith(b'\n'):
                        line += self.read_exact(dec.stdout, 1)
                    out_hdr = line
                pic = self.read_exact(dec.stdout, 6 + len(fr))
                self.assertTrue(pic.startswith(b'FRAME\n'), 'picture %d' % k)
            enc.stdin.close()
            dec.stdin.close()
            self.assertEqual(enc.wait(timeout=TIMEOUT), 0)
            self.assertEqual(dec.wait(timeout=TIMEOUT), 0)
        finally:
            for p in (enc, dec):
                if p.poll() is None:
                    p.kill()
                    p.wait()
                for f in (p.stdin, p.stdout):
                    if f and not f.closed:
                        f.close()


class RoundTrip(ToolCase):
    """Encode a 128x96 crop of 3 frames with --recon, decode, compare."""

    @classmethod
    def setUpClass(cls):
        check_tools()
        cls.ctmp = tempfile.TemporaryDirectory(prefix='neuvc_cli_rt_')
        d = cls.ctmp.name
        with open(clip_path(), 'rb') as f:
            cls.src = y4m_crop(f.read(), 128, 96, 3)
        cls.src_path = os.path.join(d, 'src.y4m')
        with open(cls.src_path, 'wb') as f:
            f.write(cls.src)
        cls.nvc = os.path.join(d, 'a.nvc')
        cls.recon_path = os.path.join(d, 'recon.y4m')
        cls.enc_res = run([ENC, '--qp', '32', '--recon', cls.recon_path, '-o', cls.nvc, cls.src_path])

    @classmethod
    def tearDownClass(cls):
        cls.ctmp.cleanup()

    def encoded(self):
        rc, _, err = self.enc_res
        self.assertEqual(rc, 0, 'neuvc-enc failed (the library must work for round trips): %s' % err)
        with open(self.nvc, 'rb') as f:
            stream = f.read()
        with open(self.recon_path, 'rb') as f:
            recon = f.read()
        return stream, recon, err

    def decode(self, *args, stdin_bytes=None):
        out = self.path('dec.y4m')
        rc, _, err = run([DEC] + list(args) + ['-o', out, self.nvc if stdin_bytes is None else '-'],
                         stdin_bytes=stdin_bytes)
        data = b''
        if os.path.exists(out):
            with open(out, 'rb') as f:
                data = f.read()
        return rc, data, err

    def test_decoded_equals_recon(self):
        stream, recon, _ = self.encoded()
        self.assertEqual(len(nvc_packets(stream)), 3)
        rc, data, err = self.decode()
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(y4m_parse(data)[4]), 3)
        self.assertEqual(data, recon, 'decoded Y4M differs from the encoder reconstruction')
        self.assertRegex(err, r'^decoded 3 frames, [\d.]+ fps\n$')

    def test_header_only_stream(self):
        """A stream of the sequence header alone is valid: zero frames."""
        stream, recon, _ = self.encoded()
        rc, data, err = self.decode(stdin_bytes=stream[:100])
        self.assertEqual(rc, 0, err)
        self.assertEqual(data, recon[:recon.index(b'\n') + 1])
        self.assertRegex(err, r'^decoded 0 frames, ')

    def test_input_option_and_quiet(self):
        self.encoded()
        out = self.path('q.nvc')
        rc, stdout, err = run([ENC, '--quiet', '-i', self.src_path, '--output=' + out])
        self.assertEqual((rc, stdout, err), (0, b'', ''))
        with open(out, 'rb') as f, open(self.nvc, 'rb') as g:
            self.assertEqual(f.read(), g.read(), 'the same input and settings gave another stream')

    def test_summary_line(self):
        stream, recon, err = self.encoded()
        m = re.fullmatch(r'encoded (\d+) frames, ([\d.]+) fps, ([\d.]+) kb/s, PSNR Y ([\d.]+) '
                         r'U ([\d.]+) V ([\d.]+) YUV ([\d.]+) dB( \(.*\))?\n', err)
        self.assertIsNotNone(m, 'summary line does not parse: %r' % err)
        _, w, h, fps, src_frames = y4m_parse(self.src)
        rec_frames = y4m_parse(recon)[4]
        self.assertEqual(int(m.group(1)), 3)
        kbps = len(stream) * 8 / 1000.0 / (3 * fps[1] / fps[0])
        self.assertAlmostEqual(float(m.group(3)), kbps, delta=0.01)
        want = mean_psnr(src_frames, rec_frames, w, h)
        for i, name in enumerate(('Y', 'U', 'V', 'YUV')):
            self.assertAlmostEqual(float(m.group(4 + i)), want[i], delta=0.01, msg='PSNR ' + name)
        self.assertGreater(want[3], 20.0, 'the reconstruction is not a picture of the source')

    def test_pipes(self):
        """cat src | neuvc-enc -o - - | neuvc-dec -o - - gives the same bytes."""
        _, recon, _ = self.encoded()
        check_tools()
        enc = subprocess.Popen([ENC, '--quiet', '-o', '-', '-'], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dec = subprocess.Popen([DEC, '--quiet', '-o', '-', '-'], stdin=enc.stdout,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        enc.stdout.close()
        enc.stdin.write(self.src)
        enc.stdin.close()
        out, derr = dec.communicate(timeout=TIMEOUT)
        eerr = enc.stderr.read()
        enc.stderr.close()
        self.assertEqual(enc.wait(timeout=TIMEOUT), 0, eerr)
        self.assertEqual(dec.returncode, 0, derr)
        self.assertEqual((eerr, derr), (b'', b''), '--quiet printed something')
        self.assertEqual(out, recon)

    def test_stats_complexity_line(self):
        """--stats adds one line: kMAC per pixel of the coded size, I and P,
        encoder and decoder, the encoder's above the decoder's."""
        self.encoded()
        out = self.path('stats.nvc')
        rc, _, err = run([ENC, '--stats', '--frames', '1', '-o', out, self.src_path])
        self.assertEqual(rc, 0, err)
        lines = err.strip().split('\n')
        self.assertEqual(len(lines), 2, err)
        m = re.match(r'complexity at (\d+)x(\d+) \(coded size\): I frames ([\d.]+) kMAC/px to encode, '
                     r'([\d.]+) to decode; P frames ([\d.]+) to encode, ([\d.]+) to decode$', lines[1])
        self.assertIsNotNone(m, lines[1])
        self.assertEqual((int(m.group(1)) % 64, int(m.group(2)) % 64), (0, 0))
        ie, idec, pe, pd = (float(m.group(k)) for k in range(3, 7))
        self.assertTrue(0 < idec < ie and 0 < pd < pe, lines[1])

    def test_frames_limit(self):
        self.encoded()
        out = self.path('two.nvc')
        rc, _, err = run([ENC, '--frames', '2', '-o', out, self.src_path])
        self.assertEqual(rc, 0, err)
        self.assertTrue(err.startswith('encoded 2 frames, '), err)
        with open(out, 'rb') as f:
            self.assertEqual(len(nvc_packets(f.read())), 2)
        rc, data, err = self.decode('--frames', '2')
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(y4m_parse(data)[4]), 2)

    def test_truncated_stream(self):
        """The frames before the cut are decoded; one error line; exit != 0."""
        stream, recon, _ = self.encoded()
        off, size = nvc_packets(stream)[2]
        cut = self.write('cut.nvc', stream[:off + 12 + size // 2])
        out = self.path('cut.y4m')
        res = run([DEC, '-o', out, cut])
        self.assert_one_error(res, 'neuvc-dec', 'frame 2', 'truncated')
        with open(out, 'rb') as f:
            frames = y4m_parse(f.read())[4]
        self.assertEqual(frames, y4m_parse(recon)[4][:2])

    def test_corrupt_packet_concealed(self):
        """A packet the decoder refuses: one line naming it, the previous
        picture in its place, decoding goes on, exit != 0; the P frame after
        it has no reference: a line of its own, concealed too."""
        stream, recon, _ = self.encoded()
        off, _ = nvc_packets(stream)[1]
        bad = bytearray(stream)
        bad[off + 12] = 7                          # frame type 7 does not exist
        p = self.write('bad.nvc', bytes(bad))
        out = self.path('bad.y4m')
        rc, so, err = run([DEC, '-o', out, p])
        self.assertEqual(rc, 1)
        lines = err.splitlines()
        self.assertEqual(len(lines), 2, 'one line per concealed frame: %r' % err)
        self.assertTrue(lines[0].startswith('neuvc-dec: frame 1: '), lines[0])
        self.assertTrue(lines[1].startswith('neuvc-dec: frame 2: '), lines[1])
        self.assertIn('since frame 1', lines[1])
        with open(out, 'rb') as f:
            frames = y4m_parse(f.read())[4]
        rec = y4m_parse(recon)[4]
        self.assertEqual(len(frames), 3)
        self.assertEqual(frames[0], rec[0])
        self.assertEqual(frames[1], rec[0], 'frame 1 is not concealed with frame 0')

    def test_truncated_y4m_keeps_valid_stream(self):
        self.encoded()
        p = self.write('cut.y4m', self.src[:-1000])
        o = self.path('cut.nvc')
        self.assert_one_error(run([ENC, '-o', o, p]), 'neuvc-enc', 'frame 2', 'truncated')
        with open(o, 'rb') as f:
            self.assertEqual(len(nvc_packets(f.read())), 2)
        rc, data, err = run([DEC, '-o', '-', o])
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(y4m_parse(data)[4]), 2)


if __name__ == '__main__':
    unittest.main(verbosity=2)
