/*
 * The client side of WireGuard's cross-platform userspace API: the text
 * protocol on the unix socket /var/run/wireguard/IFACE.sock that
 * wireguard-go and lab vpn run serve ("get=1" and "set=1" requests of
 * key=value lines ending with an empty line; the answer ends with
 * "errno=N" and an empty line).
 */
#ifndef LAB_WG_UAPI_H
#define LAB_WG_UAPI_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define WG_UAPI_DIR "/var/run/wireguard"

/* Whether IFACE's socket answers: 1 yes, 0 no (no socket, or a stale one). */
int wg_uapi_running(const char *iface);
/* One "set=1" request (body: lines, each ending in \n, without the
 * set=1 line and the empty line). 0, or -1 with errno: the errno the
 * device answered, ENOENT/ECONNREFUSED when nothing serves IFACE,
 * EPROTO for an answer that is not one. */
int wg_uapi_set(const char *iface, const char *body);

struct wg_uapi_peer {
	uint8_t pub[32];
	char endpoint[64];
	int64_t handshake;	/* seconds since the epoch, 0: never */
	uint64_t rx, tx;
	int keepalive;
	char allowed[512];	/* "10.0.0.2/32, fd00::2/128" (cut short if longer) */
};

/* "get=1": the peers the device has (free *out). */
int wg_uapi_get_peers(const char *iface, struct wg_uapi_peer **out, size_t *n);

#endif
