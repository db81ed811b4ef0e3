#!/bin/sh
# make check-aarch64: the aarch64 cross build ($XBUILD, static programs)
# under qemu-aarch64, against the native build ($BUILD).
#   1. Every C test program of the cross build under "-cpu max" (NEON and
#      the dot product; $SLOW_TESTS only when AARCH64_ALL=1), then the
#      kernel checker and the backend comparison again under
#      "-cpu cortex-a72" (ARMv8.0: NEON without the dot product), so both
#      ARM levels run.
#   2. Cross-architecture identity on a real clip crop (I and P frames):
#      the aarch64 neuvc-enc writes the same .nvc bytes as the native one,
#      and the aarch64 neuvc-dec decodes the native stream to the same Y4M
#      bytes as the native decoder, on both qemu CPUs (sha256 compared).
# Prints one closing line "N passed, N failed"; non-zero exit on failure.
BUILD=${BUILD:-build}
XBUILD=${XBUILD:-build/aarch64}
QEMU=${QEMU:-qemu-aarch64}
CLIPS=${NEUVC_CLIPS:-../shared/clips}
# test_codec: about 6 minutes under qemu (355 s measured), the API and error paths,
# which the native suites already run; its byte-identity is test_backends'.
SLOW_TESTS="test_codec"
CPU_DOT="max"
CPU_PLAIN="cortex-a72"
passed=0; failed=0; bad=""
log=$(mktemp); tmp=$(mktemp -d); trap 'rm -rf "$log" "$tmp"' EXIT
. "$(dirname "$0")/common/count.sh"

if ! command -v "$QEMU" >/dev/null 2>&1; then
    echo "check-aarch64: $QEMU not found (Debian package qemu-user; tools/install-deps.sh)"
    echo "0 passed, 1 failed"
    exit 1
fi

# run_check NAME CPU: one Check program under qemu, counted as run.sh does.
run_check() {
    t="$XBUILD/tests/$1"; cpu=$2
    echo "== $1 (qemu -cpu $cpu)"
    NEUVC_TEST_RUNNER="$QEMU -cpu $cpu" CK_VERBOSITY=normal "$QEMU" -cpu "$cpu" "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    count_check "$1@$cpu" $rc "$log"
}

# check WHAT CONDITION...: one identity check.
check() {
    what=$1; shift
    if "$@"; then
        echo "ok   $what"; passed=$((passed + 1))
    else
        echo "FAIL $what"; failed=$((failed + 1)); bad="$bad identity"
    fi
}

same_hash() {
    a=$(sha256sum <"$1" | cut -d' ' -f1); b=$(sha256sum <"$2" | cut -d' ' -f1)
    echo "     $(basename "$1") $a"
    echo "     $(basename "$2") $b"
    [ -s "$1" ] && [ "$a" = "$b" ]
}

for t in "$XBUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    case " $SLOW_TESTS " in
        *" $name "*)
            if [ "${AARCH64_ALL:-0}" != 1 ]; then
                echo "== $name: not run under qemu (AARCH64_ALL=1 runs it)"; continue
            fi ;;
    esac
    run_check "$name" "$CPU_DOT"
done
run_check test_checkasm "$CPU_PLAIN"
run_check test_backends "$CPU_PLAIN"

echo "== cross-architecture identity"
clip="$CLIPS/eval/vmaf_park_joy_480x270_10f.y4m"
if ffmpeg -nostdin -v error -i "$clip" -frames:v 6 -vf crop=99:70:200:100 -pix_fmt yuv420p \
        -f yuv4mpegpipe "$tmp/crop.y4m" && [ -s "$tmp/crop.y4m" ]; then
    enc_args="--quiet -q 30 -I 4"
    "$BUILD/neuvc-enc" $enc_args -o "$tmp/native.nvc" "$tmp/crop.y4m" &&
        "$BUILD/neuvc-dec" --quiet -o "$tmp/native.y4m" "$tmp/native.nvc" ||
        { echo "native neuvc-enc / neuvc-dec failed"; failed=$((failed + 1)); bad="$bad identity"; }
    for cpu in "$CPU_DOT" "$CPU_PLAIN"; do
        "$QEMU" -cpu "$cpu" "$XBUILD/neuvc-enc" $enc_args -o "$tmp/arm-$cpu.nvc" "$tmp/crop.y4m"
        check "aarch64 (-cpu $cpu) neuvc-enc == native neuvc-enc (.nvc bytes)" \
            same_hash "$tmp/native.nvc" "$tmp/arm-$cpu.nvc"
        "$QEMU" -cpu "$cpu" "$XBUILD/neuvc-dec" --quiet -o "$tmp/arm-$cpu.y4m" "$tmp/native.nvc"
        check "aarch64 (-cpu $cpu) neuvc-dec of the native stream == native neuvc-dec (Y4M bytes)" \
            same_hash "$tmp/native.y4m" "$tmp/arm-$cpu.y4m"
    done
else
    echo "cannot crop $clip with ffmpeg (set NEUVC_CLIPS to the clips folder)"
    failed=$((failed + 1)); bad="$bad identity"
fi

[ -n "$bad" ] && echo "failing:$bad"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ -z "$bad" ]
