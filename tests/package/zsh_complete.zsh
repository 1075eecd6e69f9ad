#!/usr/bin/env zsh
# SPDX-License-Identifier: Apache-2.0
# What zsh offers for a command line, the way an interactive zsh would (in a pseudo-terminal, zpty):
# prints the candidates for "WORDS<TAB>", one a line, with the completion functions of FPATH_DIR.
# After the known zsh-capture-completion technique: compadd is wrapped to print what it adds.
# usage: zsh_complete.zsh FPATH_DIR WORDS
zmodload zsh/zpty || exit 2
dir=$1; shift
setup=$(mktemp)
trap 'rm -f $setup ${setup}.dump' EXIT
cat >$setup <<SETUP
PROMPT=
fpath=($dir \$fpath)
autoload -U compinit; compinit -u -d ${setup}.dump
bindkey '^M' undefined-key; bindkey '^J' undefined-key; bindkey '^I' complete-word
null-line () { echo -E - \$'\\0' }
compprefuncs=( null-line )
comppostfuncs=( null-line exit )
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
zstyle ':completion:*' list-separator ''
compadd () {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "\$@"; return \$?; fi
  typeset -a __hits
  builtin compadd -A __hits "\$@"
  builtin compadd "\$@"
  local h; for h in \$__hits; do print -r -- "\$h"; done
}
SETUP
zpty z zsh -f -i
zpty -w z "source $setup"
zpty -w z "$*"$'\t'
integer tog=0
while zpty -r z; do :; done | while IFS= read -r line; do
  if [[ $line == *$'\0\r' ]]; then (( tog++ )) && exit 0 || continue; fi
  (( tog )) && print -r -- ${line%$'\r'}
done
