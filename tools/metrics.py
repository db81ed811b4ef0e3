"""Quality metrics for neuvc evaluation: Y4M reading, PSNR, MS-SSIM, BD-rate.

Everything here works on 8-bit 4:2:0 pictures held as numpy uint8 arrays
(one array per plane) and is imported by tools/eval.py, tools/bench.py and
tests/test_metrics.py.  Only numpy is needed.

Conventions (also written down in docs/evaluation.md):

* PSNR of a plane is 10*log10(255^2 / MSE), MSE over every sample of the
  plane.  It is capped at PSNR_CAP (100 dB): an identical plane (MSE = 0)
  reads 100 dB, and so does anything that would read higher.
* PSNR-YUV of a frame is (6*Y + U + V) / 8 of the three capped plane PSNRs;
  clip values are averages of the per-frame values.
* MS-SSIM follows Wang, Simoncelli and Bovik (2003): 5 scales with weights
  0.0448, 0.2856, 0.3001, 0.2363, 0.1333, an 11x11 Gaussian window with
  sigma 1.5 applied over the 'valid' region only, K1 = 0.01, K2 = 0.03,
  L = 255, a 2x2 average and 2:1 subsampling between scales (an odd row or
  column is averaged with a copy of itself, as the reference MATLAB code's
  symmetric padding does).  Contrast-structure is used at scales 1..M-1
  and luminance * contrast-structure at scale M.  A picture too small for
  5 scales (the smaller side must still be >= 11 samples at the coarsest
  scale, so >= 176 for all 5) uses as many scales as fit, with the weights
  of those scales renormalised to sum to 1; ms_ssim_scales() says how many.
  A negative mean contrast-structure (anti-correlated pictures) is clamped
  to 0 so that the fractional powers stay real.
* BD-rate (Bjontegaard, VCEG-M33): log10(rate) is fitted as a cubic
  polynomial of quality for each curve, both fits are integrated over the
  overlapping quality range only, and the mean difference d gives
  (10^d - 1) * 100 percent.  Negative means the test codec needs less rate
  than the anchor for the same quality.  No overlap, or fewer than 4 points
  on a curve, gives None (with the reason from bd_rate_detail()).
"""

import math
import os
from fractions import Fraction

import numpy as np

PSNR_CAP = 100.0

MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
SSIM_K1 = 0.01
SSIM_K2 = 0.03
SSIM_WIN = 11
SSIM_SIGMA = 1.5


# ----------------------------------------------------------------- Y4M I/O

class Y4MError(ValueError):
    pass


def chroma_size(width, height):
    """Chroma plane size (w, h) of a 4:2:0 picture, odd sizes rounded up."""
    return (width + 1) // 2, (height + 1) // 2


class Y4MReader:
    """Sequential reader of 8-bit 4:2:0 YUV4MPEG2 files.

    Iterating yields (Y, U, V) uint8 arrays of shapes (h, w), (ch, cw),
    (ch, cw).  Frame lines may carry parameters ('FRAME Ixx'), which are
    skipped.  Other chroma layouts and bit depths raise Y4MError.
    """

    def __init__(self, path):
        self.path = path
        self._f = open(path, 'rb')
        line = self._f.readline(4096)
        if not line.startswith(b'YUV4MPEG2') or not line.endswith(b'\n'):
            self._f.close()
            raise Y4MError('%s: not a YUV4MPEG2 file' % path)
        self.header = line.decode('ascii', 'replace').rstrip('\n')
        self.width = self.height = None
        self.fps = Fraction(25, 1)
        self.interlace = 'p'
        self.colorspace = '420jpeg'
        for tok in self.header.split()[1:]:
            tag, val = tok[0], tok[1:]
            if tag == 'W':
                self.width = int(val)
            elif tag == 'H':
                self.height = int(val)
            elif tag == 'F':
                num, den = val.split(':')
                if int(den) > 0 and int(num) > 0:
                    self.fps = Fraction(int(num), int(den))
            elif tag == 'I':
                self.interlace = val
            elif tag == 'C':
                self.colorspace = val
        if not self.width or not self.height or self.width < 1 or self.height < 1:
            self._f.close()
            raise Y4MError('%s: header has no valid W/H: %r' % (path, self.header))
        if self.colorspace not in ('420', '420jpeg', '420paldv', '420mpeg2'):
            self._f.close()
            raise Y4MError('%s: only 8-bit 4:2:0 is supported, file has C%s'
                           % (path, self.colorspace))
        self.cwidth, self.cheight = chroma_size(self.width, self.height)
        self.ysize = self.width * self.height
        self.csize = self.cwidth * self.cheight
        self.frame_bytes = self.ysize + 2 * self.csize
        self._data_start = self._f.tell()

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _frame_header(self):
        line = self._f.readline(4096)
        if not line:
            return False
        if not line.startswith(b'FRAME') or not line.endswith(b'\n'):
            raise Y4MError('%s: bad frame header %r' % (self.path, line[:40]))
        return True

    def read_frame(self):
        """Next frame as (Y, U, V), or None at the end of the file."""
        if not self._frame_header():
            return None
        buf = self._f.read(self.frame_bytes)
        if len(buf) != self.frame_bytes:
            raise Y4MError('%s: truncated frame (%d of %d bytes)'
                           % (self.path, len(buf), self.frame_bytes))
        a = np.frombuffer(buf, dtype=np.uint8)
        y = a[:self.ysize].reshape(self.height, self.width)
        u = a[self.ysize:self.ysize + self.csize].reshape(self.cheight, self.cwidth)
        v = a[self.ysize + self.csize:].reshape(self.cheight, self.cwidth)
        return y, u, v

    def __iter__(self):
        while True:
            fr = self.read_frame()
            if fr is None:
                return
            yield fr

    def count_frames(self):
        """Number of whole frames in the file (seeks; restores position)."""
        pos = self._f.tell()
        self._f.seek(self._data_start)
        n = 0
        try:
            while self._frame_header():
                here = self._f.tell()
                self._f.seek(0, os.SEEK_END)
                if self._f.tell() - here < self.frame_bytes:
                    break
                self._f.seek(here + self.frame_bytes)
                n += 1
        finally:
            self._f.seek(pos)
        return n


def read_y4m(path, max_frames=None):
    """Whole file (or its first max_frames frames) as a list of (Y, U, V)."""
    out = []
    with Y4MReader(path) as r:
        for fr in r:
            out.append(tuple(p.copy() for p in fr))
            if max_frames is not None and len(out) >= max_frames:
                break
    return out


def write_y4m(path, frames, fps=Fraction(25, 1)):
    """Write a list of (Y, U, V) uint8 planes as 4:2:0 Y4M (used by tests)."""
    if not frames:
        raise ValueError('no frames')
    h, w = frames[0][0].shape
    cw, ch = chroma_size(w, h)
    fps = Fraction(fps)
    with open(path, 'wb') as f:
        f.write(('YUV4MPEG2 W%d H%d F%d:%d Ip A1:1 C420jpeg\n'
                 % (w, h, fps.numerator, fps.denominator)).encode('ascii'))
        for y, u, v in frames:
            if y.shape != (h, w) or u.shape != (ch, cw) or v.shape != (ch, cw):
                raise ValueError('plane shapes do not match %dx%d 4:2:0' % (w, h))
            f.write(b'FRAME\n')
            for p in (y, u, v):
                f.write(np.ascontiguousarray(p, dtype=np.uint8).tobytes())


# -------------------------------------------------------------------- PSNR

def mse_plane(ref, dist):
    """Mean squared error of two equally sized 8-bit planes (float)."""
    if ref.shape != dist.shape:
        raise ValueError('plane shapes differ: %s vs %s' % (ref.shape, dist.shape))
    d = ref.astype(np.int32) - dist.astype(np.int32)
    return float(np.einsum('ij,ij->', d, d, dtype=np.int64)) / d.size


def psnr_from_mse(mse, peak=255.0):
    """PSNR in dB, capped at PSNR_CAP (MSE = 0 gives PSNR_CAP)."""
    if mse <= 0.0:
        return PSNR_CAP
    return min(PSNR_CAP, 10.0 * math.log10(peak * peak / mse))


def psnr_plane(ref, dist):
    return psnr_from_mse(mse_plane(ref, dist))


def psnr_yuv(py, pu, pv):
    """Weighted PSNR of the three planes, (6Y + U + V) / 8."""
    return (6.0 * py + pu + pv) / 8.0


def psnr_frame(ref, dist):
    """(psnr_y, psnr_u, psnr_v, psnr_yuv) of two (Y, U, V) frames."""
    py, pu, pv = (psnr_plane(a, b) for a, b in zip(ref, dist))
    return py, pu, pv, psnr_yuv(py, pu, pv)


# ----------------------------------------------------------------- MS-SSIM

def gaussian_window(size=SSIM_WIN, sigma=SSIM_SIGMA):
    """1-D normalised Gaussian; the 2-D window is its outer product."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def _filter_valid(a, g):
    """Separable correlation of the last two axes of a with the symmetric
    window g, keeping only the 'valid' part (no padding)."""
    n = len(g)
    c = n // 2
    h, w = a.shape[-2:]
    ow, oh = w - n + 1, h - n + 1
    gt = [a.dtype.type(v) for v in g]
    t = a[..., :, c:c + ow] * gt[c]
    for k in range(c):
        s = a[..., :, k:k + ow] + a[..., :, n - 1 - k:n - 1 - k + ow]
        s *= gt[k]
        t += s
    o = t[..., c:c + oh, :] * gt[c]
    for k in range(c):
        s = t[..., k:k + oh, :] + t[..., n - 1 - k:n - 1 - k + oh, :]
        s *= gt[k]
        o += s
    return o


def _downsample2(a):
    """2x2 average then 2:1 subsampling; odd edges averaged with themselves."""
    h, w = a.shape
    if h % 2:
        a = np.concatenate([a, a[-1:, :]], axis=0)
    if w % 2:
        a = np.concatenate([a, a[:, -1:]], axis=1)
    return (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) * a.dtype.type(0.25)


def ms_ssim_scales(height, width, max_scales=len(MSSSIM_WEIGHTS), win=SSIM_WIN):
    """How many scales fit: the smaller side must stay >= win at each."""
    n = 0
    h, w = height, width
    while n < max_scales and min(h, w) >= win:
        n += 1
        h, w = (h + 1) // 2, (w + 1) // 2
    return n


def ssim_terms(x, y, g=None, dtype=np.float32, band=32):
    """Mean of the luminance*cs map and mean of the cs map at one scale.

    x and y are arrays of the same shape; returns (mean_ssim, mean_cs).
    Variances are computed on values centred at 128, which keeps float32
    accurate (they do not depend on the offset); the means are shifted back.
    The picture is processed in bands of output rows so that the working
    set stays in the CPU caches (the result does not depend on band).
    """
    if g is None:
        g = gaussian_window()
    n = len(g)
    h, w = x.shape
    if h < n or w < n:
        raise ValueError('picture %dx%d is smaller than the window' % (w, h))
    c1 = dtype((SSIM_K1 * 255.0) ** 2)
    c2 = dtype((SSIM_K2 * 255.0) ** 2)
    k128 = dtype(128.0)
    oh = h - n + 1
    sum_ssim = 0.0
    sum_cs = 0.0
    for r0 in range(0, oh, band):
        r1 = min(oh, r0 + band)
        xc = x[r0:r1 + n - 1].astype(dtype) - k128
        yc = y[r0:r1 + n - 1].astype(dtype) - k128
        f = _filter_valid(np.stack([xc, yc, xc * xc, yc * yc, xc * yc]), g)
        mxc, myc = f[0], f[1]
        vx = f[2] - mxc * mxc
        vy = f[3] - myc * myc
        cxy = f[4] - mxc * myc
        mx = mxc + k128
        my = myc + k128
        cs = (dtype(2.0) * cxy + c2) / (vx + vy + c2)
        lum = (dtype(2.0) * mx * my + c1) / (mx * mx + my * my + c1)
        sum_cs += float(np.sum(cs, dtype=np.float64))
        sum_ssim += float(np.sum(lum * cs, dtype=np.float64))
    count = float(oh * (w - n + 1))
    return sum_ssim / count, sum_cs / count


def ssim(x, y):
    """Single-scale SSIM (Gaussian 11x11, sigma 1.5, valid region)."""
    return ssim_terms(np.asarray(x, np.float32), np.asarray(y, np.float32))[0]


def ms_ssim(ref, dist, scales=None, dtype=np.float32):
    """MS-SSIM of two 8-bit planes of the same shape (see module docstring)."""
    if ref.shape != dist.shape or ref.ndim != 2:
        raise ValueError('MS-SSIM needs two 2-D planes of the same shape')
    h, w = ref.shape
    n = ms_ssim_scales(h, w) if scales is None else scales
    if n < 1 or min(h, w) < SSIM_WIN:
        raise ValueError('picture %dx%d is smaller than the %dx%d SSIM window'
                         % (w, h, SSIM_WIN, SSIM_WIN))
    weights = np.array(MSSSIM_WEIGHTS[:n], dtype=np.float64)
    weights /= weights.sum()
    g = gaussian_window()
    x = ref.astype(dtype)
    y = dist.astype(dtype)
    result = 1.0
    for s in range(n):
        mean_ssim, mean_cs = ssim_terms(x, y, g, dtype)
        term = mean_ssim if s == n - 1 else mean_cs
        result *= max(term, 0.0) ** weights[s]
        if s < n - 1:
            x = _downsample2(x)
            y = _downsample2(y)
    return float(result)


def ms_ssim_db(value):
    """MS-SSIM on a dB scale, -10*log10(1 - value), capped at PSNR_CAP."""
    if value >= 1.0:
        return PSNR_CAP
    return min(PSNR_CAP, -10.0 * math.log10(1.0 - value))


# ----------------------------------------------------------------- BD-rate

def _prepare_curve(rates, quals):
    pts = sorted((float(q), float(r)) for r, q in zip(rates, quals))
    if len(pts) < 4:
        return None, 'needs at least 4 points per curve, got %d' % len(pts)
    qs = np.array([p[0] for p in pts])
    rs = np.array([p[1] for p in pts])
    if not np.all(np.isfinite(qs)) or not np.all(np.isfinite(rs)):
        return None, 'non-finite rate or quality'
    if np.any(rs <= 0):
        return None, 'rates must be positive'
    if len(np.unique(qs)) < 4:
        return None, 'needs at least 4 distinct quality values per curve'
    return (qs, np.log10(rs)), None


def _poly_mean(x, y, lo, hi):
    """Mean over [lo, hi] of the cubic least-squares fit of y(x).

    The fit is done on x centred at its mean for conditioning."""
    c = float(np.mean(x))
    p = np.polyfit(x - c, y, 3)
    ip = np.polyint(p)
    return (np.polyval(ip, hi - c) - np.polyval(ip, lo - c)) / (hi - lo)


def bd_rate_detail(anchor_rates, anchor_quals, test_rates, test_quals):
    """Bjontegaard delta rate of test against anchor.

    Returns (percent or None, reason or None, overlap_lo, overlap_hi).
    """
    a, why = _prepare_curve(anchor_rates, anchor_quals)
    if a is None:
        return None, 'anchor: ' + why, None, None
    t, why = _prepare_curve(test_rates, test_quals)
    if t is None:
        return None, 'test: ' + why, None, None
    lo = max(a[0].min(), t[0].min())
    hi = min(a[0].max(), t[0].max())
    if not hi > lo:
        return (None, 'quality ranges do not overlap (anchor %.2f..%.2f, test %.2f..%.2f)'
                % (a[0].min(), a[0].max(), t[0].min(), t[0].max()), None, None)
    d = _poly_mean(t[0], t[1], lo, hi) - _poly_mean(a[0], a[1], lo, hi)
    return (10.0 ** d - 1.0) * 100.0, None, float(lo), float(hi)


def bd_rate(anchor_rates, anchor_quals, test_rates, test_quals):
    """BD-rate in percent, or None when it cannot be computed."""
    return bd_rate_detail(anchor_rates, anchor_quals, test_rates, test_quals)[0]


def bd_quality(anchor_rates, anchor_quals, test_rates, test_quals):
    """Bjontegaard delta quality (e.g. BD-PSNR, dB) of test against anchor.

    Quality is fitted as a cubic of log10(rate) and averaged over the
    overlapping log-rate range.  Positive means the test codec is better.
    Returns None when the rate ranges do not overlap or a curve has fewer
    than 4 points.
    """
    a, _ = _prepare_curve(anchor_rates, anchor_quals)
    t, _ = _prepare_curve(test_rates, test_quals)
    if a is None or t is None:
        return None
    lo = max(a[1].min(), t[1].min())
    hi = min(a[1].max(), t[1].max())
    if not hi > lo:
        return None
    if len(np.unique(a[1])) < 4 or len(np.unique(t[1])) < 4:
        return None
    return float(_poly_mean(t[1], t[0], lo, hi) - _poly_mean(a[1], a[0], lo, hi))


# ------------------------------------------------------------ clip metrics

def compare_y4m(ref_path, dist_path, max_frames=None, with_msssim=True):
    """Per-frame metrics of dist against ref.

    Returns a dict of lists: psnr_y, psnr_u, psnr_v, psnr_yuv, ms_ssim
    (ms_ssim absent when with_msssim is False) and 'frames'.  Raises
    Y4MError when sizes differ or dist has fewer frames than compared.
    """
    out = {'psnr_y': [], 'psnr_u': [], 'psnr_v': [], 'psnr_yuv': []}
    if with_msssim:
        out['ms_ssim'] = []
    with Y4MReader(ref_path) as r, Y4MReader(dist_path) as d:
        if (r.width, r.height) != (d.width, d.height):
            raise Y4MError('size mismatch: %s is %dx%d, %s is %dx%d'
                           % (ref_path, r.width, r.height, dist_path, d.width, d.height))
        n = 0
        for fr in r:
            if max_frames is not None and n >= max_frames:
                break
            fd = d.read_frame()
            if fd is None:
                raise Y4MError('%s has only %d frames, %s has more'
                               % (dist_path, n, ref_path))
            py, pu, pv, pyuv = psnr_frame(fr, fd)
            out['psnr_y'].append(py)
            out['psnr_u'].append(pu)
            out['psnr_v'].append(pv)
            out['psnr_yuv'].append(pyuv)
            if with_msssim:
                out['ms_ssim'].append(ms_ssim(fr[0], fd[0]))
            n += 1
    out['frames'] = n
    return out
