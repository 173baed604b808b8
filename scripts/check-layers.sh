#!/bin/bash
# check-layers.sh - fails on a quoted #include that breaks the layering of docs/architecture.md.
#
#   scripts/check-layers.sh [ROOT]    prints one line per violation; exit 1 if any, 0 otherwise
#
# The layers, and what each may include (besides its own folder):
#   bpf/            user/model/states.h and kinds.h only (the model's lists of states and of
#                   wait kinds, macros only, which the probes record); otherwise vmlinux.h
#                   and libbpf
#   user/model/     nothing: the model knows no BPF, no renderer, no command, no workload
#   reports/        user/model/
#   workloads/      nothing (a workload is a program; the tracer watches it from outside)
#   user/trace/     user/model/, workloads/, bpf/iotrace.h and the generated skeleton
#   user/cli/       everything
# Includes are written as the layer sees them: "model/analysis.h", "trace/tracer.h", and
# plain names for the file's own folder.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
bad=0

# allowed FOLDER PATTERN...: each quoted include of a file under FOLDER must resolve to one
# of the listed places (a path relative to the file's own folder, or one of the prefixes).
check() {
	local dir=$1 f inc ok p
	shift
	for f in "$dir"/*.[ch]; do
		[ -e "$f" ] || continue
		while IFS= read -r inc; do
			ok=0
			if [ -e "$(dirname "$f")/$inc" ]; then
				ok=1
			else
				for p in "$@"; do
					case "$inc" in $p) ok=1 ;; esac
				done
			fi
			if [ $ok = 0 ]; then
				echo "layering: $f includes \"$inc\", outside what $dir may use ($*)"
				bad=1
			fi
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	done
}

check bpf vmlinux.h model/states.h model/kinds.h
check user/model
check reports 'model/*'
check workloads
check user/trace 'model/*' workload.h iotrace.h iotrace.skel.h
check user/cli 'model/*' 'trace/*' workload.h report.h render.h rp_json.h iotrace.h

# a file directly in user/ belongs to no layer
for f in user/*.[ch]; do
	[ -e "$f" ] && { echo "layering: $f is in no layer (user/cli, user/trace or user/model)"; bad=1; }
done
exit $bad
