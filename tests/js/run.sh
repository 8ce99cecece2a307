#!/bin/sh
# Runs the JavaScript unit tests (tests/js/*.test.js, node, no packages) on the
# browser library as built into DIR (scripts/check.sh: build/gen, what the
# server embeds), or, with no DIR, as built afresh from web/; once per time zone: UTC, one behind it (America/Los_Angeles) and one
# ahead (Pacific/Auckland), where a UTC day and a local day differ. Prints each
# test's line with its zone and a last line "N passed, N failed" for
# scripts/check.sh.
set -u
cd "$(dirname "$0")/../.."
DIR=${1:-}
NODE=$(command -v node || command -v nodejs || true)
if [ -z "$NODE" ]; then
    echo "not ok - node is not installed (scripts/deps.sh test)"
    echo "0 passed, 1 failed"
    exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ -z "$DIR" ]; then
    web/analytics/build.sh web/analytics/analytics.js "$TMP/gen" || { echo "not ok - build"; echo "0 passed, 1 failed"; exit 1; }
    DIR=$TMP/gen
fi
PASSED=0
FAILED=0
for tz in UTC America/Los_Angeles Pacific/Auckland; do
    for t in tests/js/*.test.js; do
        # --experimental-vm-modules: the module form runs as a vm.SourceTextModule
        TZ=$tz "$NODE" --experimental-vm-modules --no-warnings "$t" "$DIR" >"$TMP/log" 2>&1
        status=$?
        sed -e "s#^\(ok\|not ok\) - #\1 - [$tz] #" -e '/^[0-9]* passed, [0-9]* failed$/d' "$TMP/log"
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$TMP/log" | tail -1)
        if [ -z "$line" ]; then
            echo "not ok - [$tz] $t: no result line (exit $status)"
            FAILED=$((FAILED + 1))
            continue
        fi
        p=$(echo "$line" | awk '{print $1}')
        f=$(echo "$line" | awk '{print $3}')
        [ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
        PASSED=$((PASSED + p))
        FAILED=$((FAILED + f))
    done
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
