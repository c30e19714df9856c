/* Unified diffs: what lab deploy --diff prints must be a patch that GNU
 * patch applies to get the new text back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "tap.h"
#include "udiff.h"

static unsigned rnd = 12345;

static unsigned
next(void)
{
	rnd = rnd * 1103515245u + 12345u;
	return rnd >> 16;
}

/* A text of n lines from a small alphabet of lines (so there are matches). */
static void
text(struct buf *b, int n)
{
	static const char *const words[] = { "alpha", "beta", "gamma", "delta", "", "}", "{",
					     "listen 80;", "server_name x;" };
	int i;

	for (i = 0; i < n; i++)
		buf_addf(b, "%s\n", words[next() % 9]);
}

static void
mutate(const struct buf *a, struct buf *b)
{
	const char *p = buf_cstr((struct buf *)a), *nl;

	for (; *p; p = nl + 1) {
		unsigned r = next() % 10;

		nl = strchr(p, '\n');
		if (r == 0)
			continue;	/* drop */
		if (r == 1)
			buf_adds(b, "inserted\n");
		buf_add(b, p, (size_t)(nl - p + 1));
	}
	if (next() % 2)
		buf_adds(b, "tail\n");
}

int
main(void)
{
	char dir[] = "/tmp/lab-udiff-XXXXXX", cmd[512], pa[600], pd[600];
	int k, have_patch = access("/usr/bin/patch", X_OK) == 0;
	struct buf d = BUF_INIT;

	is_int(udiff("a\n", 2, "a\n", 2, "x", "y", &d), 0, "equal texts");
	is_int(d.len, 0, "print nothing");
	udiff("a\nb\nc\n", 6, "a\nB\nc\n", 6, "old", "new", &d);
	is_str(buf_cstr(&d), "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n", "one line changed");
	buf_reset(&d);
	udiff("", 0, "x\n", 2, "old", "new", &d);
	is_str(buf_cstr(&d), "--- old\n+++ new\n@@ -0,0 +1,1 @@\n+x\n", "from nothing");
	buf_reset(&d);
	udiff("x", 1, "y", 1, "old", "new", &d);
	is_str(buf_cstr(&d),
	       "--- old\n+++ new\n@@ -1,1 +1,1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n",
	       "no newline at the end");
	ok(udiff_is_binary("a\0b", 3) && !udiff_is_binary("ab", 2), "binary by NUL");
	if (!have_patch || !mkdtemp(dir)) {
		skip("no GNU patch", "random diffs apply with patch");
		return done_testing();
	}
	for (k = 0; k < 40; k++) {
		struct buf a = BUF_INIT, b = BUF_INIT, got = BUF_INIT;
		int ok_ = 1;

		text(&a, 1 + (int)(next() % 60));
		mutate(&a, &b);
		buf_reset(&d);
		udiff(buf_cstr(&a), a.len, buf_cstr(&b), b.len, "a", "b", &d);
		snprintf(pa, sizeof(pa), "%s/a", dir);
		snprintf(pd, sizeof(pd), "%s/d", dir);
		fs_write_atomic(pa, buf_cstr(&a), a.len, 0644);
		fs_write_atomic(pd, buf_cstr(&d), d.len, 0644);
		snprintf(cmd, sizeof(cmd), "patch -s %s/a %s/d >/dev/null 2>&1", dir, dir);
		if (d.len && system(cmd) != 0)
			ok_ = 0;
		if (ok_ && (fs_read_file(pa, &got, 1 << 20) < 0 || got.len != b.len ||
			    memcmp(buf_cstr(&got), buf_cstr(&b), b.len)))
			ok_ = 0;
		ok(ok_, "random diff %d applies with patch to give the new text", k);
		buf_free(&a);
		buf_free(&b);
		buf_free(&got);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
	buf_free(&d);
	return done_testing();
}
