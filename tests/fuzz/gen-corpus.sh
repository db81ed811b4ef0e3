#!/bin/sh
# Regenerates the seed corpora of the fuzz targets (tests/fuzz/corpus/)
# with the project's own tools from a real clip of the training set:
#   dec_stream, nvc_reader  .nvc streams made by neuvc-enc from crops of the clip
#   dec_packet              the packets of the 60x100 stream, each prefixed by
#                           its mode byte (0: I frame, 1: P frame after a
#                           reference; see fuzz_dec_packet.c)
#   y4m                     small Y4M crops (ffmpeg) and neuvc-dec output
#   nvm                     small .nvm files written by training/nvm.py
# Needs build/neuvc-enc and build/neuvc-dec (make), ffmpeg, and Debian's
# python3 with numpy.  Usage: sh tests/fuzz/gen-corpus.sh (from the repo root).
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
CLIPS=${NEUVC_CLIPS:-../shared/clips}
SRC=$CLIPS/train/video/debian_opencv_tree_320x240.avi
OUT=tests/fuzz/corpus
[ -f "$SRC" ] || { echo "gen-corpus: clip $SRC is missing" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT/dec_stream" "$OUT/dec_packet" "$OUT/nvc_reader" "$OUT/y4m" "$OUT/nvm"

crop() { # W H X Y FRAMES OUT
    ffmpeg -loglevel error -y -i "$SRC" -frames:v "$5" -vf "crop=$1:$2:$3:$4" \
        -pix_fmt yuv420p -f yuv4mpegpipe "$6"
}
enc() { # IN OUT options...
    in=$1; out=$2; shift 2
    "$BUILD/neuvc-enc" --quiet "$@" -o "$out" "$in"
}

crop 60 100 120 60 4 "$tmp/a.y4m"
enc "$tmp/a.y4m" "$OUT/dec_stream/tree_60x100_ippi.nvc" --qp 44 --keyint 3
crop 16 16 200 100 2 "$tmp/b.y4m"
enc "$tmp/b.y4m" "$OUT/dec_stream/tree_16x16_ip.nvc" --qp 20
crop 33 17 10 10 2 "$tmp/c.y4m"
enc "$tmp/c.y4m" "$OUT/dec_stream/tree_33x17_ii.nvc" --qp 60 --keyint 1
crop 130 66 0 0 1 "$tmp/d.y4m"
enc "$tmp/d.y4m" "$OUT/dec_stream/tree_130x66_i.nvc" --qp 63
cp "$OUT"/dec_stream/*.nvc "$OUT/nvc_reader/"

# Packets of the 60x100 stream: file framing is 100-byte header, then
# (u32 size, i64 pts, payload); payload byte 0 is the frame type.
"$PYTHON" - "$OUT/dec_stream/tree_60x100_ippi.nvc" "$OUT/dec_packet" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
pos, n = 100, 0
while pos < len(data):
    size, = struct.unpack_from("<I", data, pos)
    payload = data[pos + 12:pos + 12 + size]
    kind = "p" if payload[0] == 1 else "i"
    with open("%s/packet%d_%s.bin" % (sys.argv[2], n, kind), "wb") as f:
        f.write(bytes([payload[0]]) + payload)
    pos += 12 + size
    n += 1
PY

crop 8 6 150 150 2 "$OUT/y4m/tree_8x6.y4m"
crop 7 5 40 200 1 "$tmp/e.y4m"
sed '1s/ Ip / It /; 1s/C420jpeg/C420mpeg2/' "$tmp/e.y4m" > "$OUT/y4m/tree_7x5_tagged.y4m"
"$BUILD/neuvc-dec" --quiet -o "$OUT/y4m/dec_16x16.y4m" "$OUT/dec_stream/tree_16x16_ip.nvc"

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
