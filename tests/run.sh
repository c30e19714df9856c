#!/bin/sh
# Run every test that can run on this machine:
#   unit   C unit tests (TAP, linked with the binary's own objects)
#   cmd    shell tests of the commands (toybox-style testcmd)
#   netns  privileged tests in throwaway network namespaces (root only)
#   fuzz   a short run of each libFuzzer target
# Usage: tests/run.sh [suite...]   (FUZZ_SECONDS=15 by default)
# Prints one PASS/FAIL/SKIP line per test and ends with exactly one line
# "N passed, N failed, N skipped"; exits 1 if anything failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/build
LAB=$top/lab
export LAB
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# TAP from a unit test -> result lines.
tap() {
	awk -v n="$1" -v rc="$2" '
	/^ok [0-9]+/ {
		ran++
		d = $0; sub(/^ok [0-9]+ - ?/, "", d)
		if (match(d, / # SKIP /)) {
			why = substr(d, RSTART + 8); d = substr(d, 1, RSTART - 1)
			printf "SKIP: unit/%s: %s (%s)\n", n, d, why
		} else printf "PASS: unit/%s: %s\n", n, d
		next
	}
	/^not ok [0-9]+/ {
		ran++; failed++
		d = $0; sub(/^not ok [0-9]+ - ?/, "", d)
		printf "FAIL: unit/%s: %s\n", n, d
		next
	}
	/^1\.\.[0-9]+$/ { plan = substr($0, 4) + 0; next }
	/^#/ { print "    " $0; next }
	{ print "    " $0 }
	END {
		if (plan == "" || plan != ran)
			printf "FAIL: unit/%s: plan (ran %d of %s, exit %d)\n", n, ran, plan == "" ? "?" : plan, rc
		else if (rc != 0 && !failed)
			printf "FAIL: unit/%s: exit status %d\n", n, rc
	}'
}

suite_unit() {
	for t in "$B"/tests/test_*; do
		case $t in *.d) continue ;; esac
		[ -x "$t" ] || continue
		name=${t##*/test_}
		out=$(cd "$top" && timeout 300 "$t" 2>&1)
		rc=$?
		printf '%s\n' "$out" | tap "$name" "$rc"
	done
}

suite_sh() {
	dir=$1
	for f in "$top"/tests/"$dir"/*.sh; do
		[ -f "$f" ] || continue
		name=${f##*/}
		name=${name%.sh}
		if [ "$dir" = netns ] && [ "$(id -u)" != 0 ]; then
			printf 'SKIP: netns/%s (needs root)\n' "$name"
			continue
		fi
		timeout 900 sh "$f"
		rc=$?
		[ $rc = 0 ] || printf 'FAIL: %s/%s: script exited with status %d\n' "$dir" "$name" $rc
	done
}

suite_fuzz() {
	found=0
	for f in "$B"/fuzz/fuzz_*; do
		case $f in *.d) continue ;; esac
		[ -x "$f" ] || continue
		found=1
		name=${f##*/}
		work=$(mktemp -d)
		mkdir -p "$B/fuzz/artifacts"
		if out=$(timeout $((FUZZ_SECONDS + 120)) "$f" -max_total_time="$FUZZ_SECONDS" \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$B/fuzz/artifacts/$name-" \
			"$work" "$top/tests/fuzz/corpus/$name" 2>&1); then
			runs=$(printf '%s\n' "$out" | sed -n 's/^stat::number_of_executed_units: *//p')
			printf 'PASS: fuzz/%s (%s runs in %ss)\n' "$name" "${runs:-?}" "$FUZZ_SECONDS"
		else
			printf 'FAIL: fuzz/%s\n' "$name"
			printf '%s\n' "$out" | grep -E 'ERROR|SUMMARY|artifact|Test unit' | sed 's/^/    /'
		fi
		rm -rf "$work"
	done
	[ $found = 1 ] || printf 'SKIP: fuzz (no targets built: clang/libFuzzer missing)\n'
}

suites=${*:-unit cmd netns fuzz}
for s in $suites; do
	case $s in
	unit) suite_unit ;;
	cmd | netns) suite_sh "$s" ;;
	fuzz) suite_fuzz ;;
	*) echo "run.sh: unknown suite '$s'" >&2; exit 2 ;;
	esac
done | tee "$log"

p=$(grep -c '^PASS:' "$log")
f=$(grep -c '^FAIL:' "$log")
s=$(grep -c '^SKIP:' "$log")
[ "$f" = 0 ] || { echo; echo "failed:"; grep '^FAIL:' "$log"; }
echo "$p passed, $f failed, $s skipped"
[ "$f" = 0 ]
