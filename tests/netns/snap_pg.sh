#!/bin/sh
# Crash consistency, proven with PostgreSQL: its data directory on a btrfs
# subvolume under a write load (pgbench, and a writer that records every
# insert PostgreSQL acknowledged), a lab snap snapshot taken without
# stopping it, a clone of the snapshot, a second PostgreSQL started on
# the clone: it must recover by itself and hold every transaction
# acknowledged before the snapshot.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

is_root || { skip "snap postgresql" "needs root"; exit 0; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
for t in mkfs.btrfs losetup setpriv; do
	have $t || { skip "snap postgresql" "needs $t"; exit 0; }
done
[ -x "$PGBIN/postgres" ] && [ -x "$PGBIN/pgbench" ] && id postgres >/dev/null 2>&1 ||
	{ skip "snap postgresql" "needs postgresql"; exit 0; }
work=$(mktemp -d)
chmod 755 "$work"
writer=""
AS() { setpriv --reuid=postgres --regid=postgres --init-groups --inh-caps=-all "$@"; }
pg_stop() {
	[ -z "$writer" ] || kill "$writer" 2>/dev/null
	for d in "$work/m/pg/data" "$work/m/clone/data"; do
		[ -f "$d/postmaster.pid" ] && AS "$PGBIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1
	done
}
on_exit pg_stop
on_exit_last 'rm -rf "$work"'
loopfs "$work/m" 2G mkfs.btrfs -q || { fail "snap postgresql: a btrfs file system on a loop device"; exit 0; }
"$LAB" snap subvol create "$work/m/pg"
mkdir -p "$work/sock1" "$work/sock2"
chown postgres:postgres "$work/m/pg" "$work/sock1" "$work/sock2"
# start DATADIR SOCKDIR LOG: a server on a unix socket only
start() {
	AS "$PGBIN/pg_ctl" -D "$1" -l "$3" -w -t 60 \
		-o "-c listen_addresses= -c unix_socket_directories=$2 -c port=5439 -c fsync=on" start >/dev/null
}
Q() { (cd / && AS "$PGBIN/psql" -X -q -A -t -h "$1" -p 5439 -d postgres -c "$2"); }
touch "$work/pg1.log" "$work/pg2.log"
chown postgres:postgres "$work/pg1.log" "$work/pg2.log"
AS "$PGBIN/initdb" -D "$work/m/pg/data" -A trust -U postgres >/dev/null 2>&1 &&
	start "$work/m/pg/data" "$work/sock1" "$work/pg1.log" || { fail "postgresql starts on btrfs" "$(tail -5 "$work/pg1.log")"; exit 0; }
pass "postgresql starts on a btrfs subvolume"
Q "$work/sock1" "create table acked (id bigint primary key)"
AS "$PGBIN/pgbench" -h "$work/sock1" -p 5439 -i -q -s 5 postgres >/dev/null 2>&1
# the load: pgbench, and a writer that notes each id once it is committed
AS "$PGBIN/pgbench" -h "$work/sock1" -p 5439 -c 4 -T 8 postgres >"$work/pgbench.out" 2>&1 &
bench=$!
(
	i=1
	while :; do
		Q "$work/sock1" "insert into acked values ($i)" >/dev/null 2>&1 || break
		echo $i >>"$work/acked"
		i=$((i + 1))
	done
) &
writer=$!
sleep 3
last=$(tail -n 1 "$work/acked")
"$LAB" snap create "$work/m/pg" --label live >"$work/snap" 2>&1
snapok=$?
sleep 1
kill $writer 2>/dev/null
wait $writer 2>/dev/null
writer=""
wait $bench
[ $snapok = 0 ] && pass "a snapshot of the running database" || fail "a snapshot of the running database" "$(cat "$work/snap")"
after=$(tail -n 1 "$work/acked")
[ "${last:-0}" -gt 0 ] && [ "$after" -gt "$last" ] && pass "writes went on around the snapshot ($last before, $after after)" ||
	fail "writes went on around the snapshot" "before=$last after=$after"
# the first server keeps running; the clone's lock file names it, and is
# stale for the clone (as on any restore of a file system snapshot)
"$LAB" snap clone "$(cat "$work/snap")" "$work/m/clone" >/dev/null
chown postgres:postgres "$work/m/clone"
rm -f "$work/m/clone/data/postmaster.pid"
if start "$work/m/clone/data" "$work/sock2" "$work/pg2.log"; then
	pass "a second postgresql starts on the clone, beside the first"
else
	fail "a second postgresql starts on the clone, beside the first" "$(tail -5 "$work/pg2.log")"
	exit 0
fi
testing "it recovered by itself (the snapshot was taken mid-flight)" \
	"grep -c 'database system was not properly shut down; automatic recovery in progress' $work/pg2.log" "1
" "" ""
testing "every insert acknowledged before the snapshot is there" \
	"Q $work/sock2 'select count(*) from acked where id <= $last'" "$last
" "" ""
testing "pgbench's tables are whole (amcheck finds nothing)" \
	"Q $work/sock2 'create extension amcheck' && Q $work/sock2 \"select count(*) from (select bt_index_check(c.oid) from pg_class c join pg_am am on am.oid = c.relam where am.amname = 'btree' and c.relkind = 'i' and c.relnamespace = 'public'::regnamespace) x\"" "4
" "" ""
