#!/bin/sh
# The check-fuzz suite (tests/robust.mk).  For each fuzz target given
# (fuzz_NAME, built in $BUILD by `make fuzz`):
#   1. replays every regression input (tests/fuzz/regress/NAME/) and every
#      seed (tests/fuzz/corpus/NAME/, and build/fuzz-seeds/NAME/ made from
#      a clip by tests/fuzz/clip-seeds.sh) once;
#   2. fuzzes for FUZZ_TIME seconds from the seeds (new inputs are kept in
#      $BUILD/corpus/NAME between runs).
# Any crash, sanitizer report, leak, input slower than FUZZ_TIMEOUT seconds
# or memory above FUZZ_RSS_MB fails the target; the input that did it is
# left in $BUILD/artifacts/ (copy it into tests/fuzz/regress/NAME/ with the
# fix).  Closing line: "N passed, N failed" (two checks per target).
BUILD=${BUILD:-build/fuzz}
FUZZ_TIME=${FUZZ_TIME:-25}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-1024}
DIR=tests/fuzz
SEEDS=build/fuzz-seeds
passed=0; failed=0
mkdir -p "$BUILD/artifacts"
log=$(mktemp); trap 'rm -f "$log"' EXIT
opts="-timeout=$FUZZ_TIMEOUT -rss_limit_mb=$FUZZ_RSS_MB -malloc_limit_mb=$FUZZ_RSS_MB"
for t in "$@"; do
    name=${t#fuzz_}
    bin=$BUILD/$t
    if [ ! -x "$bin" ]; then
        echo "$t: not built"; failed=$((failed + 2)); continue
    fi
    inputs=$(find "$DIR/regress/$name" "$DIR/corpus/$name" "$SEEDS/$name" -type f 2>/dev/null | sort)
    n=$(echo "$inputs" | grep -c .)
    # shellcheck disable=SC2086
    if "$bin" $opts -artifact_prefix="$BUILD/artifacts/$name-" $inputs >"$log" 2>&1; then
        echo "$t: replayed $n inputs: ok"; passed=$((passed + 1))
    else
        tail -n 40 "$log"; echo "$t: replaying $n inputs FAILED"; failed=$((failed + 1))
    fi
    mkdir -p "$BUILD/corpus/$name"
    # shellcheck disable=SC2086
    if "$bin" $opts -max_total_time="$FUZZ_TIME" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$BUILD/artifacts/$name-" "$BUILD/corpus/$name" $(ls -d "$DIR/corpus/$name" "$SEEDS/$name" 2>/dev/null) \
        >"$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -E '^#[0-9]+.*cov:' "$log" | tail -n 1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
        echo "$t: fuzzed ${FUZZ_TIME} s, ${execs:-?} executions, coverage ${cov:-?} edges: ok"
        passed=$((passed + 1))
    else
        tail -n 60 "$log"
        echo "$t: fuzzing FAILED (input in $BUILD/artifacts/$name-*)"; failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
