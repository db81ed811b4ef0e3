"""Motion compensation: an independent numpy transcription of
docs/motion.md (integer interpolation and OBMC) against the C code, byte
for byte, on real frames of the test clip and random and real vector
fields.

Route to C: the Check suite build/tests/test_mc has two tool modes,
  test_mc --mc-file REF.raw W H CHROMA MVS.raw OUT.raw        (OBMC)
  test_mc --mc-block-file REF.raw W H CHROMA MVS.raw OUT.raw  (blocks)
with REF a W x H u8 plane and MVS (H/n) x (W/n) int16 little-endian
(x, y) pairs in raster order.  $BUILD selects the build directory (build,
or build/san under SANITIZE=1); `make check` builds the suite first.
The clip vmaf_park_joy_480x270_10f.y4m is read from $NEUVC_CLIPS/eval,
else ../shared/clips/eval relative to the repository root; a missing clip
is a failure.

The numpy transcription (mc_pred_samples_int, mc_obmc_plane_int) lives
in training/intsim.py, the integer simulator, which uses it for P frames;
this suite checks it against the C code.
"""
import os
import subprocess
import tempfile
import unittest

import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "training"))

import intsim  # noqa: E402  (the numpy MC lives in the simulator)

BUILD = os.environ.get("BUILD", "build")
C_TOOL = os.path.join(ROOT, BUILD, "tests", "test_mc")
CLIP_NAME = "vmaf_park_joy_480x270_10f.y4m"

MV_MIN, MV_MAX = intsim.MV_MIN, intsim.MV_MAX
mc_pred_samples_int = intsim.mc_pred_samples_int
mc_obmc_plane_int = intsim.mc_obmc_plane_int


def mc_block_plane_int(ref, mvs, n, chroma):
    """Every block predicted with its own vector, no overlap."""
    h, w = ref.shape
    ys, xs = np.mgrid[0:h, 0:w]
    v = mvs[ys // n, xs // n].astype(np.int64)
    return mc_pred_samples_int(ref, v[..., 0], v[..., 1], xs, ys, chroma).astype(np.uint8)


# ------------------------------------------------------------------ helpers

def clip_path():
    env = os.environ.get("NEUVC_CLIPS")
    base = env if env else os.path.join(ROOT, "..", "shared", "clips")
    return os.path.join(base, "eval", CLIP_NAME)


def read_y4m(path, nframes):
    """The first nframes frames as lists of (Y, U, V) uint8 arrays."""
    with open(path, "rb") as f:
        data = f.read()
    end = data.index(b"\n")
    tags = data[:end].split()
    if tags[0] != b"YUV4MPEG2":
        raise AssertionError("not a Y4M file: %s" % path)
    w = int([t for t in tags if t.startswith(b"W")][0][1:])
    h = int([t for t in tags if t.startswith(b"H")][0][1:])
    cw, ch = (w + 1) // 2, (h + 1) // 2
    pos = end + 1
    frames = []
    for _ in range(nframes):
        pos = data.index(b"\n", pos) + 1           # FRAME line
        y = np.frombuffer(data, np.uint8, w * h, pos).reshape(h, w)
        pos += w * h
        u = np.frombuffer(data, np.uint8, cw * ch, pos).reshape(ch, cw)
        pos += cw * ch
        v = np.frombuffer(data, np.uint8, cw * ch, pos).reshape(ch, cw)
        pos += cw * ch
        frames.append((y, u, v))
    return frames


def pad_to(plane, m):
    """Edge replication to multiples of m."""
    h, w = plane.shape
    return np.pad(plane, ((0, -h % m), (0, -w % m)), mode="edge")


def c_predict(ref, mvs, chroma, block=False):
    h, w = ref.shape
    with tempfile.TemporaryDirectory() as d:
        rp, mp, op = (os.path.join(d, n) for n in ("ref.raw", "mvs.raw", "out.raw"))
        np.ascontiguousarray(ref, dtype=np.uint8).tofile(rp)
        np.ascontiguousarray(mvs, dtype="<i2").tofile(mp)
        mode = "--mc-block-file" if block else "--mc-file"
        res = subprocess.run([C_TOOL, mode, rp, str(w), str(h), str(int(chroma)), mp, op],
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise AssertionError("test_mc %s failed: %s" % (mode, res.stderr))
        return np.fromfile(op, dtype=np.uint8).reshape(h, w)


def random_field(rng, hb, wb, kind):
    if kind == "uniform":
        return rng.integers(MV_MIN, MV_MAX + 1, size=(hb, wb, 2))
    if kind == "small":                             # sub-sample heavy
        return rng.integers(-12, 13, size=(hb, wb, 2))
    if kind == "extreme":
        return rng.choice(np.array([MV_MIN, MV_MIN + 1, -1, 0, 1, MV_MAX - 1, MV_MAX]), size=(hb, wb, 2))
    if kind == "patches":                           # repeated vectors: shared predictions
        base = rng.integers(-40, 41, size=(4, 2))
        return base[rng.integers(0, 4, size=(hb, wb))]
    raise ValueError(kind)


def block_match(cur, ref, n=16, r=6):
    """Integer full search, +-r samples, SAD: a real field for a frame pair
    (quarter-sample units)."""
    h, w = cur.shape
    hb, wb = h // n, w // n
    refp = np.pad(ref.astype(np.int32), r, mode="edge")
    c = cur.astype(np.int32)
    best = np.full((hb, wb), np.iinfo(np.int64).max)
    mv = np.zeros((hb, wb, 2), dtype=np.int64)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            sh = refp[r + dy:r + dy + h, r + dx:r + dx + w]
            sad = np.abs(c - sh).reshape(hb, n, wb, n).sum(axis=(1, 3))
            upd = sad < best
            best = np.where(upd, sad, best)
            mv[upd] = (4 * dx, 4 * dy)
    return mv


class NumpyModel(unittest.TestCase):
    """The numpy model itself on cases worked out by hand."""

    def test_impulse(self):
        # ref 100 with one sample 164: phase (4, 4) gives 100 + floor((a b +
        # 32) / 64) with a b = 1296 at the centre -> 120, -144 -> 98, 16 -> 100.
        ref = np.full((16, 16), 100, dtype=np.uint8)
        ref[8, 8] = 164
        mvs = np.full((2, 2, 2), 4)                 # chroma: phase 4, 4
        out = mc_block_plane_int(ref, mvs, 8, True)
        np.testing.assert_array_equal(out[6:10, 6:10], [[100, 98, 98, 100], [98, 120, 120, 98],
                                                        [98, 120, 120, 98], [100, 98, 98, 100]])
        self.assertTrue((out[:6] == 100).all())

    def test_zero_constant_translation(self):
        rng = np.random.default_rng(1)
        ref = rng.integers(0, 256, size=(48, 64)).astype(np.uint8)
        zero = np.zeros((3, 4, 2), dtype=np.int64)
        np.testing.assert_array_equal(mc_obmc_plane_int(ref, zero, 16, False), ref)
        const = np.full((48, 64), 77, dtype=np.uint8)
        field = rng.integers(MV_MIN, MV_MAX + 1, size=(3, 4, 2))
        np.testing.assert_array_equal(mc_obmc_plane_int(const, field, 16, False), const)
        shift = np.broadcast_to(np.array([8, -4]), (3, 4, 2))   # (2, -1) samples
        want = ref[np.clip(np.arange(48) - 1, 0, 47)][:, np.clip(np.arange(64) + 2, 0, 63)]
        np.testing.assert_array_equal(mc_obmc_plane_int(ref, shift, 16, False), want)

    def test_weights(self):
        # two blocks: (0, 0) on zeros and a vector reading 255 everywhere
        ref = np.zeros((16, 32), dtype=np.uint8)
        ref[15, 31] = 255
        out = mc_obmc_plane_int(ref, np.array([[[0, 0], [511, 511]]]), 16, False)
        want = [0] * 8 + [8, 24, 40, 56, 72, 88, 104, 120, 135, 151, 167, 183, 199, 215, 231, 247] + [255] * 8
        np.testing.assert_array_equal(out, np.tile(want, (16, 1)))


class AgainstC(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(C_TOOL, os.X_OK):
            raise AssertionError("%s is missing: run make tests first" % C_TOOL)
        path = clip_path()
        if not os.path.exists(path):
            raise AssertionError("test clip %s is missing (set NEUVC_CLIPS to the clips directory)" % path)
        f0, f1 = read_y4m(path, 2)
        cls.f0 = [pad_to(f0[0], 16)] + [pad_to(p, 8) for p in f0[1:]]
        cls.f1 = [pad_to(f1[0], 16)] + [pad_to(p, 8) for p in f1[1:]]

    def check_plane(self, ref, mvs, chroma, block=False):
        n = 8 if chroma else 16
        want = (mc_block_plane_int if block else mc_obmc_plane_int)(ref, mvs, n, chroma)
        got = c_predict(ref, mvs, chroma, block)
        bad = np.argwhere(got != want)
        self.assertEqual(len(bad), 0, "first mismatch at (y, x) = %s: C %s, numpy %s"
                         % (tuple(bad[0]) if len(bad) else None,
                            got[tuple(bad[0])] if len(bad) else None,
                            want[tuple(bad[0])] if len(bad) else None))
        return got

    def test_random_fields(self):
        rng = np.random.default_rng(2)
        hb, wb = self.f0[0].shape[0] // 16, self.f0[0].shape[1] // 16
        for kind in ("uniform", "small", "extreme", "patches"):
            mvs = random_field(rng, hb, wb, kind)
            with self.subTest(kind=kind):
                self.check_plane(self.f0[0], mvs, False)
                self.check_plane(self.f0[1], mvs, True)
                self.check_plane(self.f0[2], mvs, True)

    def test_block_mode(self):
        rng = np.random.default_rng(3)
        hb, wb = self.f0[0].shape[0] // 16, self.f0[0].shape[1] // 16
        mvs = random_field(rng, hb, wb, "small")
        self.check_plane(self.f0[0], mvs, False, block=True)
        self.check_plane(self.f0[1], mvs, True, block=True)

    def test_real_pair(self):
        # A field found by block matching frame 1 against frame 0, with
        # random quarter-sample jitter: byte-exact, and it predicts frame 1
        # better than the zero field does (so the field is a real one).
        rng = np.random.default_rng(4)
        mvs = block_match(self.f1[0], self.f0[0]) + rng.integers(-1, 2, size=(17, 30, 2))
        got = self.check_plane(self.f0[0], mvs, False)
        self.check_plane(self.f0[1], mvs, True)
        self.check_plane(self.f0[2], mvs, True)
        cur = self.f1[0].astype(np.int64)
        mse = np.mean((got.astype(np.int64) - cur) ** 2)
        mse0 = np.mean((self.f0[0].astype(np.int64) - cur) ** 2)
        self.assertLess(mse, 0.7 * mse0)

    def test_odd_sizes(self):
        rng = np.random.default_rng(5)
        for hb, wb in ((1, 1), (3, 5), (5, 3), (1, 7)):
            ref = self.f0[0][:16 * hb, 100:100 + 16 * wb]
            mvs = random_field(rng, hb, wb, "uniform" if hb * wb % 2 else "small")
            with self.subTest(hb=hb, wb=wb):
                self.check_plane(np.ascontiguousarray(ref), mvs, False)
                self.check_plane(np.ascontiguousarray(self.f0[1][:8 * hb, 50:50 + 8 * wb]), mvs, True)


if __name__ == "__main__":
    unittest.main()
