/*
 * Longest-prefix match over IPv4 and IPv6 prefixes: a binary trie, one bit
 * per level, nodes in one array. WireGuard's allowed IPs in both
 * directions (which peer gets a packet; may this peer send from that
 * source) are answered by one lookup each, whatever the number of peers.
 */
#ifndef LAB_IPTRIE_H
#define LAB_IPTRIE_H

#include "ipaddr.h"

struct iptrie_node {
	int child[2];	/* indices, 0: none (the root is node 0 of each family) */
	void *val;
};

struct iptrie {
	struct iptrie_node *n;
	size_t len, cap;
	int root[2];	/* IPv4, IPv6 */
};

void iptrie_init(struct iptrie *t);
/* val for prefix p (its host bits ignored), replacing an equal prefix's. */
int iptrie_insert(struct iptrie *t, const struct ipaddr *p, void *val);
/* The value of the longest prefix holding a; NULL when none does. */
void *iptrie_lookup(const struct iptrie *t, const struct ipaddr *a);
void iptrie_free(struct iptrie *t);

#endif
