#!/bin/sh
# Size per object file in the linked binary, from the linker map: only what
# --gc-sections kept is counted. Prints objects, then totals per library.
set -eu
map=${1:-build/lab.map}
[ -f "$map" ] || { echo "bloat: $map not found (run make)" >&2; exit 1; }
awk '
function hex(s,   i, c, v) {
	v = 0
	s = tolower(substr(s, 3))
	for (i = 1; i <= length(s); i++) {
		c = index("0123456789abcdef", substr(s, i, 1)) - 1
		v = v * 16 + c
	}
	return v
}
/^Linker script and memory map/ { inmap = 1; next }
!inmap { next }
# Output sections that do not end up in the loaded image.
/^\.(debug|comment|note\.GNU-stack|gnu\.warning)/ { skip = 1; next }
/^\.[a-z]/ { skip = 0 }
skip { next }
{
	# An input section line: " .text.x  0xADDR  0xSIZE file" (the name may
	# be alone on the line before).
	if ($1 ~ /^\./ && NF == 1) { pending = 1; next }
	if (pending && NF == 3 && $1 ~ /^0x/) { addr = $1; size = $2; file = $3; pending = 0 }
	else if ($1 ~ /^\./ && NF == 4 && $2 ~ /^0x/) { size = $3; file = $4; pending = 0 }
	else { pending = 0; next }
	if (size !~ /^0x/) next
	n = hex(size)
	if (n == 0) next
	sub(/^.*\//, "", file)
	obj[file] += n
	lib = file
	if (lib ~ /\(/) sub(/\(.*/, "", lib); else lib = "cmd/*.o"
	if (lib ~ /^lib(c|gcc|gcc_eh)\.a$/ || file ~ /^S?crt/) lib = "libc, libgcc, crt (musl)"
	if (lib == "liblab.a") lib = "liblab.a (lib/)"
	libs[lib] += n
	total += n
}
END {
	for (f in obj) printf "%9d  %s\n", obj[f], f | "sort -rn"
	close("sort -rn")
	print ""
	for (l in libs) printf "%9d  %s\n", libs[l], l | "sort -rn"
	close("sort -rn")
	printf "%9d  total (text, data, rodata, bss)\n", total
}' "$map"
