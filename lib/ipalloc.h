/*
 * IP allocation for a home lab, three ways:
 *
 * Zero coordination (IPv6). With H(s) = SHA-256 of the string s:
 *	ULA /48 of HOST            fd00::/8 + H(HOST)[0..4]            (40 bits)
 *	/64 of IFACE on HOST       the /48 + H(IFACE "." HOST)[0..1]   (16-bit subnet id)
 *	address of NAME            the /64 + H(NAME "." HOST)[0..7]    (64-bit interface id)
 * Host, interface and guest names are lowercased first. An interface id
 * that is zero or in the reserved anycast range (RFC 5453) is replaced by
 * H(NAME "." HOST "#1")[0..7], and so on. Every machine can compute any
 * other's addresses without asking.
 *
 * Machine-local coordination (IPv4). A subnet is the first /24 of
 * 192.168.0.0/16, then 172.16.0.0/12, then 10.0.0.0/8 that overlaps no
 * reserved prefix (a file, one prefix per line), no earlier allocation and
 * no address or route present on the host. Taken under a lock in DIR
 * (default /run/lab/ip) and recorded there as NAME.env and NAME.json.
 *
 * Guests. Addresses .2 to .254 of a subnet, leased by guest name in
 * NAME.leases under the same lock: the same guest gets the same address
 * while its lease exists.
 */
#ifndef LAB_IPALLOC_H
#define LAB_IPALLOC_H

#include <stddef.h>

#include "ipaddr.h"
#include "nl.h"

#define IPALLOC_DIR "/run/lab/ip"
#define IPALLOC_RESERVED "/usr/local/etc/lab/net/reserved"

int ipalloc_ula_prefix(const char *host, struct ipaddr *out);
int ipalloc_ula_subnet(const char *host, const char *iface, struct ipaddr *out);
int ipalloc_ula_addr(const char *host, const char *iface, const char *name, struct ipaddr *out);

/* Names: letters, digits, '-', '_', '.', up to 63, not starting with '.'. */
int ipalloc_valid_name(const char *name);

struct ipalloc_subnet {
	char name[64];
	struct ipaddr v4;	/* the /24 */
	struct ipaddr gw4;	/* .1 of it, with /24 */
	struct ipaddr ula;	/* the derived /64 */
	struct ipaddr gw6;	/* ::1 of it, with /64 */
};

struct ipalloc_lease {
	char guest[64];
	struct ipaddr v4;	/* with /24 */
	struct ipaddr v6;	/* with /64 */
};

struct ipalloc {
	const char *dir;	/* state directory */
	const char *reserved;	/* reserved prefixes file (missing is fine) */
	const char *host;	/* this machine's name, for the ULA part */
	struct nl_sock *nl;	/* to see the host's addresses and routes; NULL: skip */
	int dry;		/* decide, but write nothing */
	char err[256];		/* what went wrong, for the user */
};

/* The subnet of NAME, allocated if it has none. 1 if newly taken, 0 if it
 * existed, -1 on error (a.err says why). */
int ipalloc_subnet(struct ipalloc *a, const char *name, struct ipalloc_subnet *out);
/* The lease of GUEST in SUBNET, taken if it has none. */
int ipalloc_lease(struct ipalloc *a, const char *subnet, const char *guest,
		  struct ipalloc_lease *out);
/* Drop a guest's lease, or (guest NULL) the subnet and all its leases. */
int ipalloc_release(struct ipalloc *a, const char *subnet, const char *guest);

int ipalloc_subnet_list(struct ipalloc *a, struct ipalloc_subnet **out, size_t *n);
int ipalloc_lease_list(struct ipalloc *a, const char *subnet, struct ipalloc_lease **out,
		       size_t *n);

#endif
