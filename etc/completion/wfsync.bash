# SPDX-License-Identifier: Apache-2.0
# bash completion for wfsync: commands, subcommands and the options of each (static: the
# command line of wfsync(1)), file names after --config and state backup.
# Installed as share/bash-completion/completions/wfsync (loaded on demand by bash-completion).

_wfsync()
{
    local cur prev words cword
    _init_completion -s || return

    local commands="serve sync plan check history diff archive restore status resolve state version help"
    local globals="--config -c --json --quiet -q --verbose -v --no-color --help -h --version -V"
    # After the command: its own options (--wait where it takes one; restore's --version is
    # its own) and these.
    local common="--config --json --quiet --verbose --no-color --help"

    # The command and its subcommand: the first words that are not options or option values.
    local cmd="" sub="" i w
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        case $w in
            --config | -c | --rule | --workflow | --limit | --grace | --archive | --from | --to | --version | --at | \
                --intent | --target-workflow | --target-version)
                [[ $w == --version && -z $cmd ]] || ((i++))
                continue
                ;;
            -*) continue ;;
        esac
        if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi
    done

    case $prev in
        --config | -c)
            _filedir '@(yaml|yml)'
            return
            ;;
        --rule | --workflow | --archive | --to | --intent | --target-workflow | --target-version)
            return # names from the config and the state: nothing to offer statically
            ;;
        --from)
            COMPREPLY=($(compgen -W "archive:" -- "$cur"))
            compopt -o nospace 2>/dev/null  # (fails outside a completion: the tests call _wfsync directly)
            return
            ;;
        --limit | --grace | --at)
            return
            ;;
        --version)
            [[ $cmd == restore ]] && return
            ;;
    esac
    # --wait=DUR, --config=FILE: complete nothing after the '=' (split off by _init_completion -s).
    $split && return

    local opts=""
    case $cmd in
        "")
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$globals" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$commands" -- "$cur"))
            fi
            return
            ;;
        serve) opts="--grace --wait" ;;
        sync) opts="--rule --dry-run --full --wait" ;;
        plan) opts="--rule --full" ;;
        check) opts="--offline --strict" ;;
        history) opts="--rule --workflow --limit" ;;
        diff) opts="" ;;
        archive)
            if [[ -z $sub ]]; then
                COMPREPLY=($(compgen -W "list verify prune" -- "$cur"))
                return
            fi
            opts="--archive"
            [[ $sub == prune ]] && opts+=" --dry-run --wait"
            ;;
        restore) opts="--from --workflow --version --at --to --dry-run --wait" ;;
        status) opts="" ;;
        resolve) opts="--intent --imported --not-imported --target-workflow --target-version" ;;
        state)
            if [[ -z $sub ]]; then
                COMPREPLY=($(compgen -W "check backup" -- "$cur"))
                return
            fi
            if [[ $sub == backup ]]; then
                opts="--force"
                if [[ $cur != -* ]]; then
                    _filedir
                    return
                fi
            fi
            ;;
        help) # help COMMAND [SUBCOMMAND]
            case $sub in
                "") COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
                archive) [[ ${words[cword-1]} == archive ]] && COMPREPLY=($(compgen -W "list verify prune" -- "$cur")) ;;
                state) [[ ${words[cword-1]} == state ]] && COMPREPLY=($(compgen -W "check backup" -- "$cur")) ;;
            esac
            return
            ;;
        version) opts="" ;;
        *) return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts $common" -- "$cur"))
    fi
} && complete -F _wfsync wfsync

# ex: filetype=sh
