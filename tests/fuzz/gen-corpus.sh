#!/bin/sh
# Regenerates the committed seed corpus of the fuzz targets
# (tests/fuzz/corpus/nvm): small synthetic .nvm files written by
# training/nvm.py, and the built-in model's parameters without graphs.
# Seeds that come from picture data (streams, packets, Y4M) are never
# committed: tests/fuzz/clip-seeds.sh makes them from a clip at test time.
# Needs Debian's python3 with numpy.
# Usage: sh tests/fuzz/gen-corpus.sh (from the repo root).
set -eu
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=tests/fuzz/corpus
rm -rf "$OUT"
mkdir -p "$OUT/nvm"

PYTHONPATH=training:tests "$PYTHON" - "$OUT/nvm" <<'PY'
import sys
import numpy as np
import nvm
from test_nvm_py import sample_content
out = sys.argv[1]
nvm.write_nvm(out + "/every_op.nvm", *sample_content())
graph = {"name": "g", "inputs": [{"slot": 0, "type": "u8", "c": 1}], "outputs": [1],
         "ops": [{"op": "clamp", "src": [0], "dst": 1, "lo": 0, "hi": 1}]}
nvm.write_nvm(out + "/tiny.nvm", "tiny", {"a": 1}, {"t": np.array([1, 2, 3], np.uint8)}, [graph])
# The built-in model's parameters and entropy-coder side tables, no graphs.
m = nvm.read_nvm("models/neuvc-rt.nvm")
small = {k: v for k, v in m.tensors.items() if k.endswith((".k", ".b")) and v.ndim == 1 and v.size == 64}
nvm.write_nvm(out + "/codec_params.nvm", m.model_id, m.params, small, [])
PY
du -sh "$OUT"; find "$OUT" -type f | sort
