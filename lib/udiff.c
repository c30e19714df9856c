#include "udiff.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CELLS (16u << 20)	/* lines(a) x lines(b) */
#define CONTEXT 3

struct lines {
	const char **p;
	size_t *len;
	size_t n;
};

static int
split(const char *s, size_t n, struct lines *l)
{
	size_t i, cnt = 0, start = 0;

	for (i = 0; i < n; i++)
		cnt += s[i] == '\n';
	cnt += n && s[n - 1] != '\n';
	l->p = malloc((cnt + 1) * sizeof(*l->p));
	l->len = malloc((cnt + 1) * sizeof(*l->len));
	l->n = 0;
	if (!l->p || !l->len)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] == '\n' || i + 1 == n) {
			l->p[l->n] = s + start;
			l->len[l->n] = i + 1 - start;
			l->n++;
			start = i + 1;
		}
	return 0;
}

static int
same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && !memcmp(a->p[i], b->p[j], a->len[i]);
}

static void
put_line(struct buf *out, char c, const char *p, size_t n)
{
	buf_addc(out, c);
	buf_add(out, p, n);
	if (!n || p[n - 1] != '\n')
		buf_adds(out, "\n\\ No newline at end of file\n");
}

int
udiff_is_binary(const char *p, size_t n)
{
	return memchr(p, '\0', n > 8192 ? 8192 : n) != NULL;
}

int
udiff(const char *a, size_t alen, const char *b, size_t blen, const char *aname,
      const char *bname, struct buf *out)
{
	struct lines la = { 0 }, lb = { 0 };
	uint32_t *t = NULL;	/* LCS lengths of suffixes, (na+1) x (nb+1) */
	char *op = NULL;	/* the edit script: '=', '-', '+' */
	size_t na, nb, i, j, k, nops = 0;
	int rc = -1;

	if (alen == blen && !memcmp(a, b, alen))
		return 0;
	if (split(a, alen, &la) < 0 || split(b, blen, &lb) < 0)
		goto out;
	na = la.n;
	nb = lb.n;
	if ((na + 1) * (nb + 1) > MAX_CELLS) {
		errno = EFBIG;
		goto out;
	}
	t = calloc((na + 1) * (nb + 1), sizeof(*t));
	op = malloc(na + nb + 1);
	if (!t || !op)
		goto out;
#define T(x, y) t[(x) * (nb + 1) + (y)]
	for (i = na; i-- > 0;)
		for (j = nb; j-- > 0;)
			T(i, j) = same(&la, i, &lb, j) ? T(i + 1, j + 1) + 1
						       : (T(i + 1, j) >= T(i, j + 1) ? T(i + 1, j) : T(i, j + 1));
	for (i = j = 0; i < na || j < nb;) {
		if (i < na && j < nb && same(&la, i, &lb, j)) {
			op[nops++] = '=';
			i++;
			j++;
		} else if (i < na && (j == nb || T(i + 1, j) >= T(i, j + 1))) {
			op[nops++] = '-';	/* deletions before insertions, as diff -u */
			i++;
		} else {
			op[nops++] = '+';
			j++;
		}
	}
#undef T
	buf_addf(out, "--- %s\n+++ %s\n", aname, bname);
	/* hunks: changes with CONTEXT lines of '=' around them */
	for (k = 0; k < nops;) {
		size_t start, end, ai = 0, bj = 0, x, acount = 0, bcount = 0;

		while (k < nops && op[k] == '=')
			k++;
		if (k == nops)
			break;
		start = k >= CONTEXT ? k - CONTEXT : 0;
		end = k;
		/* extend while the next change is within 2*CONTEXT */
		for (;;) {
			size_t e = end;

			while (e < nops && op[e] != '=')
				e++;
			end = e;
			while (e < nops && op[e] == '=' && e - end < 2 * CONTEXT)
				e++;
			if (e < nops && op[e] != '=' && e - end < 2 * CONTEXT + 1)
				end = e;
			else
				break;
		}
		end = end + CONTEXT < nops ? end + CONTEXT : nops;
		for (x = 0; x < start; x++) {
			ai += op[x] != '+';
			bj += op[x] != '-';
		}
		for (x = start; x < end; x++) {
			acount += op[x] != '+';
			bcount += op[x] != '-';
		}
		buf_addf(out, "@@ -%zu,%zu +%zu,%zu @@\n", acount ? ai + 1 : ai, acount,
			 bcount ? bj + 1 : bj, bcount);
		for (x = start; x < end; x++) {
			if (op[x] == '=') {
				put_line(out, ' ', la.p[ai], la.len[ai]);
				ai++;
				bj++;
			} else if (op[x] == '-') {
				put_line(out, '-', la.p[ai], la.len[ai]);
				ai++;
			} else {
				put_line(out, '+', lb.p[bj], lb.len[bj]);
				bj++;
			}
		}
		k = end;
	}
	rc = buf_err(out);
out:
	free(t);
	free(op);
	free(la.p);
	free(la.len);
	free(lb.p);
	free(lb.len);
	return rc;
}
