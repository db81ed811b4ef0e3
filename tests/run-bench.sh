#!/bin/sh
# Runs every benchmark program (tests/bench_*.c) and then the codec
# benchmark against x264 (tools/bench.py) when present.
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-python3}
st=0
for b in "$BUILD"/tests/bench_*; do
    [ -x "$b" ] || continue
    case "$b" in *bench_latency) continue ;; esac   # run by tools/bench.py on its 1080p clip
    echo "== $(basename "$b")"
    "$b" || st=1
done
if [ -f tools/bench.py ]; then
    echo "== tools/bench.py"
    "$PYTHON" tools/bench.py --build "$BUILD" || st=1
fi
if [ -f tools/bench_backends.py ]; then
    echo "== tools/bench_backends.py (CPU backends and OpenCL)"
    "$PYTHON" tools/bench_backends.py --build "$BUILD" || st=1
fi
exit $st
