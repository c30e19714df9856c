/*
 * IPv6 router advertisements (RFC 4861) with prefix information for SLAAC,
 * RDNSS and DNSSL (RFC 8106), sent on an interface periodically and in
 * answer to router solicitations.
 */
#ifndef LAB_RA_H
#define LAB_RA_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define RA_MAX 8

struct ra_conf {
	char ifname[IFNAMSIZ];
	int ifindex;
	uint8_t prefix[RA_MAX][16];
	int nprefix;
	uint8_t rdnss[RA_MAX][16];
	int nrdnss;
	char dnssl[RA_MAX][256];
	int ndnssl;
	uint32_t interval_ms;	/* between unsolicited RAs (default 200 s) */
	uint16_t lifetime;	/* router lifetime in seconds, 0: not a default router */
	uint32_t mtu;		/* 0: not advertised */
	uint8_t mac[6];
	int have_mac;
};

/* From a [ra IFACE] section; prefixes default to the /64s of the
 * interface's global and ULA addresses (passed in), RDNSS to the first of
 * those addresses, DNSSL to the given search domains. */
int ra_conf_parse(struct ra_conf *rc, const struct conf *cf, const struct conf_section *s,
		  const uint8_t (*addrs)[16], int naddrs, const char *const *domains, int ndomains,
		  struct conf_err *err);

/* The advertisement (ICMPv6 type 134, checksum left to the kernel). */
size_t ra_build(const struct ra_conf *rc, uint8_t *out, size_t cap);

/* A raw ICMPv6 socket on the interface that hears router solicitations
 * and may send to ff02::1. */
int ra_socket(const struct ra_conf *rc);
int ra_send(int fd, const struct ra_conf *rc, const uint8_t *to /* NULL: ff02::1 */);
/* Whether a received packet is a router solicitation (hop limit checked). */
int ra_is_solicit(const uint8_t *p, size_t len, int hoplimit);

#endif
