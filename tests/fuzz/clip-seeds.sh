#!/bin/sh
# Makes the fuzz seeds that come from picture data, from a real clip of the
# training set, into build/fuzz-seeds/NAME/.  They are never committed:
# pixels come from ../shared/clips (or $NEUVC_CLIPS) at test time, like
# every test that reads video.
#   dec_stream, nvc_reader  .nvc streams made by neuvc-enc from crops
#   dec_packet              the packets of the 60x100 stream, each prefixed by
#                           its mode byte (0: I frame, 1: P frame after a
#                           reference; see fuzz_dec_packet.c)
#   y4m                     small Y4M crops (one with an interlace tag and
#                           another chroma tag) and a neuvc-dec output
# The seeds depend on the built-in model, so they are remade when the tools
# change.  The replay test and check-fuzz read them beside the committed
# tests/fuzz/corpus/NAME/ (synthetic .nvm files, tests/fuzz/gen-corpus.sh).
# Needs ffmpeg and Debian's python3.
# Usage (repo root): sh tests/fuzz/clip-seeds.sh NEUVC_ENC NEUVC_DEC
set -eu
ENC=$1
DEC=$2
PYTHON=${PYTHON:-/usr/bin/python3}
CLIPS=${NEUVC_CLIPS:-../shared/clips}
SRC=$CLIPS/train/video/debian_opencv_tree_320x240.avi
OUT=build/fuzz-seeds
[ -f "$SRC" ] || { echo "clip-seeds: clip $SRC is missing (set NEUVC_CLIPS)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/s/dec_stream" "$tmp/s/dec_packet" "$tmp/s/nvc_reader" "$tmp/s/y4m"

crop() { # W H X Y FRAMES OUT
    ffmpeg -loglevel error -y -i "$SRC" -frames:v "$5" -vf "crop=$1:$2:$3:$4" \
        -pix_fmt yuv420p -f yuv4mpegpipe "$6"
}
enc() { # IN OUT options...
    in=$1; out=$2; shift 2
    "$ENC" --quiet "$@" -o "$out" "$in"
}

S=$tmp/s
crop 60 100 120 60 4 "$tmp/a.y4m"
enc "$tmp/a.y4m" "$S/dec_stream/tree_60x100_ippi.nvc" --qp 44 --keyint 3
crop 16 16 200 100 2 "$tmp/b.y4m"
enc "$tmp/b.y4m" "$S/dec_stream/tree_16x16_ip.nvc" --qp 20
crop 33 17 10 10 2 "$tmp/c.y4m"
enc "$tmp/c.y4m" "$S/dec_stream/tree_33x17_ii.nvc" --qp 60 --keyint 1
crop 130 66 0 0 1 "$tmp/d.y4m"
enc "$tmp/d.y4m" "$S/dec_stream/tree_130x66_i.nvc" --qp 63
cp "$S"/dec_stream/*.nvc "$S/nvc_reader/"

# Packets of the 60x100 stream: file framing is a 100-byte header, then
# (u32 size, i64 pts, payload); payload byte 0 is the frame type.
"$PYTHON" - "$S/dec_stream/tree_60x100_ippi.nvc" "$S/dec_packet" <<'PY'
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

crop 8 6 150 150 2 "$S/y4m/tree_8x6.y4m"
crop 7 5 40 200 1 "$tmp/e.y4m"
sed '1s/ Ip / It /; 1s/C420jpeg/C420mpeg2/' "$tmp/e.y4m" > "$S/y4m/tree_7x5_tagged.y4m"
"$DEC" --quiet -o "$S/y4m/dec_16x16.y4m" "$S/dec_stream/tree_16x16_ip.nvc"

rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
mv "$S" "$OUT"
