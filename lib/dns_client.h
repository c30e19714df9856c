/*
 * The client side of lab dns, shared by `lab dns add/rm/ls` and by the
 * commands that register names (lab vm): exchanges over UDP with TCP
 * fallback, the zone of a name (from the SOA the server gives), and
 * RFC 2136 updates signed with TSIG, whose answers must carry our key.
 */
#ifndef LAB_DNS_CLIENT_H
#define LAB_DNS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dns.h"
#include "dns_conf.h"
#include "dns_server.h"

#define DNS_CLIENT_KEYFILE "/usr/local/etc/lab/dns/key"

struct dns_client {
	struct dns_addr server;
	struct dns_key key;
	int have_key;
	int timeout_ms;		/* per exchange (UDP); TCP gets 10 s */
	char err[256];		/* one line on failure */
};

/* Defaults: 127.0.0.1:53 (or $LAB_DNS_SERVER), the key from $LAB_DNS_KEY,
 * else keyfile (NULL: DNS_CLIENT_KEYFILE; a missing default file is not an
 * error: have_key stays 0). */
int dns_client_init(struct dns_client *cl, const char *keyfile);

/* One exchange: the answer's length, or -1 (cl->err). */
ssize_t dns_client_exchange(struct dns_client *cl, const uint8_t *q, size_t qlen, uint8_t *ans,
			    size_t cap, int force_tcp);
/* The zone a name belongs to on the server. */
int dns_client_find_zone(struct dns_client *cl, const struct dns_name *name,
			 struct dns_name *zone);

struct dns_update_rr {
	const struct dns_name *name;
	uint16_t type;		/* DNS_T_ANY with class ANY: the whole name */
	uint16_t class;		/* IN: add; NONE: delete this record; ANY: delete the RRset */
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};

/* One signed UPDATE of zone with these changes, in order. 0 when the
 * server said NOERROR; else -1 with *rcode (or -1 when there was no
 * trustworthy answer) and cl->err. */
int dns_client_update(struct dns_client *cl, const struct dns_name *zone,
		      const struct dns_update_rr *rr, size_t n, int *rcode);

const char *dns_rcode_name(int rcode);

#endif
