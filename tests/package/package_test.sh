#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `cmake --install` and the .deb, checked from the outside: installs the build under two prefixes
# with DESTDIR and checks where each file went; then builds the package with cpack from this
# build tree, reads its control data and file list, unpacks it into a scratch root (dpkg -x;
# nothing is installed on this machine) and runs the packaged binary.
# usage: package_test.sh BUILD_DIR SOURCE_DIR CPACK VERSION
set -euo pipefail
build=$1 src=$2 cpack=$3 version=$4

work="$(mktemp -d -t wfsync-package.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# ELF sections of a binary, one name a line.
sections() { readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\) .*/\1/p'; }
stripped() {  # no debug info and no symbol table: what strip leaves
    local s
    s="$(sections "$1")"
    if grep -qx '\.debug_info' <<<"$s" || grep -qx '\.symtab' <<<"$s"; then return 1; fi
}

# --- cmake --install ---------------------------------------------------------------------
# The same build, installed under two prefixes: the paths follow the prefix installed to.
install_to() {  # PREFIX: into $work/stage<n> through DESTDIR
    local stage=$1 prefix=$2
    DESTDIR="$stage" cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 \
        || { cat "$work/install.log" >&2; fail "cmake --install --prefix $prefix"; return 1; }
}
if install_to "$work/stage-usr" /usr; then
    s="$work/stage-usr"
    for f in usr/bin/wfsync etc/wfsync/wfsync.example.yaml lib/systemd/system/wfsync.service \
        usr/share/man/man1/wfsync.1.gz usr/share/man/man5/wfsync.yaml.5.gz usr/share/doc/wfsync/README.md; do
        [ -f "$s/$f" ] && pass "--prefix /usr: /$f" || fail "--prefix /usr: no /$f"
    done
    [ ! -e "$s/usr/etc" ] && pass "--prefix /usr: nothing in /usr/etc" || fail "--prefix /usr: /usr/etc exists"
    # Unstripped, the package would take minutes to compress: stop here.
    stripped "$s/usr/bin/wfsync" && pass "--prefix /usr: wfsync stripped" \
        || { echo "FAIL: --prefix /usr: wfsync not stripped (WFSYNC_INSTALL_STRIP=OFF?); the .deb is not built" >&2; exit 1; }
fi
if install_to "$work/stage-local" /usr/local; then
    s="$work/stage-local/usr/local"
    for f in bin/wfsync etc/wfsync/wfsync.example.yaml lib/systemd/system/wfsync.service share/man/man1/wfsync.1.gz; do
        [ -f "$s/$f" ] && pass "--prefix /usr/local: /usr/local/$f" || fail "--prefix /usr/local: no /usr/local/$f"
    done
    [ ! -e "$work/stage-local/etc" ] && pass "--prefix /usr/local: nothing in /etc" || fail "--prefix /usr/local: wrote into /etc"
fi

# --- the .deb -----------------------------------------------------------------------------
if ! "$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1; then
    cat "$work/cpack.log" >&2
    echo "FAIL: cpack -G DEB" >&2
    exit 1
fi
arch="$(dpkg --print-architecture)"
deb="$work/out/wfsync_${version}_${arch}.deb"
[ -f "$deb" ] || { ls -l "$work/out" >&2; echo "FAIL: no $deb" >&2; exit 1; }
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = wfsync ] && pass "Package: wfsync" || fail "Package: '$(field Package)'"
[ "$(field Version)" = "$version" ] && pass "Version: $version" || fail "Version: '$(field Version)', project $version"
[ "$(field Architecture)" = "$arch" ] && pass "Architecture: $arch" || fail "Architecture: '$(field Architecture)'"
[ "$(field Section)" = admin ] && pass "Section: admin" || fail "Section: '$(field Section)'"
desc="$(field Description)"
[ "$(head -1 <<<"$desc")" = "replicates workflow definitions between SaaS tenants" ] && pass "Description: synopsis line" \
    || fail "Description's first line: '$(head -1 <<<"$desc")'"
# The long description: every line indented by exactly one space, paragraphs split by " .".
if tail -n +2 <<<"$desc" | grep -qv '^ [^ ]'; then fail "Description's long text is not indented by one space: $desc"
else pass "Description: long text indented by one space"; fi
[ -n "$(field Maintainer)" ] && pass "Maintainer: $(field Maintainer)" || fail "no Maintainer"
depends="$(field Depends)"
echo "Depends: $depends"
# dpkg-shlibdeps found the libraries wfsync links: a few that must be there.
depends_names="$(sed 's/ *([^)]*)//g; s/, */\n/g' <<<"$depends")"  # one package name a line
for lib in libc6 libsqlite3-0 libssl3 libyaml-cpp0.7 libstdc++6; do
    grep -Fxq "$lib" <<<"$depends_names" && pass "Depends names $lib" || fail "Depends lacks $lib"
done

dpkg-deb -e "$deb" "$work/control"
[ "$(cat "$work/control/conffiles")" = /etc/wfsync/wfsync.example.yaml ] && pass "conffiles: /etc/wfsync/wfsync.example.yaml" \
    || fail "conffiles: '$(cat "$work/control/conffiles" 2>/dev/null)'"
for script in postinst prerm postrm; do
    f="$work/control/$script"
    if [ -x "$f" ] && sh -n "$f"; then pass "$script: executable, valid sh"; else fail "$script missing, not executable or not valid sh"; fi
done

# Exactly these files, owned by root, and no others (no test binaries, nothing under /usr/local).
expected="./etc/wfsync/wfsync.example.yaml
./lib/systemd/system/wfsync.service
./usr/bin/wfsync
./usr/share/bash-completion/completions/wfsync
./usr/share/doc/wfsync/LICENSE
./usr/share/doc/wfsync/README.md
./usr/share/doc/wfsync/copyright
./usr/share/doc/wfsync/examples/wfsync-alerts.yml
./usr/share/man/man1/wfsync.1.gz
./usr/share/man/man5/wfsync.yaml.5.gz
./usr/share/zsh/vendor-completions/_wfsync"
listing="$(dpkg-deb -c "$deb")"
files="$(awk '$1 !~ /^d/ {print $6}' <<<"$listing" | sort)"
if [ "$files" = "$expected" ]; then pass "the package holds the expected 11 files"
else fail "files in the package differ from the expected ones:"; diff <(echo "$expected") <(echo "$files") >&2 || true; fi
if awk '$2 != "root/root" {bad = 1} END {exit bad}' <<<"$listing"; then pass "all owned by root/root"; else fail "a file not owned by root/root"; fi
grep -q '^-rwxr-xr-x .* \./usr/bin/wfsync$' <<<"$listing" && pass "usr/bin/wfsync mode 0755" || fail "usr/bin/wfsync not mode 0755"

root="$work/root"
dpkg -x "$deb" "$root"
bin="$root/usr/bin/wfsync"
stripped "$bin" && pass "usr/bin/wfsync stripped ($(stat -c %s "$bin") bytes)" || fail "usr/bin/wfsync has debug info or symbols"
if grep -qx '\.debug_info' <(sections "$build/daemon/wfsync"); then
    pass "the build tree's wfsync keeps its debug info ($(stat -c %s "$build/daemon/wfsync") bytes)"
else
    echo "note: the build tree's wfsync has no debug info (CMAKE_BUILD_TYPE without -g)"
fi
cmp -s "$root/lib/systemd/system/wfsync.service" "$src/systemd/wfsync.service" && pass "unit = systemd/wfsync.service" \
    || fail "the packaged unit differs from systemd/wfsync.service"
cmp -s "$root/etc/wfsync/wfsync.example.yaml" "$src/etc/wfsync.example.yaml" && pass "example config = etc/wfsync.example.yaml" \
    || fail "the packaged example config differs from etc/wfsync.example.yaml"

# The packaged binary runs (its libraries are this machine's, which Depends names).
out="$("$bin" version 2>&1)" && grep -q "^wfsync $version " <<<"$out" && pass "packaged wfsync version: ${out%%$'\n'*}" \
    || fail "packaged wfsync version says '$out', not $version"

# The man pages as shipped: valid, no groff warnings (-ww: all of them).
for page in man1/wfsync.1.gz man5/wfsync.yaml.5.gz; do
    warnings="$(zcat "$root/usr/share/man/$page" | groff -man -Tutf8 -ww -z 2>&1)"
    [ -z "$warnings" ] && pass "$page: no groff warnings" || fail "$page: $warnings"
done
bash -n "$root/usr/share/bash-completion/completions/wfsync" && pass "bash completion: valid bash" || fail "bash completion: not valid bash"
head -1 "$root/usr/share/zsh/vendor-completions/_wfsync" | grep -qx '#compdef wfsync' && pass "zsh completion: #compdef wfsync" \
    || fail "zsh completion lacks '#compdef wfsync'"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all checks passed"
