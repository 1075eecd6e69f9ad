#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The man pages and the bash completion, from the source tree:
#   - docs/man/*: groff reports no warning of any kind (-ww);
#   - wfsync(1) names every command of `wfsync --help` and wfsync.yaml(5) every key of
#     etc/wfsync.example.yaml; wfsync.yaml(5)'s EXAMPLE passes `wfsync check --offline`;
#   - etc/completion/wfsync.bash (loaded by bash-completion) and etc/completion/_wfsync (in an
#     interactive zsh) offer what the command line has.
# usage: man_completion_test.sh SOURCE_DIR WFSYNC
set -euo pipefail
src=$1 wfsync=$2
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

for page in "$src"/docs/man/wfsync.1 "$src"/docs/man/wfsync.yaml.5; do
    warnings="$(groff -man -Tutf8 -ww -z "$page" 2>&1)"
    [ -z "$warnings" ] && pass "$(basename "$page"): no groff warnings" || fail "$(basename "$page"): $warnings"
done

# The rendered text, one space between words, hyphens plain.
render() { groff -man -Tascii -P-cbou "$1" 2>/dev/null | tr -s ' \n' ' '; }
man1="$(render "$src/docs/man/wfsync.1")"
man5="$(render "$src/docs/man/wfsync.yaml.5")"

# Every command in the usage text is described under COMMANDS.
commands="$("$wfsync" --help | sed -n '/^\(sub\)\?commands:/I,/^$/p' | awk '/^  [a-z]/ {print $1}' | sort -u)"
[ -n "$commands" ] || fail "no commands found in wfsync --help"
for c in $commands; do
    grep -Fq "wfsync $c" <<<"$man1" && pass "wfsync(1) describes $c" || fail "wfsync(1) does not describe '$c'"
done
# Every option in the usage texts (wfsync's, each command's, archive's and state's subcommands'),
# and every exit code.
helps="$("$wfsync" --help)"
for c in $commands; do helps+=$'\n'"$("$wfsync" "$c" --help 2>&1 || true)"; done
for c in "archive prune" "state backup"; do helps+=$'\n'"$("$wfsync" $c --help 2>&1 || true)"; done
for opt in $(grep -o -- '--[a-z][a-z-]*' <<<"$helps" | sort -u); do
    grep -Fq -- "$opt" <<<"$man1" && pass "wfsync(1) names $opt" || fail "wfsync(1) does not name $opt"
done
for code in 0 1 2 74 75 77 78; do
    grep -Eq "EXIT STATUS.* $code " <<<"$man1" && pass "wfsync(1) gives exit status $code" || fail "wfsync(1) lacks exit status $code"
done

# Every key of the example config (a word before ':' at the start of a line or after '{' or ','),
# except the names the example chose (tenants, archives).
keys="$(sed 's/#.*//' "$src/etc/wfsync.example.yaml" | grep -oE '(^ *|[{,] *)(- )?[a-z_]+:' \
    | sed -E 's/^[ {,-]*//; s/:$//' | sort -u)"
for k in $keys; do
    case $k in zuora-sandbox | zuora-prod | kore-dev | soc-eu | soc-lab | local) continue ;; esac
    grep -Eq "(^|[ .(])$k([ .,)]|$)" <<<"$man5" && pass "wfsync.yaml(5) describes $k" || fail "wfsync.yaml(5) does not describe '$k'"
done

# The EXAMPLE of wfsync.yaml(5), as a reader would copy it, is a valid config.
ex="$(mktemp -d)"
trap 'rm -rf "$ex"' EXIT
groff -man -Tascii -P-cbou "$src/docs/man/wfsync.yaml.5" 2>/dev/null | sed -n '/^EXAMPLE$/,/^FILES$/p' | sed '1d;$d; s/^       //' \
    | sed "s|/var/lib/wfsync|$ex/state|" >"$ex/wfsync.yaml"
for f in zuora-sbx zuora-prod admin-token; do echo secret >"$ex/$f"; done
if got="$(ZUORA_SBX_ID=a ZUORA_PROD_ID=b "$wfsync" --config "$ex/wfsync.yaml" check --offline 2>&1)"; then
    pass "wfsync.yaml(5)'s EXAMPLE passes check --offline: $got"
else
    fail "wfsync.yaml(5)'s EXAMPLE: $got"
fi

# The bash completion, as bash-completion loads it.
bc=/usr/share/bash-completion/bash_completion
if [ ! -r "$bc" ]; then
    fail "$bc missing (scripts/setup installs bash-completion)"
else
    # COMPREPLY for the words of a command line ending in the word being completed.
    complete_line() {
        bash -c '
            source "$1"; source "$2"; shift 2
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
            COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            _wfsync wfsync "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " "' _ "$bc" "$src/etc/completion/wfsync.bash" "$@"
    }
    expect() {  # EXPECTED WORDS...: the offered words, sorted, space-separated
        local want=$1 got
        shift
        got="$(complete_line "$@")"
        [ "$got" = "$want" ] && pass "complete '$*' -> $want" || fail "complete '$*': got '$got', want '$want'"
    }
    # Every option of every command's --help is offered after that command.
    for c in $commands "archive list" "archive prune" "state backup"; do
        case $c in help | version | archive | state) continue ;; esac
        # shellcheck disable=SC2086 # $c is one or two words
        want="$("$wfsync" $c --help | grep -oE -- '^ +(-[a-zA-Z],)?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | sort -u)"
        # shellcheck disable=SC2086
        got=" $(complete_line wfsync $c --) "
        missing=""
        for o in $want; do [[ $got == *" $o "* ]] || missing+=" $o"; done
        [ -z "$missing" ] && pass "bash: 'wfsync $c --' offers all $(wc -w <<<"$want") options of its --help" \
            || fail "bash: 'wfsync $c --' does not offer$missing"
    done
    expect "archive " wfsync ar
    expect "serve state status sync " wfsync s
    expect "list prune verify " wfsync archive ""
    expect "--archive --config --dry-run --help --json --no-color --quiet --verbose --wait " wfsync archive prune --
    expect "--archive --config --help --json --no-color --quiet --verbose " wfsync --config f.yaml archive list --
    expect "--dry-run " wfsync restore --version 1.0 --workflow W --to T --dr
    expect "--config --help --json --no-color --quiet --verbose --version -V -c -h -q -v " wfsync -
    expect "--dry-run " wfsync sync --rule r --dr
    expect "--offline " wfsync check --of
    expect "archive: " wfsync restore --from ""
    expect "backup check " wfsync state ""
    expect "--force " wfsync state backup --f
    expect "resolve restore " wfsync help re
    expect "list prune verify " wfsync help archive ""
    expect "archive " wfsync -c x.yaml ar
fi

# The zsh completion, in an interactive zsh (tests/package/zsh_complete.zsh).
if ! command -v zsh >/dev/null; then
    fail "zsh missing (scripts/setup installs it)"
else
    zexpect() {  # EXPECTED LINE: the offered words, sorted, space-separated
        local want=$1 got
        got="$(timeout 20 zsh "$src/tests/package/zsh_complete.zsh" "$src/etc/completion" "$2" | LC_ALL=C sort -u | tr '\n' ' ')"
        [ "$got" = "$want" ] && pass "zsh: complete '$2' -> $want" || fail "zsh: complete '$2': got '$got', want '$want'"
    }
    zexpect "archive " "wfsync ar"
    zexpect "serve state status sync " "wfsync s"
    zexpect "list prune verify " "wfsync archive "
    zexpect "--archive --config --dry-run --help --json --no-color --quiet --verbose --wait " "wfsync archive prune --"
    zexpect "--config --dry-run --full --help --json --no-color --quiet --rule --verbose --wait " "wfsync sync --rule r --"
    # restore's own --version (not the global one), which excludes --at.
    zexpect "--config --dry-run --from --help --json --no-color --quiet --to --verbose --wait --workflow " \
        "wfsync restore --version 1 --"
    zexpect "archive: " "wfsync restore --from "
    zexpect "--offline " "wfsync check --of"
    zexpect "backup check " "wfsync state "
    zexpect "--config --help --json --no-color --quiet --verbose --version -V -c -h -q -v " "wfsync -"
    zexpect "list prune verify " "wfsync help archive "
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all checks passed"
