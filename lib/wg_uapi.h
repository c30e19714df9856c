/*
 * The client side of WireGuard's userspace API: the text protocol on
 * /var/run/wireguard/IFACE.sock that wireguard-go, boringtun and lab's own
 * interface (lib/wg_dev) serve and `wg` speaks. get=1 is read into a
 * struct; set=1 sends a body of key=value lines.
 */
#ifndef LAB_WG_UAPI_H
#define LAB_WG_UAPI_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define WG_UAPI_DIR "/var/run/wireguard"

struct wg_uapi_peer {
	uint8_t pub[32];
	int has_psk;
	char endpoint[80];		/* "" when none */
	int64_t last_hs_sec;		/* 0: never */
	uint64_t rx, tx;
	int keepalive;
	char **allowed;			/* "10.0.0.2/32" */
	size_t nallowed;
};

struct wg_uapi_dev {
	uint8_t priv[32], pub[32];
	int has_key;
	int listen_port;
	uint32_t fwmark;
	struct wg_uapi_peer *peers;
	size_t npeers;
};

/* The whole exchange: req (ending in an empty line) sent, the answer up to
 * its empty line in out; -1 with errno when the socket fails or the
 * answer's errno= is not 0 (then errno is that). */
int wg_uapi_call(const char *iface, const char *req, struct buf *out);
/* Parse get=1's answer; -1 with EPROTO for what is not one. */
int wg_uapi_parse(const char *text, size_t len, struct wg_uapi_dev *out);
int wg_uapi_get(const char *iface, struct wg_uapi_dev *out);
/* Whether IFACE's socket answers: 1 yes, 0 no (none, or a stale one). */
int wg_uapi_running(const char *iface);
/* One set=1 request: body is its lines (each ending in \n), without the
 * set=1 line and the empty line. 0, or -1 with errno (the device's). */
int wg_uapi_set(const char *iface, const char *body);
void wg_uapi_free(struct wg_uapi_dev *d);

#endif
