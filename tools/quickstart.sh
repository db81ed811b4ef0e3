#!/bin/sh
# Installs neuvc's dependencies (Debian packages), builds it, and encodes and
# decodes a real clip with the built-in model.  The encoder prints frames,
# kbit/s, PSNR Y/U/V/YUV and fps; the decoder's output is checked against
# the encoder's reconstruction.
#   sh tools/quickstart.sh [CLIP] [QP]
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
make -j2
CLIPS=${NEUVC_CLIPS:-../shared/clips}
CLIP=${1:-$CLIPS/eval/sam2_02_cups_1280x720.mp4}
QP=${2:-32}
out=build/quickstart
mkdir -p "$out"
echo "== preparing the first 32 frames of $CLIP as 8-bit 4:2:0 Y4M"
ffmpeg -v error -y -i "$CLIP" -frames:v 32 -pix_fmt yuv420p -f yuv4mpegpipe "$out/in.y4m"
echo "== neuvc-enc --qp $QP"
build/neuvc-enc --qp "$QP" --recon "$out/recon.y4m" -o "$out/out.nvc" "$out/in.y4m"
echo "== neuvc-dec"
build/neuvc-dec -o "$out/dec.y4m" "$out/out.nvc"
if cmp -s "$out/dec.y4m" "$out/recon.y4m"; then
    echo "decoder output == encoder reconstruction (bit-exact)"
else
    echo "MISMATCH: decoder output differs from the encoder's reconstruction" >&2
    exit 1
fi
