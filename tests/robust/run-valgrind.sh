#!/bin/sh
# The check-valgrind suite (tests/robust.mk): neuvc-enc and neuvc-dec from
# $BUILD under valgrind (memcheck) on a short crop of a real clip
# (vmaf_park_joy_480x270_10f.y4m from $NEUVC_CLIPS/eval or
# ../shared/clips/eval, as tests/test_cli.py uses), good input and bad.
# A memcheck error or any leak (definite, indirect, possible or still
# reachable) fails a check, and so does a wrong exit status or a decoded
# picture that differs from the encoder's reconstruction.
# Closing line: "N passed, N failed".
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-python3}
CLIPS=${NEUVC_CLIPS:-../shared/clips}
CLIP=$CLIPS/eval/vmaf_park_joy_480x270_10f.y4m
VG_ERR=99
passed=0; failed=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind is not installed (tools/install-deps.sh)"; echo "0 passed, 1 failed"; exit 1
fi
if [ ! -f "$CLIP" ]; then
    echo "test clip $CLIP is missing (set NEUVC_CLIPS)"; echo "0 passed, 1 failed"; exit 1
fi
# 3 frames, 72x40 from (200, 100): plain Y4M, cropped without numpy.
"$PYTHON" - "$CLIP" "$tmp/clip.y4m" <<'PY' || { echo "0 passed, 1 failed"; exit 1; }
import sys
W, H, X, Y, N = 72, 40, 200, 100, 3
src = open(sys.argv[1], "rb").read()
end = src.index(b"\n")
tags = src[:end].split(b" ")
w = int([t for t in tags if t.startswith(b"W")][0][1:])
h = int([t for t in tags if t.startswith(b"H")][0][1:])
out = [b"YUV4MPEG2 W%d H%d F50:1 Ip A1:1 C420jpeg\n" % (W, H)]
pos = end + 1
for _ in range(N):
    pos = src.index(b"\n", pos) + 1          # FRAME line
    planes = [(w, h, X, Y, W, H)] + [((w + 1) // 2, (h + 1) // 2, X // 2, Y // 2, W // 2, H // 2)] * 2
    out.append(b"FRAME\n")
    for pw, ph, px, py, cw, ch in planes:
        for r in range(ch):
            row = pos + (py + r) * pw + px
            out.append(src[row:row + cw])
        pos += pw * ph
open(sys.argv[2], "wb").write(b"".join(out))
PY

vg() { # expected-status label command...
    want=$1; label=$2; shift 2
    valgrind -q --error-exitcode=$VG_ERR --leak-check=full --show-leak-kinds=all \
        --errors-for-leak-kinds=all --log-file="$tmp/vg.log" "$@" >"$tmp/out.log" 2>&1
    rc=$?
    ok=1
    [ "$rc" -eq $VG_ERR ] && ok=0
    [ "$want" = 0 ] && [ "$rc" -ne 0 ] && ok=0
    [ "$want" = fail ] && [ "$rc" -eq 0 ] && ok=0
    if [ $ok -eq 1 ]; then
        echo "$label: exit $rc, valgrind clean: ok"; passed=$((passed + 1))
    else
        cat "$tmp/out.log" "$tmp/vg.log"; echo "$label: exit $rc FAILED"; failed=$((failed + 1))
    fi
}

vg 0 "neuvc-enc (I P I, --recon)" "$BUILD/neuvc-enc" --quiet --qp 30 --keyint 2 \
    --recon "$tmp/rec.y4m" -o "$tmp/clip.nvc" "$tmp/clip.y4m"
vg 0 "neuvc-dec" "$BUILD/neuvc-dec" --quiet -o "$tmp/dec.y4m" "$tmp/clip.nvc"
if cmp -s "$tmp/rec.y4m" "$tmp/dec.y4m"; then
    echo "decoded == reconstruction: ok"; passed=$((passed + 1))
else
    echo "decoded != reconstruction: FAILED"; failed=$((failed + 1))
fi
size=$(wc -c < "$tmp/clip.nvc")
head -c $((size - 7)) "$tmp/clip.nvc" > "$tmp/trunc.nvc"
vg fail "neuvc-dec on a truncated stream" "$BUILD/neuvc-dec" --quiet -o "$tmp/t.y4m" "$tmp/trunc.nvc"
size=$(wc -c < "$tmp/clip.y4m")
head -c $((size - 100)) "$tmp/clip.y4m" > "$tmp/trunc.y4m"
vg fail "neuvc-enc on a truncated Y4M" "$BUILD/neuvc-enc" --quiet -o "$tmp/t.nvc" "$tmp/trunc.y4m"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
