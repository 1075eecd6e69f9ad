#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when systemd-analyze rates the unit's exposure above the limit (default 2.0).
# Exit 77 (CTest SKIP_RETURN_CODE) when systemd-analyze, or its --offline mode (systemd 250+),
# is not available; scripts/setup installs the Debian package `systemd`, which provides it.
# Usage: unit_security.sh UNIT_FILE [MAX_EXPOSURE]
set -u

unit=${1:?usage: unit_security.sh UNIT_FILE [MAX_EXPOSURE]}
max=${2:-2.0}

if [ ! -r "$unit" ]; then
    echo "unit_security: cannot read $unit" >&2
    exit 1
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "unit_security: systemd-analyze not installed (Debian package systemd); skipped" >&2
    exit 77
fi
if ! systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
    echo "unit_security: this systemd-analyze has no --offline mode (needs systemd 250+); skipped" >&2
    exit 77
fi

out=$(SYSTEMD_COLORS=0 SYSTEMD_PAGER= LC_ALL=C.UTF-8 \
      systemd-analyze security --no-pager --offline=true "$unit" 2>&1)
status=$?
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' | tail -n 1)
if [ -z "$level" ]; then
    printf '%s\n' "$out" >&2
    echo "unit_security: no exposure level in the output of systemd-analyze (exit $status) for $unit" >&2
    exit 1
fi

# Show what still counts against the unit, for whoever reads the test log.
printf '%s\n' "$out" | grep -E '^(✗|x) ' || true
if awk -v l="$level" -v m="$max" 'BEGIN { exit !(l + 0 <= m + 0) }'; then
    echo "unit_security: $unit exposure $level <= $max"
    exit 0
fi
echo "unit_security: $unit exposure $level is above $max" >&2
exit 1
