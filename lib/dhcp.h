/*
 * A DHCPv4 server (RFC 2131/2132) for one interface: DISCOVER/OFFER,
 * REQUEST/ACK/NAK, RELEASE, DECLINE, INFORM; a pool, static leases by MAC,
 * options router, DNS, domain, lease time and classless routes (RFC 3442);
 * leases persisted; client host names (option 12, FQDN option 81) handed
 * back so the DNS side can register them.
 */
#ifndef LAB_DHCP_H
#define LAB_DHCP_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define DHCP_MAX_STATIC 256
#define DHCP_MAX_ROUTES 16

enum {
	DHCP_DISCOVER = 1, DHCP_OFFER, DHCP_REQUEST, DHCP_DECLINE, DHCP_ACK, DHCP_NAK,
	DHCP_RELEASE, DHCP_INFORM,
};

struct dhcp_msg {
	uint8_t op, htype, hlen;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;	/* host order */
	uint8_t chaddr[16];
	uint8_t type;		/* option 53 */
	uint32_t requested;	/* option 50, host order, 0 if absent */
	uint32_t server_id;	/* option 54 */
	char hostname[64];	/* option 12 or the first label of option 81 */
	const uint8_t *params;	/* option 55 */
	size_t nparams;
	const uint8_t *client_id;	/* option 61 */
	size_t client_id_len;
};

/* Parse a BOOTREQUEST; every option length checked. -1 (EBADMSG) if it
 * is not a well-formed DHCP message. */
int dhcp_parse(const uint8_t *p, size_t len, struct dhcp_msg *m);

struct dhcp_static {
	uint8_t mac[6];
	uint32_t ip;
	char name[64];
};

struct dhcp_route {
	uint32_t prefix, gw;
	int plen;
};

enum { LEASE_FREE, LEASE_OFFERED, LEASE_BOUND, LEASE_DECLINED };

struct dhcp_lease {
	uint8_t mac[6];
	uint32_t ip;
	uint64_t expires;	/* unix seconds */
	int state;
	char name[64];
};

struct dhcp_pool {
	char ifname[IFNAMSIZ];
	uint32_t server;	/* our address on the interface, host order */
	uint32_t netmask;
	uint32_t start, end;	/* the dynamic range */
	uint32_t router;	/* 0: none */
	uint32_t dns[4];
	int ndns;
	char domain[256];	/* option 15 */
	uint32_t lease_secs;
	struct dhcp_static statics[DHCP_MAX_STATIC];
	int nstatics;
	struct dhcp_route routes[DHCP_MAX_ROUTES];
	int nroutes;
	struct dhcp_lease *leases;
	size_t nleases, cap;
	char path[512];		/* leases file, "" for none */
};

/*
 * Fill a pool from a [dhcp IFACE] section, given the interface's address
 * and prefix length. Defaults: range .100-.200 of a /24 (the upper half of
 * other prefixes), router and DNS = the interface address, 12h leases.
 */
int dhcp_pool_config(struct dhcp_pool *p, const struct conf *cf, const struct conf_section *s,
		     uint32_t ifaddr, int plen, struct conf_err *err);
void dhcp_pool_free(struct dhcp_pool *p);

/* What a request changed, for DNS: a name bound to an address, or let go. */
struct dhcp_event {
	int bound;		/* 1 bound, 0 released/expired, -1 nothing */
	char name[64];
	uint32_t ip;
};

/*
 * Answer one request at time now. Returns the reply length (0: no reply),
 * *dst the address to send it to (0xffffffff: broadcast) and ev what
 * changed.
 */
size_t dhcp_handle(struct dhcp_pool *p, const struct dhcp_msg *m, uint64_t now, uint8_t *out,
		   size_t cap, uint32_t *dst, struct dhcp_event *ev);

/* Drop expired leases; calls cb for each bound one that expired. */
void dhcp_expire(struct dhcp_pool *p, uint64_t now,
		 void (*cb)(const struct dhcp_lease *l, void *arg), void *arg);

int dhcp_leases_load(struct dhcp_pool *p, uint64_t now);
int dhcp_leases_save(const struct dhcp_pool *p);

#endif
