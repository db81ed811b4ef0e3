#!/usr/bin/env python3
"""Tests of tools/metrics.py: Y4M reading, PSNR, MS-SSIM and BD-rate.

Run by `make check` (tests/run.sh) or directly:
    /usr/bin/python3 tests/test_metrics.py -v

Needs numpy, ffmpeg on PATH and the evaluation clips ($NEUVC_CLIPS/eval or
../shared/clips/eval); a missing clip directory or ffmpeg is a failure, not
a skip.  The neuvc tools are not needed.
"""

import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tools'))
import metrics  # noqa: E402

CLIP = 'vmaf_park_joy_480x270_10f.y4m'


def clips_eval_dir():
    env = os.environ.get('NEUVC_CLIPS')
    root = os.path.abspath(env) if env else os.path.normpath(os.path.join(REPO, '..', 'shared', 'clips'))
    return os.path.join(root, 'eval')


def ffmpeg(*args):
    exe = shutil.which('ffmpeg')
    if exe is None:
        raise AssertionError('ffmpeg is not on PATH: these tests need it (Debian package ffmpeg)')
    r = subprocess.run([exe, '-nostdin', '-hide_banner', '-loglevel', 'error', '-y'] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise AssertionError('ffmpeg %s failed: %s' % (' '.join(args), r.stderr.decode(errors='replace')))
    return r.stdout


def parse_stats(path):
    """ffmpeg psnr/ssim stats_file: one dict of key -> float per frame."""
    frames = []
    with open(path) as f:
        for line in f:
            d = {}
            for tok in line.split():
                if ':' in tok:
                    k, v = tok.split(':', 1)
                    d[k] = float(v)
            if d:
                frames.append(d)
    return frames


# Independent, slow reference of single-scale SSIM: explicit 11x11 windows
# in float64, two-pass variance (no E[x^2] - mu^2 shortcut, no separable
# filter, no bands).
def brute_ssim_terms(x, y):
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    g = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5 ** 2))
    w = np.outer(g, g)
    w /= w.sum()
    wx = np.lib.stride_tricks.sliding_window_view(x, (11, 11))
    wy = np.lib.stride_tricks.sliding_window_view(y, (11, 11))
    mx = np.einsum('ijkl,kl->ij', wx, w)
    my = np.einsum('ijkl,kl->ij', wy, w)
    dx = wx - mx[:, :, None, None]
    dy = wy - my[:, :, None, None]
    vx = np.einsum('ijkl,kl->ij', dx * dx, w)
    vy = np.einsum('ijkl,kl->ij', dy * dy, w)
    cxy = np.einsum('ijkl,kl->ij', dx * dy, w)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    cs = (2 * cxy + c2) / (vx + vy + c2)
    lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return float(np.mean(lum * cs)), float(np.mean(cs))


def brute_ms_ssim(x, y, weights=(0.0448, 0.2856, 0.3001, 0.2363, 0.1333)):
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    res = 1.0
    for s, wgt in enumerate(weights):
        ssim_mean, cs_mean = brute_ssim_terms(x, y)
        res *= (ssim_mean if s == len(weights) - 1 else cs_mean) ** wgt
        # 2x2 mean, an odd last row/column repeated (edge padding)
        ph, pw = x.shape[0] % 2, x.shape[1] % 2
        x = np.pad(x, ((0, ph), (0, pw)), mode='edge')
        y = np.pad(y, ((0, ph), (0, pw)), mode='edge')
        h2, w2 = x.shape[0] // 2, x.shape[1] // 2
        x = x.reshape(h2, 2, w2, 2).mean(axis=(1, 3))
        y = y.reshape(h2, 2, w2, 2).mean(axis=(1, 3))
    return res


class ClipFiles(unittest.TestCase):
    """A real crop (odd size 201x117, 8 frames) and distorted versions."""

    @classmethod
    def setUpClass(cls):
        src = os.path.join(clips_eval_dir(), CLIP)
        if not os.path.isfile(src):
            raise AssertionError(
                'evaluation clip %s not found: the metric tests need ../shared/clips/eval '
                '(or $NEUVC_CLIPS/eval). This is a failure, not a skip.' % src)
        cls.tmp = tempfile.mkdtemp(prefix='neuvc_test_metrics_')
        cls.ref = os.path.join(cls.tmp, 'ref.y4m')
        cls.dist = os.path.join(cls.tmp, 'dist.y4m')
        ffmpeg('-i', src, '-frames:v', '8', '-vf', 'crop=201:117:41:61:exact=1',
               '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', cls.ref)
        ffmpeg('-i', cls.ref, '-vf', 'gblur=sigma=0.8,noise=alls=6:allf=t',
               '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', cls.dist)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)


class TestY4M(ClipFiles):
    def test_odd_size_matches_ffmpeg_raw(self):
        raw = ffmpeg('-i', self.ref, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-')
        frames = metrics.read_y4m(self.ref)
        self.assertEqual(len(frames), 8)
        y, u, v = frames[0]
        self.assertEqual(y.shape, (117, 201))
        self.assertEqual(u.shape, (59, 101))
        self.assertEqual(v.shape, (59, 101))
        ours = b''.join(p.tobytes() for fr in frames for p in fr)
        self.assertEqual(len(ours), len(raw))
        self.assertTrue(ours == raw, 'planes differ from ffmpeg rawvideo output')

    def test_writer_read_by_ffmpeg(self):
        rng = np.random.default_rng(7)
        frames = [(rng.integers(0, 256, (13, 15), dtype=np.uint8),
                   rng.integers(0, 256, (7, 8), dtype=np.uint8),
                   rng.integers(0, 256, (7, 8), dtype=np.uint8)) for _ in range(3)]
        p = os.path.join(self.tmp, 'w.y4m')
        metrics.write_y4m(p, frames)
        raw = ffmpeg('-i', p, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-')
        self.assertEqual(raw, b''.join(pl.tobytes() for fr in frames for pl in fr))
        with metrics.Y4MReader(p) as r:
            self.assertEqual(r.count_frames(), 3)

    def test_frame_parameters_and_errors(self):
        p = os.path.join(self.tmp, 'params.y4m')
        y = np.arange(12, dtype=np.uint8).reshape(3, 4)
        u = np.full((2, 2), 7, np.uint8)
        v = np.full((2, 2), 9, np.uint8)
        with open(p, 'wb') as f:
            f.write(b'YUV4MPEG2 W4 H3 F30000:1001 Ip C420mpeg2 XYSCSS=420MPEG2\n')
            f.write(b'FRAME Ip XFOO=1\n' + y.tobytes() + u.tobytes() + v.tobytes())
            f.write(b'FRAME\n' + (255 - y).tobytes() + v.tobytes() + u.tobytes())
            f.write(b'FRAME\n' + y.tobytes()[:5])          # truncated third frame
        with metrics.Y4MReader(p) as r:
            self.assertAlmostEqual(float(r.fps), 30000 / 1001)
            self.assertEqual(r.count_frames(), 2)
            f1 = r.read_frame()
            f2 = r.read_frame()
            np.testing.assert_array_equal(f1[0], y)
            np.testing.assert_array_equal(f2[0], 255 - y)
            np.testing.assert_array_equal(f2[1], v)
            with self.assertRaises(metrics.Y4MError):
                r.read_frame()
        q = os.path.join(self.tmp, 'c444.y4m')
        with open(q, 'wb') as f:
            f.write(b'YUV4MPEG2 W4 H3 F25:1 C444\nFRAME\n' + bytes(36))
        with self.assertRaises(metrics.Y4MError):
            metrics.Y4MReader(q)
        with open(q, 'wb') as f:
            f.write(b'RIFF....')
        with self.assertRaises(metrics.Y4MError):
            metrics.Y4MReader(q)


class TestPSNR(ClipFiles):
    def test_against_ffmpeg_psnr_filter(self):
        stats = os.path.join(self.tmp, 'psnr.log')
        ffmpeg('-i', self.dist, '-i', self.ref, '-lavfi', 'psnr=stats_file=' + stats, '-f', 'null', '-')
        ff = parse_stats(stats)
        m = metrics.compare_y4m(self.ref, self.dist, with_msssim=False)
        self.assertEqual(m['frames'], 8)
        self.assertEqual(len(ff), 8)
        ref = metrics.read_y4m(self.ref)
        dist = metrics.read_y4m(self.dist)
        # ffmpeg prints PSNR and MSE with 2 decimals: agreement within the
        # rounding (0.005) plus float slack.
        for i in range(8):
            for k, plane in (('y', 0), ('u', 1), ('v', 2)):
                self.assertAlmostEqual(m['psnr_' + k][i], ff[i]['psnr_' + k], delta=0.0051,
                                       msg='frame %d plane %s' % (i, k))
                self.assertAlmostEqual(metrics.mse_plane(ref[i][plane], dist[i][plane]),
                                       ff[i]['mse_' + k], delta=0.0051)
            self.assertGreater(m['psnr_y'][i], 20.0)
            self.assertLess(m['psnr_y'][i], 45.0)
            want = (6 * m['psnr_y'][i] + m['psnr_u'][i] + m['psnr_v'][i]) / 8
            self.assertAlmostEqual(m['psnr_yuv'][i], want, places=12)

    def test_hand_cases(self):
        a = np.full((4, 6), 100, np.uint8)
        b = a + 1
        self.assertAlmostEqual(metrics.psnr_plane(a, b), 48.1308036086791, places=9)
        c = a.copy()
        c[0, 0] = 110                       # one sample off by 10: MSE = 100/24
        self.assertAlmostEqual(metrics.psnr_plane(a, c), 10 * math.log10(255 ** 2 * 24 / 100.0), places=9)
        self.assertEqual(metrics.psnr_plane(a, a), metrics.PSNR_CAP)
        self.assertEqual(metrics.PSNR_CAP, 100.0)
        self.assertEqual(metrics.psnr_from_mse(1e-12), 100.0)   # capped, not 168 dB
        self.assertAlmostEqual(metrics.psnr_yuv(40.0, 30.0, 20.0), 36.25)
        with self.assertRaises(ValueError):
            metrics.psnr_plane(a, np.zeros((4, 5), np.uint8))
        # the 8-bit difference must not wrap around (uint8 arithmetic bug)
        z = np.zeros((2, 2), np.uint8)
        f = np.full((2, 2), 255, np.uint8)
        self.assertAlmostEqual(metrics.psnr_plane(z, f), 0.0, places=12)
        self.assertAlmostEqual(metrics.psnr_plane(f, z), 0.0, places=12)

    def test_identical_frame_is_capped(self):
        frames = metrics.read_y4m(self.ref)
        dist = [tuple(p.copy() for p in fr) for fr in frames]
        dist[1][1][3, 4] ^= 1                 # frame 1: one chroma sample differs
        p = os.path.join(self.tmp, 'nearly.y4m')
        metrics.write_y4m(p, dist)
        m = metrics.compare_y4m(self.ref, p)
        self.assertEqual(m['psnr_y'][0], 100.0)
        self.assertEqual(m['psnr_yuv'][0], 100.0)
        self.assertAlmostEqual(m['ms_ssim'][0], 1.0, places=6)
        self.assertEqual(m['psnr_y'][1], 100.0)
        self.assertAlmostEqual(m['psnr_u'][1], 10 * math.log10(255 ** 2 * 59 * 101), places=6)

    def test_short_distorted_file_is_an_error(self):
        p = os.path.join(self.tmp, 'short.y4m')
        metrics.write_y4m(p, metrics.read_y4m(self.dist, max_frames=5))
        with self.assertRaises(metrics.Y4MError):
            metrics.compare_y4m(self.ref, p)
        m = metrics.compare_y4m(self.ref, p, max_frames=5, with_msssim=False)
        self.assertEqual(m['frames'], 5)


class TestMSSSIM(ClipFiles):
    def test_identical_is_one(self):
        y = metrics.read_y4m(self.ref, max_frames=1)[0][0]
        self.assertAlmostEqual(metrics.ms_ssim(y, y), 1.0, places=6)
        self.assertAlmostEqual(metrics.ssim(y, y), 1.0, places=6)

    def test_constant_pictures_hand_value(self):
        # Two flat pictures 100 and 110: every variance and covariance is 0,
        # so cs = C2/C2 = 1 at every scale and only the luminance term at
        # the coarsest scale remains:
        #   l = (2*100*110 + C1) / (100^2 + 110^2 + C1), C1 = 2.55^2 = 6.5025
        #     = 22006.5025 / 22106.5025 = 0.99547644409...
        #   MS-SSIM = l^0.1333 = 0.99939582...
        a = np.full((256, 300), 100, np.uint8)
        b = np.full((256, 300), 110, np.uint8)
        lum = 22006.5025 / 22106.5025
        self.assertAlmostEqual(metrics.ms_ssim(a, b), lum ** 0.1333, places=6)
        self.assertAlmostEqual(metrics.ms_ssim(a, b), 0.9993958246, places=6)
        # 64x64 fits 3 scales (64, 32, 16 >= 11; 8 < 11): weights 0.0448,
        # 0.2856, 0.3001 renormalised, so the exponent is 0.3001/0.6305.
        self.assertEqual(metrics.ms_ssim_scales(64, 64), 3)
        a, b = a[:64, :64], b[:64, :64]
        self.assertAlmostEqual(metrics.ms_ssim(a, b), lum ** (0.3001 / 0.6305), places=6)

    def test_scales_for_small_pictures(self):
        # sizes are rounded up at each halving (odd edges are averaged with
        # themselves), so 161 still fits 5 scales: 161, 81, 41, 21, 11
        self.assertEqual(metrics.ms_ssim_scales(176, 176), 5)
        self.assertEqual(metrics.ms_ssim_scales(161, 300), 5)
        self.assertEqual(metrics.ms_ssim_scales(300, 160), 4)     # 160, 80, 40, 20 (10 < 11)
        self.assertEqual(metrics.ms_ssim_scales(21, 21), 2)       # 21, 11
        self.assertEqual(metrics.ms_ssim_scales(11, 11), 1)
        self.assertEqual(metrics.ms_ssim_scales(10, 300), 0)
        with self.assertRaises(ValueError):
            metrics.ms_ssim(np.zeros((10, 40), np.uint8), np.zeros((10, 40), np.uint8))

    def test_against_brute_force(self):
        ref = metrics.read_y4m(self.ref, max_frames=2)
        dist = metrics.read_y4m(self.dist, max_frames=2)
        for i in range(2):
            x, y = ref[i][0], dist[i][0]
            bs, bc = brute_ssim_terms(x, y)
            s, c = metrics.ssim_terms(x, y)
            self.assertAlmostEqual(s, bs, delta=2e-6)
            self.assertAlmostEqual(c, bc, delta=2e-6)
            # 201x117 fits 4 scales only; check the combination with a
            # 5-scale brute force on a 190x181 crop of the full frame too.
            n = metrics.ms_ssim_scales(*x.shape)
            self.assertEqual(n, 4)
            w = np.array(metrics.MSSSIM_WEIGHTS[:4])
            self.assertAlmostEqual(metrics.ms_ssim(x, y), brute_ms_ssim(x, y, tuple(w / w.sum())),
                                   delta=5e-6)
        rng = np.random.default_rng(3)
        big = rng.integers(0, 256, (181, 190)).astype(np.float64)
        # a smooth picture plus noise so that every scale has structure
        yy, xx = np.mgrid[0:181, 0:190]
        x = np.clip(128 + 60 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + 0.2 * (big - 128), 0, 255).astype(np.uint8)
        y = np.clip(x.astype(np.float64) + rng.normal(0, 8, x.shape), 0, 255).astype(np.uint8)
        self.assertEqual(metrics.ms_ssim_scales(181, 190), 5)
        self.assertAlmostEqual(metrics.ms_ssim(x, y), brute_ms_ssim(x, y), delta=5e-6)
        self.assertAlmostEqual(metrics.ms_ssim(x, y), metrics.ms_ssim(y, x), delta=1e-6)

    def test_known_distortion_range_and_order(self):
        full = metrics.read_y4m(os.path.join(clips_eval_dir(), CLIP), max_frames=1)[0][0]
        rng = np.random.default_rng(11)
        vals = []
        for sigma in (2, 8, 20, 50):
            noisy = np.clip(full + rng.normal(0, sigma, full.shape), 0, 255).astype(np.uint8)
            vals.append(metrics.ms_ssim(full, noisy))
        self.assertEqual(vals, sorted(vals, reverse=True), 'MS-SSIM must fall as noise grows: %s' % vals)
        self.assertGreater(vals[0], 0.99)
        self.assertLess(vals[0], 1.0)
        self.assertGreater(vals[-1], 0.3)
        self.assertLess(vals[-1], 0.9)
        m = metrics.compare_y4m(self.ref, self.dist)
        for v in m['ms_ssim']:                     # blur 0.8 + noise 6
            self.assertGreater(v, 0.9)
            self.assertLess(v, 0.995)
        self.assertAlmostEqual(metrics.ms_ssim_db(0.99), 20.0, places=9)
        self.assertEqual(metrics.ms_ssim_db(1.0), 100.0)

    def test_single_scale_against_ffmpeg_ssim(self):
        # FFmpeg's ssim filter is SSIM with unweighted 8x8 windows on a 4x4
        # grid (x264's variant); ours uses the 11x11 Gaussian (sigma 1.5) at
        # every position.  They cannot agree exactly; measured on this crop
        # the dissimilarities 1-SSIM agree within about 13% (blur, the worst)
        # and within 0.002 for a brightness change.  A wrong constant, a
        # missing factor 2 or a bad variance breaks this by far more.
        for i, vf in enumerate(('noise=alls=10:allf=t', 'gblur=sigma=1.5', 'eq=brightness=0.06')):
            d = os.path.join(self.tmp, 'ssim%d.y4m' % i)
            stats = os.path.join(self.tmp, 'ssim%d.log' % i)
            ffmpeg('-i', self.ref, '-vf', vf, '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', d)
            ffmpeg('-i', d, '-i', self.ref, '-lavfi', 'ssim=stats_file=' + stats, '-f', 'null', '-')
            ff = parse_stats(stats)
            ref = metrics.read_y4m(self.ref, max_frames=3)
            dist = metrics.read_y4m(d, max_frames=3)
            for k in range(3):
                ours = metrics.ssim(ref[k][0], dist[k][0])
                theirs = ff[k]['Y']
                self.assertLess(abs(ours - theirs), 0.15 * (1 - theirs) + 0.002,
                                '%s frame %d: ours %.4f, ffmpeg %.4f' % (vf, k, ours, theirs))


class TestBDRate(unittest.TestCase):
    Q = [30.0, 32.0, 34.0, 36.0]
    R = [100.0, 180.0, 330.0, 600.0]

    def test_ten_percent_more(self):
        v = metrics.bd_rate(self.R, self.Q, [r * 1.1 for r in self.R], self.Q)
        self.assertAlmostEqual(v, 10.0, places=6)

    def test_half_rate(self):
        v = metrics.bd_rate(self.R, self.Q, [r * 0.5 for r in self.R], self.Q)
        self.assertAlmostEqual(v, -50.0, places=6)

    def test_order_of_points_does_not_matter(self):
        t = [r * 0.8 for r in self.R]
        a = metrics.bd_rate(self.R, self.Q, t, self.Q)
        b = metrics.bd_rate(self.R[::-1], self.Q[::-1], [t[2], t[0], t[3], t[1]],
                            [self.Q[2], self.Q[0], self.Q[3], self.Q[1]])
        self.assertAlmostEqual(a, -20.0, places=6)
        self.assertAlmostEqual(a, b, places=9)

    def test_cubic_hand_computed(self):
        # Anchor: PSNR 30, 32, 34, 36 with log10(R) = 2 + 0.1 (Q - 30).
        # Test:   PSNR 31, 33, 35, 37 with log10(R) = 2 + 0.1 (Q - 30)
        #                                           + 0.001 (Q - 30)^3.
        # Four points each, so the cubic fits reproduce these exactly.
        # Overlap: [max(30, 31), min(36, 37)] = [31, 36], length 5.
        # Difference of the fits: 0.001 (Q - 30)^3; with u = Q - 30,
        #   integral_1^6 u^3 du = (6^4 - 1^4) / 4 = 1295 / 4 = 323.75,
        #   times 0.001 = 0.32375; mean over the length 5: 0.06475.
        # BD-rate = (10^0.06475 - 1) * 100 = 16.07802...%
        qa = [30.0, 32.0, 34.0, 36.0]
        ra = [10 ** (2 + 0.1 * (q - 30)) for q in qa]
        qt = [31.0, 33.0, 35.0, 37.0]
        rt = [10 ** (2 + 0.1 * (q - 30) + 0.001 * (q - 30) ** 3) for q in qt]
        v, why, lo, hi = metrics.bd_rate_detail(ra, qa, rt, qt)
        self.assertIsNone(why)
        self.assertEqual((lo, hi), (31.0, 36.0))
        self.assertAlmostEqual(v, 16.07802226711157, places=6)
        # Swapping anchor and test negates the mean log difference over the
        # same overlap: (1 + a)(1 + b) = 1.
        w = metrics.bd_rate(rt, qt, ra, qa)
        self.assertAlmostEqual((1 + v / 100) * (1 + w / 100), 1.0, places=9)

    def test_bd_quality_hand_computed(self):
        # Anchor: L = log10(R) in 2, 2.5, 3, 3.5 with Q = 30 + 8 (L - 2).
        # Test:   L in 2.25, 2.75, 3.25, 3.75 with Q = 30 + 8 (L - 2)
        #                                          + 0.5 (L - 2)^2.
        # Overlap in L: [2.25, 3.5], length 1.25; with u = L - 2 the
        # difference 0.5 u^2 integrates to 0.5 (1.5^3 - 0.25^3) / 3
        # = 0.5 * 3.359375 / 3 = 0.55989583; mean 0.44791667 dB.
        la = [2.0, 2.5, 3.0, 3.5]
        lt = [2.25, 2.75, 3.25, 3.75]
        v = metrics.bd_quality([10 ** x for x in la], [30 + 8 * (x - 2) for x in la],
                               [10 ** x for x in lt], [30 + 8 * (x - 2) + 0.5 * (x - 2) ** 2 for x in lt])
        self.assertAlmostEqual(v, 0.4479166666666667, places=6)

    def test_no_overlap_is_none(self):
        qt = [40.0, 41.0, 42.0, 43.0]
        self.assertIsNone(metrics.bd_rate(self.R, self.Q, self.R, qt))
        v, why, lo, hi = metrics.bd_rate_detail(self.R, self.Q, self.R, qt)
        self.assertIsNone(v)
        self.assertIn('overlap', why)
        # touching ranges (36 == 36) have no overlap either
        self.assertIsNone(metrics.bd_rate(self.R, self.Q, self.R, [36.0, 37.0, 38.0, 39.0]))
        # bd_quality needs overlapping rates
        self.assertIsNone(metrics.bd_quality(self.R, self.Q, [r * 100 for r in self.R], self.Q))

    def test_too_few_points_is_none(self):
        v, why, _, _ = metrics.bd_rate_detail(self.R[:3], self.Q[:3], self.R, self.Q)
        self.assertIsNone(v)
        self.assertIn('4 points', why)
        self.assertIsNone(metrics.bd_rate(self.R, self.Q, [1, 2, 3, 4], [30, 30, 31, 32]))
        self.assertIsNone(metrics.bd_rate(self.R, self.Q, [0, 2, 3, 4], self.Q))


if __name__ == '__main__':
    unittest.main()
