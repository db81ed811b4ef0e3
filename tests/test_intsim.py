"""The integer simulator (training/intsim.py) against the C runtime.

DESIGN.md section 3: the Python simulator reproduces the C runtime's
output exactly on the same input.  For crops of real pictures and several
qps, build/tests/test_intsim_dump --dump runs the library's intra encoder
and writes every intermediate tensor (x6, y, yq, z, mu, sidx, yd, x6rec);
the simulator then runs the model's graphs, read from the same .nvm file
with training/nvm.py, on x6 and must give each of them byte for byte, its
own outputs feeding the next step as in docs/codec.md.  The inter graphs
are checked the same way (--dump-inter) on the built-in model when it has
them, and always on a synthetic inter model written here, whose graphs use
every op of the format (requant with and without bias, clamp, concat,
multi-input graphs), which the intra graphs do not.

Needs numpy, the built test program, ffmpeg on PATH and the evaluation
clips ($NEUVC_CLIPS/eval or ../shared/clips/eval relative to the
repository root); anything missing is a failure, not a skip.  No torch.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'training'))

import intsim  # noqa: E402
import nvm  # noqa: E402

BUILD = os.environ.get('BUILD', 'build')
BUILD = BUILD if os.path.isabs(BUILD) else os.path.join(REPO, BUILD)
DUMP = os.path.join(BUILD, 'tests', 'test_intsim_dump')
MODEL = os.path.join(REPO, 'models', 'neuvc-rt.nvm')
PARK = 'vmaf_park_joy_480x270_10f.y4m'
FACE = 'sadtalker_WDA_KatieHill_512.mp4'
TIMEOUT = 120
NP_TYPES = {'u8': '<u1', 's8': '<i1', 's16': '<i2', 's32': '<i4'}
LATENT_MAX = 4096


def clips_eval_dir():
    env = os.environ.get('NEUVC_CLIPS')
    root = os.path.abspath(env) if env else \
        os.path.normpath(os.path.join(REPO, '..', 'shared', 'clips'))
    return os.path.join(root, 'eval')


def clip(name):
    path = os.path.join(clips_eval_dir(), name)
    if not os.path.isfile(path):
        raise AssertionError('test clip %s is missing (set NEUVC_CLIPS to the clips directory, '
                             'which holds eval/%s)' % (path, name))
    return path


# ---------------------------------------------------------------- pictures

def read_y4m_first(path):
    """(Y, U, V) uint8 planes of the first frame of an 8-bit 4:2:0 Y4M."""
    with open(path, 'rb') as f:
        data = f.read()
    end = data.index(b'\n')
    tags = data[:end].split()
    if tags[0] != b'YUV4MPEG2':
        raise AssertionError('%s: not a Y4M file' % path)
    w = int(next(t[1:] for t in tags if t.startswith(b'W')))
    h = int(next(t[1:] for t in tags if t.startswith(b'H')))
    if not data.startswith(b'FRAME', end + 1):
        raise AssertionError('%s: no frame' % path)
    pos = data.index(b'\n', end + 1) + 1
    cw, ch = (w + 1) // 2, (h + 1) // 2
    buf = np.frombuffer(data, np.uint8, w * h + 2 * cw * ch, pos)
    y = buf[:w * h].reshape(h, w)
    u = buf[w * h:w * h + cw * ch].reshape(ch, cw)
    v = buf[w * h + cw * ch:].reshape(ch, cw)
    return y, u, v


def crop(planes, x0, y0, w, h):
    """The w x h area at (x0, y0) (both even) of a 4:2:0 picture."""
    assert x0 % 2 == 0 and y0 % 2 == 0
    y, u, v = planes
    cw, ch = (w + 1) // 2, (h + 1) // 2
    out = (y[y0:y0 + h, x0:x0 + w], u[y0 // 2:y0 // 2 + ch, x0 // 2:x0 // 2 + cw],
           v[y0 // 2:y0 // 2 + ch, x0 // 2:x0 // 2 + cw])
    assert out[0].shape == (h, w) and out[1].shape == (ch, cw), 'crop outside the picture'
    return out


def write_y4m(path, planes):
    h, w = planes[0].shape
    with open(path, 'wb') as f:
        f.write(b'YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C420jpeg\nFRAME\n' % (w, h))
        for p in planes:
            f.write(np.ascontiguousarray(p, np.uint8).tobytes())


def ffmpeg_first_frame(src, dst, vf):
    exe = shutil.which('ffmpeg')
    if exe is None:
        raise AssertionError('ffmpeg is not on PATH: this test needs it (Debian package ffmpeg)')
    r = subprocess.run([exe, '-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', src,
                        '-vf', vf, '-frames:v', '1', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe',
                        dst], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    if r.returncode != 0:
        raise AssertionError('ffmpeg failed: %s' % r.stderr.decode(errors='replace'))


def pack_x6(planes):
    """docs/codec.md "Pictures": edge extension to the coded size, then x6."""
    y, u, v = planes
    h, w = y.shape
    wp, hp = -(-w // 64) * 64, -(-h // 64) * 64
    y = np.pad(y, ((0, hp - h), (0, wp - w)), mode='edge')
    u = np.pad(u, ((0, hp // 2 - u.shape[0]), (0, wp // 2 - u.shape[1])), mode='edge')
    v = np.pad(v, ((0, hp // 2 - v.shape[0]), (0, wp // 2 - v.shape[1])), mode='edge')
    return np.stack([y[0::2, 0::2], y[0::2, 1::2], y[1::2, 0::2], y[1::2, 1::2], u, v], axis=2)


def shift_x6(x6, dx, dy):
    """The synthetic prediction of --dump-inter: x6 moved by (dx, dy), edges repeated."""
    h, w, _ = x6.shape
    ys = np.clip(np.arange(h) + dy, 0, h - 1)
    xs = np.clip(np.arange(w) + dx, 0, w - 1)
    return x6[ys][:, xs]


# ---------------------------------------------------------------- the C side

def run_dump(args):
    if not os.access(DUMP, os.X_OK):
        raise AssertionError('%s is not built (run make tests first; BUILD=%s)' % (DUMP, BUILD))
    return subprocess.run([DUMP] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=TIMEOUT)


def load_dump(outdir):
    with open(os.path.join(outdir, 'dump.json')) as f:
        meta = json.load(f)
    tensors = {}
    for t in meta['tensors']:
        a = np.fromfile(os.path.join(outdir, t['file']), dtype=NP_TYPES[t['type']])
        if a.size != int(np.prod(t['shape'])):
            raise AssertionError('%s: %d values for shape %s' % (t['file'], a.size, t['shape']))
        tensors[t['name']] = a.reshape(t['shape'])
    return meta, tensors


def dump(y4m, qp, outdir, model, inter=False, shift=None):
    os.makedirs(outdir)
    args = ['--dump-inter' if inter else '--dump', y4m, str(qp), outdir, '--model', model]
    if shift:
        args += ['--shift', str(shift[0]), str(shift[1])]
    r = run_dump(args)
    if r.returncode != 0:
        raise AssertionError('test_intsim_dump %s: status %d: %s' % (
            ' '.join(args), r.returncode, r.stderr.decode(errors='replace')))
    return load_dump(outdir)


# ---------------------------------------------------------------- the simulator

def requant_rows(x, mult, shift, qp):
    """Steps 2 and 7 of docs/codec.md: row qp of a gain table, clamp +-4096."""
    return np.clip(intsim.requant(x, mult[qp], shift[qp]), -LATENT_MAX, LATENT_MAX)


def run(graphs, tensors, name, *inputs):
    """Graph name of graphs_for_intsim() on inputs in the graph's input order;
    its outputs in its output order."""
    g = graphs[name]
    assert len(inputs) == len(g['inputs']), (name, len(inputs))
    out = intsim.run_graph(g, tensors, dict(zip(g['inputs'], inputs)))
    return [out[k] for k in g['outputs']]


class SimTestCase(unittest.TestCase):
    def assert_same(self, what, c_value, sim_value):
        """Exact equality of a C tensor (its stored type) and a simulator one
        (int64); the first difference is reported as (y, x, channel)."""
        c64 = np.asarray(c_value).astype(np.int64)
        s64 = np.asarray(sim_value).astype(np.int64)
        self.assertEqual(c64.shape, s64.shape,
                         '%s: C shape %s, simulator %s' % (what, c64.shape, s64.shape))
        if not np.array_equal(c64, s64):
            diff = np.argwhere(c64 != s64)
            first = tuple(int(i) for i in diff[0])
            self.fail('%s: %d of %d values differ; first at (y, x, c) = %s: C %d, simulator %d'
                      % (what, len(diff), c64.size, first, c64[first], s64[first]))

    def check_intra(self, meta, t, model):
        """Simulates docs/codec.md "Intra frame" on the dump's x6 and compares
        every step with the C values."""
        G = intsim.graphs_for_intsim(model)
        T = model.tensors
        qp = meta['qp']
        self.assertEqual(meta['model_id'], model.model_id)
        names = [x['name'] for x in meta['tensors']]
        self.assertEqual(names, ['x6', 'y', 'yq', 'z', 'mu', 'sidx', 'yd', 'x6rec'])
        y, = run(G, T, 'intra.analysis', t['x6'])
        self.assert_same('y (intra.analysis)', t['y'], y)
        yq = requant_rows(y, T['intra.y_qmult'], T['intra.y_qshift'], qp)
        self.assert_same('yq (quantizer, qp %d)' % qp, t['yq'], yq)
        z, = run(G, T, 'intra.hyper_analysis', yq)
        self.assert_same('z (intra.hyper_analysis)', t['z'], z)
        mu, sidx = run(G, T, 'intra.hyper_synthesis', z)
        self.assert_same('mu (intra.hyper_synthesis)', t['mu'], mu)
        self.assert_same('sidx (intra.hyper_synthesis)', t['sidx'], sidx)
        yd = requant_rows(yq, T['intra.y_dqmult'], T['intra.y_dqshift'], qp)
        self.assert_same('yd (dequantizer, qp %d)' % qp, t['yd'], yd)
        x6rec, = run(G, T, 'intra.synthesis', yd)
        self.assert_same('x6rec (intra.synthesis)', t['x6rec'], x6rec)
        # Not a degenerate case: the latent carries information and the
        # reconstruction resembles the input.
        self.assertGreater(np.count_nonzero(yq), 0)
        err = np.abs(x6rec.astype(np.int64) - t['x6'].astype(np.int64)).mean()
        self.assertLess(err, 40, 'mean |x6rec - x6| %.1f: the model does not reconstruct' % err)

    def check_inter(self, meta, t, model, shift):
        """The same for docs/codec.md "Inter frame" (graphs inter.*)."""
        G = intsim.graphs_for_intsim(model)
        T = model.tensors
        qp = meta['qp']
        self.assertEqual(meta['model_id'], model.model_id)
        self.assert_same('p6 (synthetic prediction)', t['p6'], shift_x6(t['x6'], *shift))
        pt, pf = run(G, T, 'inter.pred', t['p6'])
        self.assert_same('pt (inter.pred)', t['pt'], pt)
        self.assert_same('pf (inter.pred)', t['pf'], pf)
        y, = run(G, T, 'inter.analysis', t['x6'], t['p6'], pt)
        self.assert_same('y (inter.analysis)', t['y'], y)
        yq = requant_rows(y, T['inter.y_qmult'], T['inter.y_qshift'], qp)
        self.assert_same('yq (inter quantizer, qp %d)' % qp, t['yq'], yq)
        z, = run(G, T, 'inter.hyper_analysis', yq)
        self.assert_same('z (inter.hyper_analysis)', t['z'], z)
        mu, sidx = run(G, T, 'inter.hyper_synthesis', z, pf)
        self.assert_same('mu (inter.hyper_synthesis)', t['mu'], mu)
        self.assert_same('sidx (inter.hyper_synthesis)', t['sidx'], sidx)
        yd = requant_rows(yq, T['inter.y_dqmult'], T['inter.y_dqshift'], qp)
        self.assert_same('yd (inter dequantizer, qp %d)' % qp, t['yd'], yd)
        x6rec, = run(G, T, 'inter.synthesis', yd, pt, t['p6'])
        self.assert_same('x6rec (inter.synthesis)', t['x6rec'], x6rec)
        self.assertGreater(np.count_nonzero(yq), 0)


# ---------------------------------------------------------------- a synthetic inter model

class _GraphBuilder:
    """One graph in the name-slot form with random weights.  Each op is also
    evaluated with the simulator on calibration inputs, and its multipliers
    chosen so that its outputs spread over a useful part of their type's
    range (neither all clamped nor all zero): a test model, not a codec."""

    SPREAD = {'u8': 50.0, 's8': 40.0, 's16': 500.0, 's32': 20000.0}

    def __init__(self, name, tensors, rng, inputs):
        self.name, self.T, self.rng = name, tensors, rng
        self.inputs = [n for n, _, _ in inputs]
        self.types = {n: typ for n, typ, _ in inputs}
        self.channels = {n: a.shape[2] for n, _, a in inputs}
        self.v = {n: np.asarray(a, np.int64) for n, _, a in inputs}
        self.ops = []

    def _tensor(self, tag, arr):
        key = '%s.%d.%s' % (self.name, len(self.ops), tag)
        self.T[key] = arr
        return key

    @staticmethod
    def mult_shift(scale):
        """Per-channel (mult, shift) with mult / 2^shift ~ scale."""
        scale = np.maximum(np.asarray(scale, np.float64), 2.0 ** -40)
        shift = np.clip(30 - np.ceil(np.log2(scale)), 0, 62).astype(np.int64)
        mult = np.clip(np.round(scale * 2.0 ** shift), 1, 2 ** 31 - 1)
        return mult.astype(np.int32), shift.astype(np.uint8)

    def _calibrate(self, acc, out_type, spread=None):
        a = acc.reshape(-1, acc.shape[-1]).astype(np.float64)
        have = np.sqrt((a * a).mean(axis=0)) + 1.0   # RMS: offsets count too
        return self.mult_shift((spread or self.SPREAD[out_type]) / have)

    def _done(self, op, dst, value, typ):
        self.ops.append(op)
        self.v[dst] = np.asarray(value, np.int64)
        self.types[dst] = typ

    def conv(self, src, dst, cout, k, out_type, stride=1, relu=False, spread=None):
        x, in_type = self.v[src], self.types[src]
        cin = x.shape[2]
        w = self.rng.integers(-127, 128, (cout, k, k, cin)).astype(np.int8)
        one, zero = np.ones(cout, np.int32), np.zeros(cout, np.uint8)
        acc = intsim.conv(x, w, None, one, zero, stride, -2 ** 62, 2 ** 62)
        acc_spread = acc.reshape(-1, cout).std(axis=0) + 1.0
        bias = np.clip(np.round(self.rng.normal(0, 0.5, cout) * acc_spread),
                       -(2 ** 30 - 1), 2 ** 30 - 1).astype(np.int32)
        mult, shift = self._calibrate(acc + bias, out_type, spread)
        lo, hi = intsim.TYPE_RANGE[out_type]
        if relu:
            lo = 0
        op = {'op': 'conv', 'src': src, 'dst': dst, 'k': k, 'stride': stride, 'cin': cin,
              'cout': cout, 'in_type': in_type, 'out_type': out_type, 'lo': lo, 'hi': hi,
              'weight': self._tensor('w', w), 'bias': self._tensor('b', bias),
              'mult': self._tensor('m', mult), 'shift': self._tensor('s', shift)}
        self._done(op, dst, intsim.conv(x, w, bias, mult, shift, stride, lo, hi), out_type)

    def requant(self, src, dst, out_type, bias=True, lo=None, hi=None, spread=None):
        """With bias; channel 0 has shift 0 (out = x * mult), the other branch
        of the rounding rule."""
        x = self.v[src]
        c = x.shape[2]
        b = None
        if bias:
            x_spread = x.reshape(-1, c).std(axis=0) + 1
            b = np.round(self.rng.normal(0, 1, c) * x_spread).astype(np.int32)
        mult, shift = self._calibrate(x + (0 if b is None else b), out_type, spread)
        mult[0], shift[0] = 1, 0
        tlo, thi = intsim.TYPE_RANGE[out_type]
        lo, hi = tlo if lo is None else lo, thi if hi is None else hi
        op = {'op': 'requant', 'src': src, 'dst': dst, 'out_type': out_type, 'lo': lo, 'hi': hi,
              'bias': None if b is None else self._tensor('b', b),
              'mult': self._tensor('m', mult), 'shift': self._tensor('s', shift)}
        self._done(op, dst, intsim.requant_op(x, b, mult, shift, lo, hi), out_type)

    def add(self, a, b, dst, out_type, lo=None, hi=None):
        c = self.v[a].shape[2]
        ma = np.round(self.rng.uniform(0.3, 1.0, c) * 4096).astype(np.int32)
        mb = np.round(self.rng.uniform(0.3, 1.0, c) * 4096).astype(np.int32)
        shift = np.full(c, 12, np.uint8)
        tlo, thi = intsim.TYPE_RANGE[out_type]
        lo, hi = tlo if lo is None else lo, thi if hi is None else hi
        op = {'op': 'add', 'src': [a, b], 'dst': dst, 'out_type': out_type, 'lo': lo, 'hi': hi,
              'ma': self._tensor('ma', ma), 'mb': self._tensor('mb', mb),
              'shift': self._tensor('s', shift)}
        self._done(op, dst, intsim.add(self.v[a], self.v[b], ma, mb, shift, lo, hi), out_type)

    def clamp(self, src, dst, lo, hi):
        self._done({'op': 'clamp', 'src': src, 'dst': dst, 'lo': lo, 'hi': hi}, dst,
                   np.clip(self.v[src], lo, hi), self.types[src])

    def s2d(self, src, dst, r):
        self._done({'op': 's2d', 'src': src, 'dst': dst, 'r': r}, dst,
                   intsim.s2d(self.v[src], r), self.types[src])

    def d2s(self, src, dst, r):
        self._done({'op': 'd2s', 'src': src, 'dst': dst, 'r': r}, dst,
                   intsim.d2s(self.v[src], r), self.types[src])

    def concat(self, a, b, dst):
        assert self.types[a] == self.types[b]
        self._done({'op': 'concat', 'src': [a, b], 'dst': dst}, dst,
                   np.concatenate([self.v[a], self.v[b]], axis=2), self.types[a])

    def graph(self, outputs):
        """The graph in the stored (slot number) form, and the outputs'
        calibration values."""
        g = {'name': self.name, 'inputs': self.inputs, 'outputs': outputs, 'ops': self.ops,
             'types': self.types}
        return nvm.named_graph(g, self.channels), [self.v[o] for o in outputs]


def synthetic_inter_model(path, x6, p6, qp, seed=1):
    """Writes a model with the inter graphs of docs/codec.md (input and output
    types and strides), small channel counts and random weights, calibrated
    on (x6, p6) at qp; returns nothing (the test reads it back)."""
    rng = np.random.default_rng(seed)
    cy, cz, nscales = 16, 8, 16
    T = {}
    graphs = []

    b = _GraphBuilder('inter.pred', T, rng, [('p6', 'u8', p6)])
    b.s2d('p6', 'pp', 4)
    b.conv('pp', 'pt0', 12, 3, 's16')
    b.clamp('pt0', 'pt', -800, 800)
    b.conv('pt', 'pf', 8, 3, 'u8', stride=2, relu=True)
    g, (pt, pf) = b.graph(['pt', 'pf'])
    graphs.append(g)

    b = _GraphBuilder('inter.analysis', T, rng,
                      [('x6', 'u8', x6), ('p6', 'u8', p6), ('pt', 's16', pt)])
    b.concat('x6', 'p6', 'xp')
    b.s2d('xp', 'p8', 4)
    b.conv('p8', 'a8', 12, 1, 's16')
    b.concat('a8', 'pt', 'a8c')
    b.conv('a8c', 'a8h', 12, 3, 's8')
    b.conv('a8h', 'a16', cy, 3, 's16', stride=2)
    b.conv('a16', 'a16c', cy, 3, 's16')
    b.add('a16', 'a16c', 'r16', 's16')
    b.requant('r16', 'y', 's32')
    g, (y,) = b.graph(['y'])
    graphs.append(g)

    # Gains: yq spread 200 at qp 0, halved every 8 qp; yd spread ~500.
    ystd = y.reshape(-1, cy).std(axis=0) + 1.0
    scale_q = 200.0 / ystd[None, :] * 2.0 ** (-np.arange(64) / 8.0)[:, None]
    qm, qs = _GraphBuilder.mult_shift(scale_q)
    dm, ds = _GraphBuilder.mult_shift(500.0 / 200.0 * 2.0 ** (np.arange(64) / 8.0)[:, None]
                                      * np.ones(cy)[None, :])
    T['inter.y_qmult'], T['inter.y_qshift'] = qm.reshape(64, cy), qs.reshape(64, cy)
    T['inter.y_dqmult'], T['inter.y_dqshift'] = dm.reshape(64, cy), ds.reshape(64, cy)
    yq = requant_rows(y, qm, qs, qp)

    b = _GraphBuilder('inter.hyper_analysis', T, rng, [('yq', 's16', yq)])
    b.conv('yq', 'h1', 8, 3, 'u8', stride=2, relu=True)
    b.s2d('h1', 'p', 2)
    b.conv('p', 'z', cz, 3, 's16')
    g, (z,) = b.graph(['z'])
    graphs.append(g)

    b = _GraphBuilder('inter.hyper_synthesis', T, rng, [('zq', 's16', z), ('pf', 'u8', pf)])
    b.conv('zq', 'h1', 32, 3, 'u8', relu=True)
    b.d2s('h1', 'h3', 4)
    b.concat('h3', 'pf', 'h3c')
    b.conv('h3c', 'mu', cy, 3, 's16')
    b.conv('h3c', 'sidx0', cy, 1, 'u8', relu=True, spread=10)
    b.clamp('sidx0', 'sidx', 0, nscales - 1)
    g, _ = b.graph(['mu', 'sidx'])
    graphs.append(g)

    yd = requant_rows(yq, dm, ds, qp)
    b = _GraphBuilder('inter.synthesis', T, rng,
                      [('yd', 's16', yd), ('pt', 's16', pt), ('p6', 'u8', p6)])
    b.conv('yd', 'u16', 48, 3, 's16')
    b.d2s('u16', 'u8r', 2)
    b.add('u8r', 'pt', 'a8', 's16')
    b.concat('a8', 'pt', 'a8c')
    b.conv('a8c', 'x96', 96, 3, 's16', spread=80)
    b.d2s('x96', 'x6m', 4)
    b.clamp('x6m', 'x6mc', -100, 120)
    b.requant('p6', 'p6s', 's16', bias=False, spread=60)
    b.add('x6mc', 'p6s', 'x6', 'u8')
    g, _ = b.graph(['x6'])
    graphs.append(g)

    params = {'format': 1, 'cy': cy, 'cz': cz, 'nscales': nscales, 'inter': 1}
    nvm.write_nvm(path, 'intsim-synthetic-inter', params, T, graphs)


# ---------------------------------------------------------------- tests

class IntsimTest(SimTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='test_intsim_')
        # One copy of the model for both sides, whatever happens to the
        # file in the tree meanwhile.
        cls.model_path = os.path.join(cls.tmp, 'model.nvm')
        shutil.copyfile(MODEL, cls.model_path)
        cls.model = nvm.read_nvm(cls.model_path)
        cls.park = read_y4m_first(clip(PARK))
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        IntsimTest.n += 1
        return os.path.join(self.tmp, '%d_%s' % (self.n, name))

    def intra_case(self, planes, qp):
        y4m = self.path('in.y4m')
        write_y4m(y4m, planes)
        meta, t = dump(y4m, qp, self.path('out'), self.model_path)
        h, w = planes[0].shape
        self.assertEqual((meta['width'], meta['height'], meta['qp']), (w, h, qp))
        self.assert_same('x6 (packing, docs/codec.md "Pictures")', t['x6'], pack_x6(planes))
        self.check_intra(meta, t, self.model)
        return t

    def test_graphs_for_intsim_round_trip(self):
        """The name-slot form converts back to the stored graphs exactly."""
        G = intsim.graphs_for_intsim(self.model)
        self.assertEqual(sorted(G), sorted(g['name'] for g in self.model.graphs))
        for g in self.model.graphs:
            channels = {'s%d' % i['slot']: i['c'] for i in g['inputs']}
            self.assertEqual(nvm.named_graph(G[g['name']], channels), g, g['name'])

    def test_intra_128x64_qp20(self):
        self.intra_case(crop(self.park, 200, 100, 128, 64), 20)

    def test_intra_128x64_qp40(self):
        self.intra_case(crop(self.park, 200, 100, 128, 64), 40)

    def test_intra_odd_67x45_qp20(self):
        self.intra_case(crop(self.park, 36, 150, 67, 45), 20)

    def test_intra_odd_67x45_qp40(self):
        self.intra_case(crop(self.park, 36, 150, 67, 45), 40)

    def test_intra_whole_frame_qp30(self):
        """480x270: five latent bands, edge extension on both sides."""
        self.intra_case(self.park, 30)

    def test_intra_face_128x64_qp20(self):
        """A crop of another clip (through ffmpeg): a face, qp 20."""
        y4m = self.path('face.y4m')
        ffmpeg_first_frame(clip(FACE), y4m, 'crop=128:64:192:160')
        planes = read_y4m_first(y4m)
        self.assertEqual(planes[0].shape, (64, 128))
        self.intra_case(planes, 20)

    def test_different_qp_same_analysis(self):
        """y depends on the picture only; yq on qp (a check of the dump
        itself: each qp row of the gain tables is used)."""
        planes = crop(self.park, 300, 40, 128, 64)
        a = self.intra_case(planes, 10)
        b = self.intra_case(planes, 50)
        np.testing.assert_array_equal(a['y'], b['y'])
        self.assertFalse(np.array_equal(a['yq'], b['yq']))

    def test_inter_built_in_model(self):
        """The inter graphs of the model, when it has them; otherwise the dump
        refuses with status 3 and says so."""
        planes = crop(self.park, 200, 100, 128, 64)
        y4m = self.path('in.y4m')
        write_y4m(y4m, planes)
        if self.model.params.get('inter') == 1:
            meta, t = dump(y4m, 30, self.path('out'), self.model_path, inter=True, shift=(3, -2))
            self.assert_same('x6', t['x6'], pack_x6(planes))
            self.check_inter(meta, t, self.model, (3, -2))
        else:
            out = self.path('out')
            os.makedirs(out)
            r = run_dump(['--dump-inter', y4m, '30', out, '--model', self.model_path])
            self.assertEqual(r.returncode, 3, r.stderr.decode(errors='replace'))
            self.assertIn(b'no inter part', r.stderr)

    def synthetic_inter_case(self, planes, qp, shift):
        x6 = pack_x6(planes)
        model_path = self.path('inter.nvm')
        synthetic_inter_model(model_path, x6, shift_x6(x6, *shift), qp)
        model = nvm.read_nvm(model_path)
        y4m = self.path('in.y4m')
        write_y4m(y4m, planes)
        meta, t = dump(y4m, qp, self.path('out'), model_path, inter=True, shift=shift)
        self.assert_same('x6', t['x6'], x6)
        self.check_inter(meta, t, model, shift)
        return t

    def test_inter_synthetic_128x64(self):
        """Every op kind, multi-input graphs, the inter gain tables."""
        t = self.synthetic_inter_case(crop(self.park, 200, 100, 128, 64), 24, (3, 2))
        # The calibration keeps the model's values spread: clamps and
        # rounding are exercised, not bypassed.
        self.assertGreater(len(np.unique(t['x6rec'])), 50)
        self.assertGreater(len(np.unique(t['sidx'])), 4)
        self.assertGreaterEqual(len(np.unique(t['z'])), t['z'].size // 2)

    def test_inter_synthetic_odd_67x45(self):
        self.synthetic_inter_case(crop(self.park, 100, 20, 67, 45), 45, (-5, 4))


if __name__ == '__main__':
    unittest.main()
