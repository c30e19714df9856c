/*
 * The resolving side of lab dns: names below the home domain are followed
 * through its delegations (iteratively, from our own zones' referrals or
 * the configured parents); every other name goes to the upstream
 * resolvers. Answers are cached (bounded, TTL-respecting, negative
 * answers too), identical questions in flight share one upstream query,
 * and an answer for a home name that points at a public address is
 * dropped.
 */
#ifndef LAB_DNS_RESOLVE_H
#define LAB_DNS_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "dns_conf.h"
#include "dns_server.h"
#include "ev.h"

struct dns_resolver;

/* The answer: a whole DNS message (our id, the question as asked), or
 * NULL with rcode SERVFAIL when nothing could be found out. */
typedef void dns_resolve_cb(const uint8_t *msg, size_t len, int rcode, void *arg);

struct dns_resolver *dns_resolver_new(struct ev *ev, const struct dns_conf *c,
				      struct dns_server *srv);
void dns_resolver_free(struct dns_resolver *r);
/* Swap in a new configuration and server (SIGHUP); the cache stays. */
void dns_resolver_reconfigure(struct dns_resolver *r, const struct dns_conf *c,
			      struct dns_server *srv);

/* Resolve the question of the client's query q (already parsed by the
 * server as needing recursion). cb runs once, maybe before this returns
 * (cache hit). */
int dns_resolve(struct dns_resolver *r, const struct dns_name *qname, uint16_t qtype,
		dns_resolve_cb *cb, void *arg);
/* Stop caring about a pending answer (the client went away). */
void dns_resolve_cancel(struct dns_resolver *r, dns_resolve_cb *cb, void *arg);

struct dns_resolver_stats {
	uint64_t queries, hits, misses, upstream, coalesced, dropped_public, failures;
	size_t entries;
};
void dns_resolver_stats(const struct dns_resolver *r, struct dns_resolver_stats *st);

/* Whether an address is fit for a home name: private, ULA, link-local,
 * loopback, CGNAT shared space. */
int dns_addr_is_home(const uint8_t *addr, size_t len);

#endif
