/*
 * lab dns configuration: the file, its defaults, and the server it
 * describes.
 *
 *	[server]
 *	listen = 127.0.0.1:53       repeatable: ADDR[:PORT], [V6ADDR]:PORT
 *	domain = home.arpa           the home domain
 *	host = alpha                 this machine: serves alpha.home.arpa (default: hostname)
 *	address = 10.0.0.2           this server's own addresses (ns.HOST.DOMAIN; glue)
 *	parent = 10.0.0.1            servers of the home domain above us (referrals start there)
 *	recurse = yes                resolve other names for clients
 *	upstream = 192.0.2.53        repeatable; default: nameservers of /etc/resolv.conf
 *	key = hmac-sha256:NAME:B64   TSIG keys for UPDATE (repeatable)
 *	state = /var/lib/lab/dns     journals of dynamic changes
 *	user = nobody                run as this user once the sockets are open
 *	                             (the default; "root" keeps root)
 *	edns-size = 1232
 *	cache-size = 10000           resolver cache entries
 *	tcp-idle = 10s
 *	tcp-clients = 128
 *	udp-workers = 2              UDP threads (default: one per core, 0 on one core)
 *
 *	[zone NAME]                  more zones
 *	Names are absolute (the final dot optional); [interface] and [delegate]
 *	take one label, below HOST.DOMAIN and DOMAIN.
 *	file = PATH
 *	dynamic = yes
 *
 *	[interface br0]              one zone per interface: br0.HOST.DOMAIN, dynamic,
 *	subnet = 192.168.1.0/24      and the reverse zones of its subnets (repeatable)
 *
 *	[dhcp br0]                   a DHCPv4 server on br0 (lib/dhcp.h): range, router,
 *	                             dns, domain, lease, static, route; its clients'
 *	                             names go into br0.HOST.DOMAIN
 *	[ra br0]                     router advertisements on br0 (lib/ra.h)
 *	[mdns br0]                   mDNS on br0 (lib/mdns.h)
 *
 *	[delegate beta]              a child of the home domain: NS and glue
 *	ns = ns.beta.home.arpa
 *	address = 10.0.1.2           (repeatable)
 */
#ifndef LAB_DNS_CONF_H
#define LAB_DNS_CONF_H

#include <netinet/in.h>
#include <stdint.h>

#include "conf.h"
#include "dns_server.h"

#define DNS_CONF_MAX_ADDRS 16

struct dns_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

struct dns_conf {
	struct conf raw;
	struct dns_addr listen[DNS_CONF_MAX_ADDRS];
	int nlisten;
	struct dns_addr upstream[DNS_CONF_MAX_ADDRS];
	int nupstream;
	struct dns_addr parent[DNS_CONF_MAX_ADDRS];
	int nparent;
	struct dns_name domain, host_zone;
	char host[64];
	char state[256];
	char user[64];
	int recurse;
	uint16_t edns_size;
	uint32_t cache_size;
	uint64_t tcp_idle_ms;
	uint32_t tcp_clients;
	unsigned udp_workers;	/* UDP threads; 0: the main loop reads UDP */
	struct dns_key keys[8];
	int nkeys;
};

int dns_addr_parse(const char *s, uint16_t defport, struct dns_addr *a);
char *dns_addr_str(const struct dns_addr *a, char *out, size_t size);

/* Read and check a configuration file; no zone is loaded yet. */
int dns_conf_load(struct dns_conf *c, const char *path, struct conf_err *err);
void dns_conf_free(struct dns_conf *c);
/* The configuration with every default filled in (what -n prints). */
int dns_conf_print(const struct dns_conf *c, struct buf *out);

/* Make sure a zone exists (dynamic, with its journal replayed). */
struct dns_zone *dns_conf_zone(const struct dns_conf *c, struct dns_server *s,
			       const struct dns_name *origin, struct conf_err *err);

/* Build the server: zones (files, journals, defaults, delegations, PTRs).
 * Nothing is half-built on failure. */
int dns_conf_build(const struct dns_conf *c, struct dns_server *s, struct conf_err *err);
void dns_server_free(struct dns_server *s);

#endif
