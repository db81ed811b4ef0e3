# Sourced by the suite runners (tests/run.sh, tests/run-aarch64.sh).
# count_check NAME RC LOG: counts the Check program NAME that exited with
# RC and wrote LOG: its checks into $passed and $failed (failures and
# errors), and NAME into $bad when it exited non-zero or printed no
# summary (a crash, counted as one failure).
count_check() {
    line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$3" | tail -n 1)
    if [ -n "$line" ]; then
        n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
        f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
        e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
        passed=$((passed + n - f - e)); failed=$((failed + f + e))
    fi
    if [ "$2" -ne 0 ] || [ -z "$line" ]; then
        bad="$bad $1"
        [ -z "$line" ] && failed=$((failed + 1))
    fi
}
