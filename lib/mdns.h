/*
 * Multicast DNS (RFC 6762) and DNS-SD (RFC 6763) on one interface: answers
 * NAME.local A/AAAA for this host and for the names registered in the
 * interface's zone, announces configured services (PTR/SRV/TXT), probes
 * for its own names first and renames on a conflict (NAME-2, ...).
 * Legacy unicast queries (source port not 5353) are answered as plain
 * DNS, so dig -p 5353 @224.0.0.251 works.
 */
#ifndef LAB_MDNS_H
#define LAB_MDNS_H

#include <net/if.h>
#include <stdint.h>

#include "conf.h"
#include "dns.h"
#include "ev.h"

struct dns_zone;
struct mdns;

/* Where guest names come from: the zone of the interface (its first-level
 * names become NAME.local). May change between calls (updates). */
typedef const struct dns_zone *mdns_zone_fn(void *arg);

struct mdns *mdns_new(struct ev *ev, const struct conf *cf, const struct conf_section *s,
		      const char *host, mdns_zone_fn *zone, void *arg, struct conf_err *err);
/* Say goodbye (records with TTL 0) and close. */
void mdns_free(struct mdns *m);
/* The names this responder ended up with, after conflicts. */
const char *mdns_host(const struct mdns *m);

/* Build the answer to a query packet (exposed for tests and fuzzing):
 * returns the length, 0 when nothing of ours was asked. legacy: answer as
 * unicast DNS (id and question kept). */
size_t mdns_answer(struct mdns *m, const uint8_t *q, size_t len, int legacy, uint8_t *out,
		   size_t cap);

#endif
