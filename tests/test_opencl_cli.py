#!/usr/bin/env python3
"""The tools without a usable OpenCL platform (native suite, no OpenCL
needed): an explicit --cpu opencl fails with exactly one line on stderr
saying why; NEUVC_CPU=opencl with --cpu auto says so in one line and falls
back to the CPU, with output identical to a plain CPU run.  "No platform"
is made two ways: no ICD loader (NEUVC_OPENCL_LIB names a missing file) and
a loader with no vendor (OCL_ICD_VENDORS names an empty folder; ocl-icd's
variable), the second only where libOpenCL.so.1 is installed.

Run by tests/run.sh, or: BUILD=build /usr/bin/python3 tests/test_opencl_cli.py -v
(the OpenCL device path itself is tests/opencl_check.c, make check-opencl).
"""

import ctypes.util
import os
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BUILD = os.environ.get('BUILD', 'build')
BUILD = BUILD if os.path.isabs(BUILD) else os.path.join(REPO, BUILD)
ENC = os.path.join(BUILD, 'neuvc-enc')
DEC = os.path.join(BUILD, 'neuvc-dec')
TIMEOUT = 120


def y4m(w, h, frames):
    """A small synthetic Y4M (gradients that move)."""
    out = [b'YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C420jpeg\n' % (w, h)]
    for f in range(frames):
        out.append(b'FRAME\n')
        out.append(bytes((x * 3 + y * 2 + 5 * f) & 255 for y in range(h) for x in range(w)))
        c = bytes((x * 5 + y + 3 * f) & 255 for y in range(h // 2) for x in range(w // 2))
        out.append(c)
        out.append(c[::-1])
    return b''.join(out)


class NoPlatform(unittest.TestCase):
    def setUp(self):
        for t in (ENC, DEC):
            self.assertTrue(os.access(t, os.X_OK), '%s is not built' % t)
        self.tmp = tempfile.TemporaryDirectory()
        self.src = os.path.join(self.tmp.name, 'in.y4m')
        with open(self.src, 'wb') as f:
            f.write(y4m(64, 48, 2))
        self.cache = os.path.join(self.tmp.name, 'cache')

    def tearDown(self):
        self.tmp.cleanup()

    def run_tool(self, args, env_extra):
        env = dict(os.environ)
        env.pop('NEUVC_CPU', None)
        env['XDG_CACHE_HOME'] = self.cache
        env.update(env_extra)
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT, env=env)
        return r.returncode, r.stdout, r.stderr.decode('utf-8', 'replace')

    def envs(self):
        out = [('no loader', {'NEUVC_OPENCL_LIB': os.path.join(self.tmp.name, 'libOpenCL.so.1')})]
        if ctypes.util.find_library('OpenCL'):
            empty = os.path.join(self.tmp.name, 'vendors')
            os.makedirs(empty, exist_ok=True)
            out.append(('no vendor', {'OCL_ICD_VENDORS': empty}))
        return out

    def test_explicit_opencl_fails_in_one_line(self):
        nvc = os.path.join(self.tmp.name, 'ok.nvc')
        rc, _, err = self.run_tool([ENC, '--quiet', '-o', nvc, self.src], {})
        self.assertEqual(rc, 0, err)
        for what, env in self.envs():
            out = os.path.join(self.tmp.name, 'x.nvc')
            rc, so, err = self.run_tool([ENC, '--cpu', 'opencl', '-o', out, self.src], env)
            self.assertGreater(rc, 0, what)
            self.assertEqual(so, b'')
            lines = err.splitlines()
            self.assertEqual(len(lines), 1, '%s: %r' % (what, err))
            self.assertTrue(lines[0].startswith('neuvc-enc: --cpu opencl: OpenCL unavailable: '),
                            lines[0])
            rc, so, err = self.run_tool([DEC, '--cpu', 'opencl', '-o', os.path.join(
                self.tmp.name, 'x.y4m'), nvc], env)
            self.assertGreater(rc, 0, what)
            lines = err.splitlines()
            self.assertEqual(len(lines), 1, '%s: %r' % (what, err))
            self.assertTrue(lines[0].startswith('neuvc-dec: --cpu opencl: OpenCL unavailable: '),
                            lines[0])

    def test_auto_falls_back_to_cpu(self):
        ref = os.path.join(self.tmp.name, 'ref.nvc')
        ref_y4m = os.path.join(self.tmp.name, 'ref.y4m')
        rc, _, err = self.run_tool([ENC, '--quiet', '-o', ref, self.src], {})
        self.assertEqual(rc, 0, err)
        rc, _, err = self.run_tool([DEC, '--quiet', '-o', ref_y4m, ref], {})
        self.assertEqual(rc, 0, err)
        for what, env in self.envs():
            env = dict(env, NEUVC_CPU='opencl')
            out = os.path.join(self.tmp.name, 'fb.nvc')
            rc, _, err = self.run_tool([ENC, '--quiet', '-o', out, self.src], env)
            self.assertEqual(rc, 0, err)
            lines = err.splitlines()
            self.assertEqual(len(lines), 1, '%s: %r' % (what, err))
            self.assertRegex(lines[0], r'^neuvc-enc: NEUVC_CPU=opencl: OpenCL unavailable: .*; '
                             r'using the CPU \((ref|avx2|avx512|avx512\+amx|neon|neondot)\)$')
            with open(out, 'rb') as a, open(ref, 'rb') as b:
                self.assertEqual(a.read(), b.read(), what)
            dec = os.path.join(self.tmp.name, 'fb.y4m')
            rc, _, err = self.run_tool([DEC, '--quiet', '-o', dec, ref], env)
            self.assertEqual(rc, 0, err)
            self.assertEqual(len(err.splitlines()), 1, err)
            self.assertIn('using the CPU', err)
            with open(dec, 'rb') as a, open(ref_y4m, 'rb') as b:
                self.assertEqual(a.read(), b.read(), what)


if __name__ == '__main__':
    unittest.main()
