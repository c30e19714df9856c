/*
 * The DNS server's logic, without sockets: authoritative answers from the
 * zones (referrals, CNAME chasing, wildcards, NXDOMAIN vs NODATA, minimal
 * ANY), dynamic UPDATE (RFC 2136) signed with TSIG (RFC 8945,
 * hmac-sha256), PTR records kept in step with A/AAAA, and the decision to
 * hand a query to the resolver.
 */
#ifndef LAB_DNS_SERVER_H
#define LAB_DNS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns.h"
#include "dns_zone.h"

struct dns_key {
	struct dns_name name;	/* lowercased */
	uint8_t secret[128];
	size_t len;
};

struct dns_server {
	struct dns_zone *zones;
	struct dns_key *keys;
	size_t nkeys;
	uint16_t edns_size;	/* what we advertise and accept up to (1232) */
	int recurse;		/* hand other names to the resolver */
	int64_t clock_skew;	/* tests: added to time() for TSIG */
};

enum { DNS_ANSWER, DNS_RECURSE, DNS_DROP };

/*
 * Handle one request. DNS_ANSWER: out holds *outlen bytes to send.
 * DNS_RECURSE: a query for a name outside our zones with recursion on; the
 * caller resolves it. DNS_DROP: nothing to send (a response, garbage).
 * Over TCP the limit is 65535; an AXFR (one message) is answered over TCP
 * to loopback clients only.
 */
#define DNS_REQ_TCP 0x1
#define DNS_REQ_LOCAL 0x2	/* from loopback: zone transfers allowed */
int dns_server_handle(struct dns_server *s, const uint8_t *pkt, size_t len, int flags,
		      uint8_t *out, size_t cap, size_t *outlen);

/* The zone that holds name (longest match), or NULL. */
struct dns_zone *dns_server_zone(const struct dns_server *s, const struct dns_name *name);

/* Add the PTR of every A/AAAA in the forward zones to the reverse zones
 * we serve (after loading). */
void dns_server_sync_ptrs(struct dns_server *s);

/* Point name at addr (4 or 16 bytes), replacing its addresses of that
 * family, or (addr NULL, len 4 or 16) remove them; PTRs follow, the
 * change is journaled. For DHCP leases and registrations. */
int dns_server_register(struct dns_server *s, const struct dns_name *name, const uint8_t *addr,
			size_t len, uint32_t ttl);

/* A reverse name for an address: 4.3.2.1.in-addr.arpa or the nibbles of
 * ip6.arpa. */
int dns_reverse_name(const uint8_t *addr, size_t len, struct dns_name *out);

/* The text form of a key for configuration and nsupdate -y:
 * "hmac-sha256:NAME:BASE64". */
int dns_key_parse(const char *s, struct dns_key *k);

/* Sign a request (for lab dns add/rm): appends a TSIG record, fixes the
 * counts. mac receives the request MAC for checking the response. */
int dns_tsig_sign(uint8_t *pkt, size_t *len, size_t cap, const struct dns_key *k, uint64_t now,
		  uint8_t mac[32]);
/* Check a response's TSIG against the request MAC. 0 ok, -1 bad. */
int dns_tsig_verify_response(const uint8_t *pkt, size_t len, const struct dns_key *k,
			     const uint8_t reqmac[32], uint64_t now);

/* Check a signed request: 0 (key and MAC returned), or the TSIG error
 * (BADKEY, BADSIG, BADTIME, FORMERR). */
int dns_tsig_check(const struct dns_server *s, const struct dns_msg *m,
		   const struct dns_key **key, uint8_t mac[32], uint64_t now);
/* Sign a response to a request whose MAC was reqmac; NULL: an unsigned
 * TSIG that only carries error. */
int dns_tsig_respond(uint8_t *pkt, size_t *len, size_t cap, const struct dns_key *k,
		     const uint8_t *reqmac, uint16_t error, uint64_t now);

/* Base64 (RFC 4648): decode returns bytes or -1; encode writes a
 * NUL-terminated string of 4*ceil(n/3) chars. */

#endif
