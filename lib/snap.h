/*
 * lab snap: snapshots of subvolumes, named by time, kept by policy.
 *
 * The snapshots of PARENT/NAME live in PARENT/.snapshots/NAME/, beside the
 * subvolume rather than inside it, so that a rollback can swap the whole
 * subvolume in one rename (RENAME_EXCHANGE) and keep its snapshots. A
 * snapshot's name is its UTC time and a label:
 *
 *	2026-11-24T19:00:00Z-hourly
 *
 * which `ls` sorts by time. Labels hourly, daily, weekly, monthly and
 * yearly belong to policies; others (manual, pre-rollback, a group's
 * name) are only removed by hand. A file .holds in that directory lists
 * "SNAPSHOT WHO" lines: snapshots a replication target still needs as its
 * incremental parent, never pruned.
 *
 * A policy (one file per path, sanoid's meaning):
 *	path = /srv/data
 *	hourly = 24      keep the newest 24 hourly snapshots
 *	daily = 7        ... taken once per day, week (from Monday), month, year
 *	weekly = 4
 *	monthly = 12
 *	yearly = 0       0: none taken, and any left are pruned
 * A label is due when it has no snapshot in the current period.
 */
#ifndef LAB_SNAP_H
#define LAB_SNAP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"

#define SNAP_LABEL_MAX 64
#define SNAP_NAME_MAX (20 + 1 + SNAP_LABEL_MAX + 1)

enum { SNAP_HOURLY, SNAP_DAILY, SNAP_WEEKLY, SNAP_MONTHLY, SNAP_YEARLY, SNAP_NPERIODS };
extern const char *const snap_period_names[SNAP_NPERIODS];

struct snap {
	char name[SNAP_NAME_MAX];
	time_t t;
	char label[SNAP_LABEL_MAX + 1];
	int held;
};

/* Where the snapshots of path go (PARENT/.snapshots/NAME); path must name
 * a directory other than "/". */
int snap_dir(const char *path, char *out, size_t size);
/* NAME from a time and a label (letters, digits, '-', '_', '.'). */
int snap_name(time_t t, const char *label, char *out, size_t size);
int snap_parse_name(const char *name, time_t *t, char *label, size_t size);
int snap_label_ok(const char *label);
/* Parse "2026-11-24T19:00:00Z" (or "now"). */
int snap_parse_time(const char *s, time_t *t);

/* The snapshots in dir (a snapshot directory), oldest first; names that
 * are not snapshot names are skipped. Held ones are marked. */
int snap_list(const char *dir, struct snap **v, size_t *n);

struct snap_policy {
	char file[512];
	char path[1024];
	int keep[SNAP_NPERIODS];	/* -1: not in the policy */
};
int snap_policy_load(const char *file, struct snap_policy *p, struct conf_err *err);

/* The start of the period that holds t (UTC; weeks start on Monday). */
time_t snap_period_start(int period, time_t t);

/* What a run at now does: the labels due (bit per period) and, for each
 * snapshot of v (oldest first), whether it is pruned. */
struct snap_plan {
	unsigned take;
	unsigned char *prune;	/* n entries */
};
int snap_plan(const struct snap_policy *p, const struct snap *v, size_t n, time_t now,
	      struct snap_plan *out);
void snap_plan_free(struct snap_plan *pl);

#endif
