#!/usr/bin/env python3
"""Tests of neuvc inside FFmpeg: the libneuvc encoder and decoder, the .nvc
demuxer and muxer, Matroska / NUT / AVI carriage, ffprobe, and a program
that uses only the public libavcodec API (ffmpeg_plugin/tests/api_roundtrip.c).

Needs FFmpeg built with neuvc (make ffmpeg, i.e. ffmpeg_plugin/build-ffmpeg.sh)
in build/ffmpeg ($NEUVC_FFMPEG_DIR if set), the tools $BUILD/neuvc-enc and $BUILD/neuvc-dec (make), a C
compiler and pkg-config, and the clip vmaf_park_joy_480x270_10f.y4m in
$NEUVC_CLIPS/eval or ../shared/clips/eval.  Anything missing is a failure that
says what to build, never a skip.

Run from the repository root:
    BUILD=build /usr/bin/python3 tests/test_ffmpeg.py -v

What "identical" means here: FFmpeg's decoding and neuvc-dec's of the same
packets are compared byte for byte, and the packets FFmpeg's encoder makes are
compared byte for byte with neuvc-enc's for the same settings.
"""

import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BUILD = os.environ.get('BUILD', 'build')
BUILD = BUILD if os.path.isabs(BUILD) else os.path.join(REPO, BUILD)
# FFmpeg is always built against the plain library in build/ (also when the
# suite runs under SANITIZE=1 with BUILD=build/san), so it is found there.
FFDIR = os.environ.get('NEUVC_FFMPEG_DIR') or os.path.join(REPO, 'build', 'ffmpeg')
FFMPEG = os.path.join(FFDIR, 'ffmpeg')
FFPROBE = os.path.join(FFDIR, 'ffprobe')
PREFIX = os.path.join(FFDIR, 'prefix')
ENC = os.path.join(BUILD, 'neuvc-enc')
DEC = os.path.join(BUILD, 'neuvc-dec')
API_SRC = os.path.join(REPO, 'ffmpeg_plugin', 'tests', 'api_roundtrip.c')
CLIP = 'vmaf_park_joy_480x270_10f.y4m'
TIMEOUT = 300
NVC_HEADER = 100


# ------------------------------------------------------------------ helpers

def clip_path():
    env = os.environ.get('NEUVC_CLIPS')
    root = os.path.abspath(env) if env else os.path.normpath(os.path.join(REPO, '..', 'shared', 'clips'))
    path = os.path.join(root, 'eval', CLIP)
    if not os.path.isfile(path):
        raise AssertionError('test clip %s is missing (set NEUVC_CLIPS to the clips directory)' % path)
    return path


def need(path, how):
    if not os.access(path, os.X_OK):
        raise AssertionError('%s is not built: %s' % (path, how))


def need_all():
    need(FFMPEG, 'run `make ffmpeg` (ffmpeg_plugin/build-ffmpeg.sh) first')
    need(FFPROBE, 'run `make ffmpeg` (ffmpeg_plugin/build-ffmpeg.sh) first')
    need(ENC, 'run `make` first')
    need(DEC, 'run `make` first')


def run(args, ok=True):
    """Runs a program; returns (rc, stdout bytes, stderr text).  With ok=True
    a non-zero exit status fails the test, showing stderr."""
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    err = r.stderr.decode('utf-8', errors='replace')
    if ok and r.returncode != 0:
        raise AssertionError('%s exited %d:\n%s' % (' '.join(args), r.returncode, err[-3000:]))
    return r.returncode, r.stdout, err


def ffmpeg(*args, ok=True):
    return run([FFMPEG, '-nostdin', '-hide_banner', '-y'] + list(args), ok=ok)


def ffprobe_json(path, *args):
    _, out, _ = run([FFPROBE, '-v', 'error', '-of', 'json'] + list(args) + [path])
    return json.loads(out.decode())


def frame_size(w, h):
    return w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)


def y4m_read(path):
    """(width, height, fps string, [frame bytes]) of a Y4M file."""
    with open(path, 'rb') as f:
        data = f.read()
    nl = data.index(b'\n')
    tags = data[:nl].decode('ascii').split()
    assert tags[0] == 'YUV4MPEG2', 'not Y4M: %s' % path
    w = int([t for t in tags if t[0] == 'W'][0][1:])
    h = int([t for t in tags if t[0] == 'H'][0][1:])
    fps = ([t[1:] for t in tags if t[0] == 'F'] or ['25:1'])[0]
    size = frame_size(w, h)
    frames, pos = [], nl + 1
    while pos < len(data):
        end = data.index(b'\n', pos)
        assert data[pos:end].startswith(b'FRAME'), 'bad FRAME line in %s' % path
        frames.append(data[end + 1:end + 1 + size])
        assert len(frames[-1]) == size, 'truncated frame in %s' % path
        pos = end + 1 + size
    return w, h, fps, frames


def y4m_write(path, w, h, fps, frames):
    with open(path, 'wb') as f:
        f.write(('YUV4MPEG2 W%d H%d F%s Ip A1:1 C420jpeg\n' % (w, h, fps)).encode())
        for fr in frames:
            f.write(b'FRAME\n')
            f.write(fr)


def crop_frame(fr, w, h, cw, ch):
    """Top-left cw x ch of a 4:2:0 frame (odd sizes allowed)."""
    c, cc, chh = (w + 1) // 2, (cw + 1) // 2, (ch + 1) // 2
    y = b''.join(fr[r * w:r * w + cw] for r in range(ch))
    u0 = w * h
    v0 = u0 + c * ((h + 1) // 2)
    u = b''.join(fr[u0 + r * c:u0 + r * c + cc] for r in range(chh))
    v = b''.join(fr[v0 + r * c:v0 + r * c + cc] for r in range(chh))
    return y + u + v


def raw_frames(path, w, h):
    with open(path, 'rb') as f:
        data = f.read()
    size = frame_size(w, h)
    assert len(data) % size == 0, '%s: %d bytes is not a whole number of %dx%d frames' % (
        path, len(data), w, h)
    return [data[i:i + size] for i in range(0, len(data), size)]


def nvc_read(path):
    """(header bytes, [(pts, payload)]) of an .nvc file."""
    with open(path, 'rb') as f:
        data = f.read()
    assert data[:4] == b'NVC1', '%s is not an .nvc file' % path
    header, pos, pkts = data[:NVC_HEADER], NVC_HEADER, []
    while pos < len(data):
        size, pts = struct.unpack_from('<Iq', data, pos)
        pos += 12
        pkts.append((pts, data[pos:pos + size]))
        assert len(pkts[-1][1]) == size, 'truncated packet in %s' % path
        pos += size
    return header, pkts


def nvc_write(path, header, pkts):
    with open(path, 'wb') as f:
        f.write(header)
        for pts, payload in pkts:
            f.write(struct.pack('<Iq', len(payload), pts))
            f.write(payload)


class Base(unittest.TestCase):
    """Per test: a temporary directory with the clip (10 frames 480x270) and
    a small odd-sized crop of it (5 frames 201x111)."""

    def setUp(self):
        need_all()
        self.tmp = tempfile.mkdtemp(prefix='neuvc-ffmpeg-')
        self.clip = clip_path()
        self.w, self.h, self.fps, self.src = y4m_read(self.clip)
        self.ow, self.oh = 201, 111
        self.odd = self.p('odd.y4m')
        y4m_write(self.odd, self.ow, self.oh, self.fps,
                  [crop_frame(f, self.w, self.h, self.ow, self.oh) for f in self.src[:5]])

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def p(self, name):
        return os.path.join(self.tmp, name)

    def neuvc_enc(self, y4m, out, *opts):
        run([ENC, '--quiet'] + list(opts) + ['-o', out, y4m])
        return nvc_read(out)

    def neuvc_dec(self, nvc):
        out = self.p(os.path.basename(nvc) + '.dec.y4m')
        run([DEC, '--quiet', '-o', out, nvc])
        return y4m_read(out)[3]

    def ff_decode(self, path, w, h, *extra):
        """FFmpeg's decoding of path, every frame as it comes (no frame rate
        conversion), as a list of raw 4:2:0 frames."""
        out = self.p(os.path.basename(path) + '.ff.yuv')
        _, _, err = ffmpeg(*extra, '-i', path, '-map', '0:v', '-fps_mode', 'passthrough',
                           '-c:v', 'rawvideo', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', out)
        return raw_frames(out, w, h), err

    def ff_encode(self, y4m, out, *opts):
        ffmpeg('-i', y4m, '-c:v', 'libneuvc', *opts, out)

    def assertSameFrames(self, a, b, what):
        self.assertEqual(len(a), len(b), '%s: %d frames against %d' % (what, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                diff = sum(1 for u, v in zip(x, y) if u != v)
                self.fail('%s: frame %d differs (%d of %d bytes)' % (what, i, diff, len(x)))

    def assertSamePackets(self, got, ref, what):
        self.assertEqual(len(got), len(ref), '%s: %d packets against %d' % (what, len(got), len(ref)))
        for i, (g, r) in enumerate(zip(got, ref)):
            self.assertEqual(g[1], r[1], '%s: payload of packet %d differs' % (what, i))


# ------------------------------------------------------------------ build

class Build(Base):
    def test_programs_know_neuvc(self):
        _, out, _ = run([FFMPEG, '-hide_banner', '-codecs'])
        line = [l for l in out.decode().splitlines() if ' neuvc ' in l]
        self.assertTrue(line, 'ffmpeg -codecs lists no neuvc')
        self.assertIn('encoders: libneuvc', line[0])
        self.assertIn('decoders: libneuvc', line[0])
        _, out, _ = run([FFMPEG, '-hide_banner', '-formats'])
        self.assertRegex(out.decode(), r'(?m)^ DE nvc +raw neuvc stream')
        _, out, _ = run([FFMPEG, '-hide_banner', '-filters'])
        for f in ('psnr', 'ssim', 'scale', 'format'):
            self.assertRegex(out.decode(), r'(?m)^ \S+ %s ' % f, 'filter %s missing' % f)
        _, out, _ = run([FFMPEG, '-hide_banner', '-encoders'])
        self.assertIn('libx264', out.decode())


# ------------------------------------------------------------------ containers

class Containers(Base):
    """ffmpeg -i clip.y4m -c:v libneuvc out.EXT; FFmpeg's decoding of out.EXT
    is byte-identical to neuvc-dec's decoding of the same packets (remuxed
    to .nvc), and the packets are those neuvc-enc makes with the same qp."""

    def roundtrip(self, ext, y4m=None, qp='30'):
        y4m = y4m or self.clip
        w, h, _, src = y4m_read(y4m)
        out = self.p('out.' + ext)
        self.ff_encode(y4m, out, '-qp', qp)
        ref_hdr, ref_pkts = self.neuvc_enc(y4m, self.p('ref.nvc'), '--qp', qp,
                                           '--recon', self.p('recon.y4m'))
        remux = self.p('remux_%s.nvc' % ext)
        ffmpeg('-i', out, '-map', '0:v', '-c', 'copy', remux)
        hdr, pkts = nvc_read(remux)
        self.assertEqual(hdr, ref_hdr, '%s: sequence header differs from neuvc-enc\'s' % ext)
        self.assertSamePackets(pkts, ref_pkts, '%s vs neuvc-enc' % ext)
        self.assertEqual([p[0] for p in pkts], list(range(len(src))), '%s: pts' % ext)
        ff, _ = self.ff_decode(out, w, h)
        self.assertEqual(len(ff), len(src))
        self.assertSameFrames(ff, self.neuvc_dec(remux), '%s: FFmpeg vs neuvc-dec' % ext)
        self.assertSameFrames(ff, y4m_read(self.p('recon.y4m'))[3],
                              '%s: FFmpeg vs the encoder\'s reconstruction' % ext)
        return out

    def test_matroska(self):
        self.roundtrip('mkv')

    def test_nut(self):
        self.roundtrip('nut')

    def test_avi(self):
        out = self.roundtrip('avi')
        st = ffprobe_json(out, '-show_streams')['streams'][0]
        self.assertEqual(st['codec_tag_string'], 'NVC1')

    def test_matroska_odd_size(self):
        self.roundtrip('mkv', self.odd, qp='22')

    def test_matroska_codec_id(self):
        out = self.p('out.mkv')
        self.ff_encode(self.odd, out)
        hdr = self.neuvc_enc(self.odd, self.p('r.nvc'))[0]
        with open(out, 'rb') as f:
            data = f.read()
        self.assertIn(b'V_NEUVC', data, 'no Matroska CodecID V_NEUVC')
        self.assertIn(hdr, data, 'the sequence header is not the CodecPrivate of the track')

    def test_ffprobe_names_codec_and_size(self):
        for y4m, w, h in ((self.clip, self.w, self.h), (self.odd, self.ow, self.oh)):
            out = self.p('probe.mkv')
            self.ff_encode(y4m, out)
            st = ffprobe_json(out, '-show_streams')['streams']
            self.assertEqual(len(st), 1)
            self.assertEqual(st[0]['codec_type'], 'video')
            self.assertEqual(st[0]['codec_name'], 'neuvc')
            self.assertIn('neuvc', st[0]['codec_long_name'])
            self.assertEqual((st[0]['width'], st[0]['height']), (w, h))
            self.assertEqual(st[0]['pix_fmt'], 'yuv420p')
            self.assertEqual(int(st[0]['extradata_size']), NVC_HEADER)


# ------------------------------------------------------------------ .nvc

class Nvc(Base):
    def test_neuvc_enc_stream_plays_in_ffmpeg(self):
        ref = self.p('ref.nvc')
        ref_pkts = self.neuvc_enc(self.clip, ref, '--qp', '34')[1]
        ff, _ = self.ff_decode(ref, self.w, self.h)
        self.assertSameFrames(ff, self.neuvc_dec(ref), 'FFmpeg vs neuvc-dec on neuvc-enc\'s .nvc')
        st = ffprobe_json(ref, '-show_streams', '-show_format')
        self.assertEqual(st['format']['format_name'], 'nvc')
        self.assertEqual(st['streams'][0]['codec_name'], 'neuvc')
        self.assertEqual((st['streams'][0]['width'], st['streams'][0]['height']), (self.w, self.h))
        self.assertEqual(st['streams'][0]['r_frame_rate'], self.fps.replace(':', '/'))
        n = len(self.src)
        pk = ffprobe_json(ref, '-show_packets')['packets']
        self.assertEqual([p['pts'] for p in pk], list(range(n)), 'packet pts of the .nvc')
        self.assertEqual([p['flags'][0] == 'K' for p in pk], [q[1][0] == 0 for q in ref_pkts],
                         'key flags against the frame types')
        fr = ffprobe_json(ref, '-show_frames')['frames']
        self.assertEqual([f['pts'] for f in fr], list(range(n)), 'frame pts of the .nvc')
        # through Matroska too (stream copy), and back to .nvc unchanged
        mkv = self.p('copy.mkv')
        ffmpeg('-i', ref, '-c', 'copy', mkv)
        ff2, _ = self.ff_decode(mkv, self.w, self.h)
        self.assertSameFrames(ff2, ff, 'neuvc-enc\'s stream copied into Matroska')
        back = self.p('back.nvc')
        ffmpeg('-i', mkv, '-c', 'copy', back)
        with open(ref, 'rb') as a, open(back, 'rb') as b:
            self.assertEqual(a.read(), b.read(), '.nvc -> mkv -> .nvc changed the file')

    def test_ffmpeg_stream_decodes_with_neuvc_dec(self):
        out = self.p('ff.nvc')
        self.ff_encode(self.odd, out, '-qp', '26')
        ref = self.p('ref.nvc')
        self.neuvc_enc(self.odd, ref, '--qp', '26')
        with open(out, 'rb') as a, open(ref, 'rb') as b:
            self.assertEqual(a.read(), b.read(), 'ffmpeg -c:v libneuvc out.nvc differs from neuvc-enc')
        ff, _ = self.ff_decode(out, self.ow, self.oh)
        self.assertSameFrames(self.neuvc_dec(out), ff, 'neuvc-dec vs FFmpeg on FFmpeg\'s .nvc')

    def test_not_nvc_and_truncated(self):
        bad = self.p('bad.nvc')
        with open(bad, 'wb') as f:
            f.write(b'NVC1' + b'\0' * 20)
        rc, _, err = ffmpeg('-i', bad, '-f', 'null', '-', ok=False)
        self.assertNotEqual(rc, 0)
        self.assertTrue(rc > 0, 'ffmpeg died of a signal')
        # a file cut inside the last packet: the frames before it decode
        ref = self.p('ref.nvc')
        hdr, pkts = self.neuvc_enc(self.odd, ref)
        with open(ref, 'rb') as f:
            data = f.read()
        cut = self.p('cut.nvc')
        with open(cut, 'wb') as f:
            f.write(data[:-5])
        ff, err = self.ff_decode(cut, self.ow, self.oh)
        self.assertIn('truncated', err)
        self.assertSameFrames(ff, self.neuvc_dec(ref)[:len(pkts) - 1], 'frames before the cut')


# ------------------------------------------------------------------ encoder options

class EncoderOptions(Base):
    """Each FFmpeg option gives exactly the packets of the neuvc-enc option
    it stands for."""

    def same(self, ff_opts, enc_opts):
        out = self.p('opt.nvc')
        self.ff_encode(self.odd, out, *ff_opts)
        got = nvc_read(out)[1]
        ref = self.neuvc_enc(self.odd, self.p('optref.nvc'), *enc_opts)[1]
        self.assertSamePackets(got, ref, '%s vs neuvc-enc %s' % (' '.join(ff_opts), ' '.join(enc_opts)))
        return got

    def test_qp_and_gop(self):
        pkts = self.same(['-qp', '40', '-g', '3'], ['--qp', '40', '--keyint', '3'])
        for i in (0, 3):
            self.assertEqual(pkts[i][1][0], 0, 'packet %d should be intra (-g 3)' % i)
            self.assertEqual(pkts[i][1][1], 40, 'packet %d: qp byte' % i)

    def test_default_gop_is_libneuvc_default(self):
        self.same([], [])

    def test_neuvc_params(self):
        self.same(['-neuvc-params', 'qp=20:keyint=0'], ['--qp', '20', '--keyint', '0'])

    def test_neuvc_params_win_over_qp(self):
        self.same(['-qp', '10', '-neuvc-params', 'qp=45'], ['--qp', '45'])

    def test_threads_do_not_change_bits(self):
        a = self.same(['-threads', '1', '-qp', '33'], ['--qp', '33', '--threads', '1'])
        b = self.same(['-threads', '2', '-qp', '33'], ['--qp', '33', '--threads', '2'])
        self.assertSamePackets(a, b, '-threads 1 vs 2')

    def test_forced_keyframe(self):
        out = self.p('kf.nvc')
        self.ff_encode(self.odd, out, '-g', '0', '-force_key_frames', 'expr:eq(n,3)')
        pkts = nvc_read(out)[1]
        self.assertEqual(pkts[0][1][0], 0, 'first frame not intra')
        self.assertEqual(pkts[3][1][0], 0, 'frame 3 (forced) not intra')
        kf = [p['flags'] for p in ffprobe_json(out, '-show_packets')['packets']]
        self.assertTrue(kf[3].startswith('K'), 'packet 3 has no key flag: %s' % kf)

    def test_bad_params_refused(self):
        for opts, word in ((['-neuvc-params', 'nosuchkey=1'], 'nosuchkey'),
                           (['-neuvc-params', 'qp=99'], 'qp'),
                           (['-qp', '64'], 'qp')):
            rc, _, err = ffmpeg('-i', self.odd, '-c:v', 'libneuvc', *opts, self.p('x.mkv'), ok=False)
            self.assertNotEqual(rc, 0, '%s accepted' % opts)
            self.assertTrue(rc > 0, 'ffmpeg died of a signal')
            self.assertIn(word, err)

    def test_bitrate(self):
        """-b:v / -maxrate / -bufsize are neuvc-enc's --bitrate / --vbv-*,
        packet for packet, and land near the target."""
        pkts = self.same(['-b:v', '800k', '-maxrate', '800k', '-bufsize', '800k'],
                         ['--bitrate', '800', '--vbv-maxrate', '800', '--vbv-bufsize', '800'])
        kbps = sum(len(p[1]) for p in pkts) * 8 / 1000.0 / (len(pkts) * eval_fps(self.fps))
        self.assertLess(abs(kbps - 800) / 800, 0.5, 'bitrate %.0f kb/s for a target of 800' % kbps)
        self.same(['-b:v', '300k'], ['--bitrate', '300'])

    def test_bitrate_refused_without_vbv_buffer(self):
        rc, _, err = ffmpeg('-i', self.odd, '-c:v', 'libneuvc', '-b:v', '800k', '-maxrate', '900k',
                            self.p('x.mkv'), ok=False)
        self.assertTrue(rc > 0, 'ffmpeg accepted -maxrate without -bufsize (or died): %d' % rc)

    def test_forced_keyframe_with_rate_control(self):
        out = self.p('kfrc.nvc')
        self.ff_encode(self.odd, out, '-b:v', '500k', '-force_key_frames', 'expr:eq(n,2)+eq(n,4)')
        pkts = nvc_read(out)[1]
        self.assertEqual([p[1][0] for p in pkts], [0, 1, 0, 1, 0], 'frame types')

    def test_intra_refresh(self):
        """intra-refresh through -neuvc-params: no intra frame after the
        first, every P frame a refresh frame (-g 2: a cycle of the 2 bands
        of this height every 2 frames), and neuvc-dec decodes it as FFmpeg
        does."""
        out = self.p('ir.nvc')
        pkts = self.same(['-g', '2', '-neuvc-params', 'intra-refresh=1'],
                         ['--keyint', '2', '--intra-refresh'])
        self.assertEqual([p[1][0] for p in pkts], [0] + [1] * (len(pkts) - 1))
        self.assertTrue(all(p[1][2] & 1 for p in pkts[1:]), 'P frames without the refresh flag')
        self.ff_encode(self.odd, out, '-g', '2', '-neuvc-params', 'intra-refresh=1')
        ff, _ = self.ff_decode(out, self.ow, self.oh)
        self.assertSameFrames(ff, self.neuvc_dec(out), 'intra refresh stream')


def eval_fps(fps):
    n, d = fps.split(':')
    return int(d) / int(n)


# ------------------------------------------------------------------ decoder

class Decoder(Base):
    def test_pts_and_format(self):
        out = self.p('pts.mkv')
        self.ff_encode(self.clip, out)
        pk = ffprobe_json(out, '-show_packets')['packets']
        fr = ffprobe_json(out, '-show_frames')['frames']
        self.assertEqual(len(fr), len(self.src))
        self.assertEqual([f['pts'] for f in fr], [p['pts'] for p in pk])
        self.assertEqual([p['pts'] for p in pk], [i * 20 for i in range(len(self.src))])  # 50 fps, ms
        for f in fr:
            self.assertEqual((f['pix_fmt'], f['width'], f['height']), ('yuv420p', self.w, self.h))
            self.assertEqual(f['pict_type'] == 'I', f['key_frame'] == 1)

    def test_corrupt_packets(self):
        """A corrupt packet gives 'Invalid data'; P frames after it are
        skipped; decoding goes on at the next intra frame, identically."""
        ref = self.p('ref.nvc')
        hdr, pkts = self.neuvc_enc(self.clip, ref, '--keyint', '4')
        clean = self.neuvc_dec(ref)
        bad = list(pkts)
        p3 = bytearray(bad[3][1])
        p3[2] |= 0x80                           # a reserved frame flag
        bad[3] = (bad[3][0], bytes(p3))
        bad[6] = (bad[6][0], bad[6][1][:-1])    # sub-streams no longer add up
        corrupt = self.p('corrupt.nvc')
        nvc_write(corrupt, hdr, bad)
        expect, need_intra = [], False
        for i, (_, payload) in enumerate(bad):
            if i in (3, 6):
                need_intra = True
                continue
            if need_intra and payload[0] != 0:
                continue
            need_intra = False
            expect.append(clean[i])
        for path in (corrupt, self.p('corrupt.mkv')):
            if path.endswith('.mkv'):
                ffmpeg('-i', corrupt, '-c', 'copy', path)
            ff, err = self.ff_decode(path, self.w, self.h)
            self.assertIn('Invalid data', err)
            self.assertSameFrames(ff, expect, 'decoding around corrupt packets (%s)' % path)


# ------------------------------------------------------------------ public API

class PublicApi(Base):
    def test_api_roundtrip(self):
        """ffmpeg_plugin/tests/api_roundtrip.c, built against the installed
        libavcodec, encodes and decodes 30 frames in memory; its packets
        decode with neuvc-dec to exactly what libavcodec decoded."""
        env = dict(os.environ)
        env['PKG_CONFIG_PATH'] = os.path.join(PREFIX, 'lib', 'pkgconfig')
        r = subprocess.run(['pkg-config', '--cflags', '--libs', 'libavcodec', 'libavutil'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.assertEqual(r.returncode, 0, 'pkg-config does not find libavcodec in %s: %s' % (
            PREFIX, r.stderr.decode()))
        exe = self.p('api_roundtrip')
        cc = os.environ.get('CC', 'cc')
        run([cc, '-std=c11', '-O1', '-Wall', '-Wextra', '-Werror', '-o', exe, API_SRC]
            + r.stdout.decode().split() + ['-lm'])
        _, out, _ = run([exe, self.tmp])
        self.assertIn('api_roundtrip: 30 frames', out.decode())
        hdr, pkts = nvc_read(self.p('api.nvc'))
        self.assertEqual(len(pkts), 30)
        w, h = struct.unpack_from('<HH', hdr, 8)
        self.assertEqual((w, h), (173, 99))
        self.assertSameFrames(raw_frames(self.p('api.yuv'), w, h), self.neuvc_dec(self.p('api.nvc')),
                              'libavcodec (in memory) vs neuvc-dec')


if __name__ == '__main__':
    unittest.main()
