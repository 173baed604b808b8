# iotrace.bash - bash completion for iotrace: commands, options, workloads and strategy names.
#
# Everything is read from the iotrace being completed (`iotrace --help`, `iotrace CMD
# --help`), so the completion cannot drift from the program. make install puts this file in
# $(PREFIX)/share/bash-completion/completions/iotrace.

# The help text of "$1 $2 --help" (or "$1 --help"), cached per command line word.
_iotrace_help()
{
	local key="_iotrace_help_${2:-top}"
	key=${key//[^A-Za-z0-9_]/_}
	if [[ -z ${!key+x} ]]; then
		printf -v "$key" '%s' "$("$1" ${2:+"$2"} --help 2>/dev/null)"
	fi
	printf '%s\n' "${!key}"
}

# Option names (long and short) listed in a help text.
_iotrace_options()
{
	_iotrace_help "$1" "$2" | sed -nE 's/^ +(-[A-Za-z], )?(--[a-z0-9-]+).*/\1 \2/p' |
		tr -d ',' | tr ' ' '\n' | sed '/^$/d'
}

# Workload names, and a workload's strategies, from `iotrace run --help`.
_iotrace_workloads()
{
	_iotrace_help "$1" run | sed -n '/^Workloads and strategies:/,/^$/p' |
		sed -nE 's/^  ([a-z0-9]+) .*/\1/p'
}

_iotrace_strategies()
{
	_iotrace_help "$1" run | sed -n '/^Workloads and strategies:/,/^$/p' |
		awk -v w="$2" '$1 == w { want = 1; next } want && /^            / { gsub(/\([^)]*\)/, ""); gsub(/,/, " "); print; exit }'
}

_iotrace()
{
	local prog=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=""
	local cmd="" i workload=""

	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--) return 0 ;; # trace -- CMD: the command's own completion is not ours
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=${COMP_WORDS[i]}
			elif [[ $cmd == run && -z $workload ]]; then
				case ${COMP_WORDS[i - 1]} in
				-s | --strategies | -t | --threads | --chunk | --qd | --cache | --throttle | \
					--files | --file-size | --delay | --factorial | -o | --output | -F | \
					--freq | --ringbuf-mb) ;;
				*) workload=${COMP_WORDS[i]} ;;
				esac
			fi
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$(_iotrace_help "$prog" | sed -n '/^Commands:/,/^$/p' |
			sed -nE 's/^  ([a-z]+) .*/\1/p') --help --version" -- "$cur"))
		return 0
	fi

	case $prev in
	-s | --strategies)
		local done_part="" list
		[[ $cur == *,* ]] && done_part=${cur%,*},
		list=$(_iotrace_strategies "$prog" "${workload:-md5dir}")
		COMPREPLY=($(compgen -P "$done_part" -W "$list" -- "${cur##*,}"))
		compopt -o nospace 2>/dev/null
		return 0
		;;
	--cache)
		COMPREPLY=($(compgen -W "warm cold both" -- "$cur"))
		return 0
		;;
	--readahead)
		COMPREPLY=($(compgen -W "on off" -- "$cur"))
		return 0
		;;
	-o | --output)
		COMPREPLY=($(compgen -d -- "$cur"))
		return 0
		;;
	-p | --pid)
		COMPREPLY=($(compgen -W "$(ps -eo pid= 2>/dev/null)" -- "$cur"))
		return 0
		;;
	-t | --threads | --chunk | --qd | --repeat | --throttle | --files | --file-size | --delay | \
		--factorial | -F | --freq | --ringbuf-mb | -d | --duration | -l | --label)
		return 0 # a value of the user's choosing
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_iotrace_options "$prog" "$cmd")" -- "$cur"))
	elif [[ $cmd == run && -z $workload ]]; then
		COMPREPLY=($(compgen -W "$(_iotrace_workloads "$prog")" -- "$cur"))
	elif [[ $cmd == report || $cmd == run ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	elif [[ $cmd == trace ]]; then
		COMPREPLY=($(compgen -c -- "$cur"))
	fi
	return 0
}

complete -F _iotrace iotrace
