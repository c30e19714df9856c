/* lab snap: names, listing and retention policies. */
#include "snap.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fs.h"

const char *const snap_period_names[SNAP_NPERIODS] = { "hourly", "daily", "weekly", "monthly",
						       "yearly" };

int
snap_dir(const char *path, char *out, size_t size)
{
	char tmp[4096];
	size_t n = str_copy(tmp, path, sizeof(tmp));
	char *slash;

	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = '\0';
	slash = strrchr(tmp, '/');
	if (n >= sizeof(tmp) || !strcmp(tmp, "/") || !n || !strcmp(slash ? slash + 1 : tmp, ".") ||
	    !strcmp(slash ? slash + 1 : tmp, "..")) {
		errno = EINVAL;
		return -1;
	}
	if (!slash)
		n = (size_t)snprintf(out, size, ".snapshots/%s", tmp);
	else if (slash == tmp)
		n = (size_t)snprintf(out, size, "/.snapshots/%s", slash + 1);
	else
		n = (size_t)snprintf(out, size, "%.*s/.snapshots/%s", (int)(slash - tmp), tmp, slash + 1);
	if (n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
snap_label_ok(const char *l)
{
	size_t n = strlen(l), i;

	if (!n || n > SNAP_LABEL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)l[i]) && l[i] != '-' && l[i] != '_' && l[i] != '.')
			return 0;
	return 1;
}

int
snap_name(time_t t, const char *label, char *out, size_t size)
{
	struct tm tm;

	if (!snap_label_ok(label) || !gmtime_r(&t, &tm)) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02dZ-%s", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, label) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* days since 1970-01-01 of a civil date (proleptic Gregorian) */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

int
snap_parse_time(const char *s, time_t *t)
{
	int y, mo, d, h, mi, se, n = 0;

	if (!strcmp(s, "now")) {
		*t = time(NULL);
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
	    n != 20 || s[n] || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 ||
	    y < 1970) {
		errno = EINVAL;
		return -1;
	}
	*t = (time_t)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se);
	return 0;
}

int
snap_parse_name(const char *name, time_t *t, char *label, size_t size)
{
	char ts[21];

	if (strlen(name) < 22 || name[20] != '-')
		return -1;
	memcpy(ts, name, 20);
	ts[20] = '\0';
	if (snap_parse_time(ts, t) < 0 || !snap_label_ok(name + 21))
		return -1;
	str_copy(label, name + 21, size);
	return 0;
}

static int
cmp_snap(const void *a, const void *b)
{
	const struct snap *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return strcmp(x->name, y->name);
}

int
snap_list(const char *dir, struct snap **out, size_t *n)
{
	char **names, hp[4200];
	size_t nn, i, k = 0;
	struct snap *v;
	struct buf holds = BUF_INIT;

	*out = NULL;
	*n = 0;
	if (fs_list(dir, &names, &nn) < 0)
		return -1;
	snprintf(hp, sizeof(hp), "%s/.holds", dir);
	fs_read_file(hp, &holds, 1 << 20);
	v = calloc(nn ? nn : 1, sizeof(*v));
	if (!v) {
		fs_list_free(names, nn);
		buf_free(&holds);
		return -1;
	}
	for (i = 0; i < nn; i++) {
		struct snap *s = &v[k];
		const char *h = buf_cstr(&holds);
		size_t nl = strlen(names[i]);

		if (strlen(names[i]) >= sizeof(s->name) ||
		    snap_parse_name(names[i], &s->t, s->label, sizeof(s->label)) < 0)
			continue;
		str_copy(s->name, names[i], sizeof(s->name));
		/* a hold line: "NAME WHO" */
		while ((h = strstr(h, names[i]))) {
			if ((h == holds.data || h[-1] == '\n') && h[nl] == ' ') {
				s->held = 1;
				break;
			}
			h += nl;
		}
		k++;
	}
	fs_list_free(names, nn);
	buf_free(&holds);
	qsort(v, k, sizeof(*v), cmp_snap);
	*out = v;
	*n = k;
	return 0;
}

int
snap_policy_load(const char *file, struct snap_policy *p, struct conf_err *err)
{
	struct conf c;
	size_t i, k;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	for (k = 0; k < SNAP_NPERIODS; k++)
		p->keep[k] = -1;
	str_copy(p->file, file, sizeof(p->file));
	if (conf_load(&c, file, CONF_INLINE_COMMENTS, err) < 0)
		return -1;
	for (i = 0; i < c.nsect; i++) {
		const struct conf_section *s = &c.sect[i];
		size_t j;

		if (s->name[0]) {
			conf_errf(err, file, s->line, "a policy has no sections ([%s])", s->name);
			goto out;
		}
		for (j = 0; j < s->nkv; j++) {
			const struct conf_kv *kv = &s->kv[j];

			if (!strcasecmp(kv->key, "path")) {
				if (kv->val[0] != '/' || str_copy(p->path, kv->val, sizeof(p->path)) >= sizeof(p->path)) {
					conf_errf(err, file, kv->line, "path: an absolute path");
					goto out;
				}
				continue;
			}
			for (k = 0; k < SNAP_NPERIODS; k++)
				if (!strcasecmp(kv->key, snap_period_names[k]))
					break;
			if (k == SNAP_NPERIODS) {
				conf_errf(err, file, kv->line, "unknown key \"%s\"", kv->key);
				goto out;
			}
			{
				char *e;
				long v = strtol(kv->val, &e, 10);

				if (!*kv->val || *e || v < 0 || v > 100000) {
					conf_errf(err, file, kv->line, "%s: a count from 0 to 100000", kv->key);
					goto out;
				}
				p->keep[k] = (int)v;
			}
		}
	}
	if (!p->path[0]) {
		conf_errf(err, file, 0, "no path");
		goto out;
	}
	rc = 0;
out:
	conf_free(&c);
	return rc;
}

time_t
snap_period_start(int period, time_t t)
{
	struct tm tm;
	long long days = (long long)(t >= 0 ? t / 86400 : (t - 86399) / 86400);

	switch (period) {
	case SNAP_HOURLY:
		return t - ((t % 3600) + 3600) % 3600;
	case SNAP_DAILY:
		return (time_t)(days * 86400);
	case SNAP_WEEKLY:
		/* 1970-01-01 was a Thursday: Monday is 3 days before it */
		return (time_t)((days - (((days + 3) % 7) + 7) % 7) * 86400);
	default:
		gmtime_r(&t, &tm);
		return (time_t)(days_from_civil(tm.tm_year + 1900,
						period == SNAP_MONTHLY ? (unsigned)tm.tm_mon + 1 : 1u, 1) *
				86400);
	}
}

int
snap_plan(const struct snap_policy *p, const struct snap *v, size_t n, time_t now,
	  struct snap_plan *out)
{
	int k;

	out->take = 0;
	out->prune = calloc(n ? n : 1, 1);
	if (!out->prune)
		return -1;
	for (k = 0; k < SNAP_NPERIODS; k++) {
		time_t start = snap_period_start(k, now);
		long keep = p->keep[k], have = 0;
		size_t i;
		int due;

		if (keep < 0)
			continue;	/* not this policy's label */
		due = keep > 0;
		for (i = 0; i < n; i++)
			if (!strcmp(v[i].label, snap_period_names[k]) && v[i].t >= start && v[i].t <= now)
				due = 0;
		if (due)
			out->take |= 1u << k;
		/* keep the newest, counting the one about to be taken */
		keep -= due;
		for (i = n; i-- > 0;) {
			if (strcmp(v[i].label, snap_period_names[k]))
				continue;
			if (have < keep)
				have++;
			else if (!v[i].held)
				out->prune[i] = 1;
		}
	}
	return 0;
}

void
snap_plan_free(struct snap_plan *pl)
{
	free(pl->prune);
	pl->prune = NULL;
}
