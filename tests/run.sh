#!/bin/sh
# Runs every test program of the suite and prints one closing line
# "N passed, N failed".  C suites use Check; Python suites use unittest.
# Exit status is non-zero when anything failed or a suite crashed.
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-python3}
passed=0; failed=0; bad=""
log=$(mktemp); trap 'rm -f "$log"' EXIT
. "$(dirname "$0")/common/count.sh"
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    CK_VERBOSITY=normal "$t" >"$log" 2>&1; rc=$?
    cat "$log"
    count_check "$name" $rc "$log"
done
for t in tests/test_*.py; do
    [ -f "$t" ] || continue
    name=$(basename "$t")
    BUILD="$BUILD" "$PYTHON" "$t" >"$log" 2>&1; rc=$?
    cat "$log"
    n=$(grep -E '^Ran [0-9]+ test' "$log" | tail -n 1 | sed -E 's/Ran ([0-9]+).*/\1/')
    n=${n:-0}
    fl=$(grep -E '^FAILED \(' "$log" | tail -n 1)
    f=0
    if [ -n "$fl" ]; then
        f1=$(echo "$fl" | sed -nE 's/.*failures=([0-9]+).*/\1/p'); f2=$(echo "$fl" | sed -nE 's/.*errors=([0-9]+).*/\1/p')
        f=$(( ${f1:-0} + ${f2:-0} ))
    fi
    s=$(grep -E '^OK \(skipped=' "$log" | sed -E 's/.*skipped=([0-9]+).*/\1/')
    passed=$((passed + n - f - ${s:-0})); failed=$((failed + f + ${s:-0}))
    if [ $rc -ne 0 ] || [ "$n" -eq 0 ]; then
        bad="$bad $name"; [ "$n" -eq 0 ] && failed=$((failed + 1))
    fi
done
[ -n "$bad" ] && echo "failing suites:$bad"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ -z "$bad" ]
