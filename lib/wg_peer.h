/*
 * WireGuard peers of a gateway, provisioned in its wg-quick file.
 *
 * Each peer lab adds is a [Peer] section that starts with a
 * "# Name = NAME" line (wg-quick ignores it), holding PublicKey,
 * PresharedKey and AllowedIPs = its addresses (/32 and /128). Addresses
 * come from the interface's Address subnets at a place derived from the
 * name (SHA-256 of it: the first 4 bytes for IPv4, bytes 8-15 for IPv6,
 * reduced to the subnet's host bits), so the same name gets the same
 * address on any machine with the same subnet; the network and broadcast
 * addresses, the gateway's own and any address a peer's AllowedIPs
 * already cover are skipped, moving on one address at a time.
 *
 * The file is read with lib/conf (as lab vpn run reads it); changes are
 * made to its text so everything else in it stays as it was.
 */
#ifndef LAB_WG_PEER_H
#define LAB_WG_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ipaddr.h"

#define WG_PEER_NAME_MAX 63
#define WG_GW_MAX_ADDR 8
#define WG_PEER_MAX_ALLOWED 32

struct wg_gw_peer {
	char name[WG_PEER_NAME_MAX + 1];	/* "" without a "# Name =" line */
	uint8_t pub[32];
	int have_pub;
	struct ipaddr allowed[WG_PEER_MAX_ALLOWED];
	int nallowed;
	int first, last;	/* its lines: the header to the last that is not blank */
};

struct wg_gw {
	char path[4096];
	struct buf text;	/* the file as read */
	uint8_t pub[32];	/* from PrivateKey */
	int listen_port;	/* 0: none */
	char endpoint[256];	/* "# Endpoint = HOST:PORT" in [Interface], or "" */
	int save_config;	/* SaveConfig = true: wg-quick rewrites the file */
	struct ipaddr addr[WG_GW_MAX_ADDR];	/* Address, with prefix lengths */
	int naddr;
	struct wg_gw_peer *peer;
	size_t npeer;
};

/* Read and check path: -1 with err ("FILE:LINE: what", or "FILE: why"). */
int wg_gw_load(struct wg_gw *g, const char *path, char *err, size_t errlen);
void wg_gw_free(struct wg_gw *g);

/* A DNS label: 1-63 letters, digits and '-', not at either end. Lowered
 * into out. -1 (EINVAL) for anything else. */
int wg_peer_name(const char *name, char out[WG_PEER_NAME_MAX + 1]);
/* The index of the peer called name, or -1. */
int wg_gw_find(const struct wg_gw *g, const char *name);

/* name's address in subnet (an Address of the gateway): a host address
 * (/32 or /128) in out. -1 with ENOSPC when every usable one is taken,
 * EINVAL for a subnet too small to hold peers (/31, /32, /127, /128). */
int wg_gw_alloc(const struct wg_gw *g, const char *name, const struct ipaddr *subnet,
		struct ipaddr *out);

/* The file's text with a section appended (section: "[Peer]\n..." lines),
 * or without peer i's section. */
int wg_gw_text_add(const struct wg_gw *g, const char *section, struct buf *out);
int wg_gw_text_remove(const struct wg_gw *g, size_t i, struct buf *out);

/* The gateway's directly connected prefixes on other links (main table,
 * scope link, not loopback, not IPv6 link-local, not on skip_ifname, not
 * holding endpoint when that is an address): what a split tunnel routes
 * home. Adds to out (up to max); returns how many were added, -1 on a
 * netlink error. */
int wg_gw_home_prefixes(const char *skip_ifname, const char *endpoint, struct ipaddr *out,
			int max);

/*
 * The peer's name in the local lab dns: NAME.wg.HOST.DOMAIN (host and
 * domain from lab dns's configuration, or the host name and home.arpa;
 * one "wg" label for all of the host's interfaces, so peer names should
 * differ across them), A and AAAA replaced (v4/v6 NULL: removed),
 * signed with lab dns's key. 0 done, 1 skipped (no key, or no lab dns
 * answering: why in err), -1 failed (err). fqdn gets the name.
 */
int wg_peer_dns(const char *name, const struct ipaddr *v4,
		const struct ipaddr *v6, char *fqdn, size_t fqdnlen, char *err, size_t errlen);

#endif
