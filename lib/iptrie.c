/* Longest-prefix match, a bit per level (lib/iptrie.h). */
#include "iptrie.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void
iptrie_init(struct iptrie *t)
{
	memset(t, 0, sizeof(*t));
	t->root[0] = t->root[1] = -1;
}

static int
node_new(struct iptrie *t)
{
	if (t->len == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct iptrie_node *n = realloc(t->n, cap * sizeof(*n));

		if (!n)
			return -1;
		t->n = n;
		t->cap = cap;
	}
	memset(&t->n[t->len], 0, sizeof(t->n[0]));
	return (int)t->len++;
}

static int
bit(const struct ipaddr *a, int i)
{
	return a->a[i / 8] >> (7 - i % 8) & 1;
}

int
iptrie_insert(struct iptrie *t, const struct ipaddr *p, void *val)
{
	int fam = p->family == AF_INET6, max = fam ? 128 : 32, i, at;

	if ((p->family != AF_INET && p->family != AF_INET6) || p->plen < 0 || p->plen > max) {
		errno = EINVAL;
		return -1;
	}
	if (t->root[fam] < 0 && (t->root[fam] = node_new(t)) < 0)
		return -1;
	at = t->root[fam];
	for (i = 0; i < p->plen; i++) {
		int b = bit(p, i), next = t->n[at].child[b];

		if (!next) {
			if ((next = node_new(t)) < 0)
				return -1;
			t->n[at].child[b] = next;	/* t->n may have moved: index again */
		}
		at = next;
	}
	t->n[at].val = val;
	return 0;
}

void *
iptrie_lookup(const struct iptrie *t, const struct ipaddr *a)
{
	int fam = a->family == AF_INET6, max = fam ? 128 : 32, i, at;
	void *best = NULL;

	if ((a->family != AF_INET && a->family != AF_INET6) || t->root[fam] < 0)
		return NULL;
	at = t->root[fam];
	for (i = 0;; i++) {
		if (t->n[at].val)
			best = t->n[at].val;
		if (i == max || !(at = t->n[at].child[bit(a, i)]))
			break;
	}
	return best;
}

void
iptrie_free(struct iptrie *t)
{
	free(t->n);
	iptrie_init(t);
}
