#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/demo as a newcomer runs it, on this build (WFSYNC_DEMO_BUILD=0: no setup, no build):
# it exits 0, says what the seed holds, shows the daemon's status and metrics and its clean stop,
# stops the emulator, and leaves a state and an archive that the printed commands can read.
# usage: demo_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work="$(mktemp -d -t wfsync-demo-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
has() {  # TEXT LINE: LINE (fixed string) is in TEXT
    grep -Fq -- "$2" <<<"$1" && pass "output has: $2" || fail "output lacks: $2"
}

demo="$work/demo"
rc=0
out="$(WFSYNC_BUILD_DIR="$build" WFSYNC_DEMO_BUILD=0 WFSYNC_DEMO_DIR="$demo" "$src/scripts/demo" 2>"$work/err")" || rc=$?
echo "$out" >"$work/out"
if [ "$rc" -ne 0 ]; then
    cat "$work/out" "$work/err" >&2
    echo "FAIL: scripts/demo exited $rc" >&2
    exit 1
fi
pass "scripts/demo exited 0"

has "$out" "serves 3 tenants: sandbox (zuora, 4 workflows), prod (zuora, 1 workflow), staging (zuora, 0 workflows)"
grep -Eq '^restore from archive:local to staging \(run [^)]+\): 1 imported, 0 unchanged, 0 drift, 0 skipped, 0 errors$' <<<"$out" \
    && pass "restore: 1 imported" || fail "restore lacks its '1 imported' summary"
grep -Eq '^restore from archive:local to staging \(run [^)]+\): 0 imported, 1 unchanged, 0 drift, 0 skipped, 0 errors$' <<<"$out" \
    && pass "restore again: 0 imported, 1 unchanged" || fail "the second restore lacks its '1 unchanged' summary"
has "$out" '"accepted":true'
has "$out" "ready: yes"
has "$out" 'wfsync_runs_total{rule="promote-to-prod",outcome="ok"} 1'
has "$out" 'wfsync_imports_total{rule="promote-to-prod",target="prod"} 1'
has "$out" "The state and the archive stay in $demo"
# status: the rule run through the admin endpoint, ok, once.
grep -Eq '^  promote-to-prod +\(by hand\) .* ok .* 1$' <<<"$out" && pass "status: promote-to-prod (by hand), ok, 1 run" \
    || fail "status lacks promote-to-prod's row with outcome ok and 1 run"

# Both processes it started are gone.
for name in "the emulator" "wfsync serve"; do
    pid="$(sed -n "s/^$name (pid \([0-9]*\)) \(stopped\|exited 0\)$/\1/p" <<<"$out")"
    if [ -z "$pid" ]; then fail "no '$name (pid N) stopped' or 'exited 0' line"
    elif kill -0 "$pid" 2>/dev/null; then fail "$name (pid $pid) still runs"
    else pass "$name (pid $pid) stopped"; fi
done

# What it leaves, read with the commands it prints.
[ -f "$demo/state/state.db" ] && pass "state/state.db kept" || fail "no state/state.db in $demo"
n="$(find "$demo/state/archive" -name '*.json.gz' | wc -l)"
[ "$n" -ge 3 ] && pass "$n backups kept in state/archive" || fail "only $n backups in state/archive"
[ "$(stat -c %a "$demo")" = 700 ] && pass "the demo directory is 0700" || fail "the demo directory is $(stat -c %a "$demo")"
history="$(. "$demo/env" && wfsync history --limit 50)" && pass "'. env; wfsync history' exits 0" || fail "wfsync history after the demo"
grep -q 'Dunning Notice' <<<"$history" && pass "history names Dunning Notice" || fail "history lacks Dunning Notice: $history"
(. "$demo/env" && wfsync archive verify >/dev/null) && pass "'wfsync archive verify' exits 0" || fail "wfsync archive verify after the demo"

# A directory it did not make is left alone.
mkdir "$work/mine" && echo keep >"$work/mine/file"
rc=0
WFSYNC_BUILD_DIR="$build" WFSYNC_DEMO_BUILD=0 WFSYNC_DEMO_DIR="$work/mine" "$src/scripts/demo" >/dev/null 2>"$work/err2" || rc=$?
[ "$rc" -eq 1 ] && grep -q "is not empty and no earlier demo made it" "$work/err2" && [ -f "$work/mine/file" ] \
    && pass "a foreign non-empty directory is refused (exit 1) and kept" || fail "foreign directory: exit $rc, $(cat "$work/err2")"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed; the demo printed:" >&2
    cat "$work/out" "$work/err" >&2
    exit 1
fi
echo "all checks passed"
