/*
 * IPv4/IPv6 addresses and prefixes: parsing ("10.0.0.1/24", "fd00::/64",
 * "default"), printing, containment and overlap.
 */
#ifndef LAB_IPADDR_H
#define LAB_IPADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ipaddr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t a[16];		/* network order; IPv4 uses the first 4 bytes */
	int plen;		/* prefix length, -1 when none was given */
};

#define IPADDR_STRLEN 64	/* "ffff:...:ffff/128" and more */

size_t ipaddr_len(const struct ipaddr *ip);	/* 4 or 16 */
int ipaddr_bits(const struct ipaddr *ip);	/* 32 or 128 */

/* "10.0.0.1", "10.0.0.0/24", "fd00::1/64"; family AF_UNSPEC accepts both.
 * -1 with EINVAL on anything else (a prefix longer than the address,
 * trailing garbage, empty). */
int ipaddr_parse(const char *s, int family, struct ipaddr *out);
/* Same, also "default" (0.0.0.0/0 or ::/0, by family; AF_INET if unspecified). */
int ipaddr_parse_prefix(const char *s, int family, struct ipaddr *out);
/* "a/24, b/64" (commas, blanks) appended to out[*n..max): -1 with EINVAL
 * when one is not a prefix or there are more than max. */
int ipaddr_parse_list(const char *s, struct ipaddr *out, int max, int *n);

/* "10.0.0.1/24", or without "/plen" when plen < 0. */
char *ipaddr_str(const struct ipaddr *ip, char out[IPADDR_STRLEN]);
char *ipaddr_str_addr(const struct ipaddr *ip, char out[IPADDR_STRLEN]);

/* Clear the host bits (10.0.0.7/24 -> 10.0.0.0/24). */
void ipaddr_mask(struct ipaddr *ip);
int ipaddr_is_network(const struct ipaddr *ip);	/* host bits all zero */
/* Whether a (a prefix) contains b (an address or a prefix). */
int ipaddr_contains(const struct ipaddr *a, const struct ipaddr *b);
int ipaddr_overlap(const struct ipaddr *a, const struct ipaddr *b);
int ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b);

/* IPv4 as a host-order number and back. */
uint32_t ipaddr_v4(const struct ipaddr *ip);
void ipaddr_set_v4(struct ipaddr *ip, uint32_t v, int plen);

#endif
