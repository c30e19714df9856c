/*
 * A WireGuard interface in this process: a TUN device named after its
 * wg-quick file, one dual-stack UDP socket, and the userspace API socket
 * /var/run/wireguard/NAME.sock that wg show/set/showconf speak. Served
 * from one thread: handshakes on demand as initiator and responder
 * (replayed timestamps refused, the responder's session confirmed by the
 * first data), a 64-packet replay window, endpoints that follow the peer,
 * persistent keepalives, retries every 5 s, rekeying after 120 s,
 * sessions dropped after 180 s, inner source addresses checked against
 * the peer's allowed prefixes.
 *
 * The file: [Interface] PrivateKey, ListenPort, Address, MTU; [Peer]
 * PublicKey, PresharedKey, AllowedIPs, Endpoint, PersistentKeepalive. Its
 * addresses and a route per allowed prefix are set through lib/nl.
 */
#ifndef LAB_WG_DEV_H
#define LAB_WG_DEV_H

#include <signal.h>
#include <stddef.h>

struct wg_dev;

/* Read conf, make the device, bring it up: NULL with err ("FILE:LINE: what"
 * for the file) when anything fails, nothing left behind. */
struct wg_dev *wg_dev_open(const char *conf, char *err, size_t errlen);
const char *wg_dev_name(const struct wg_dev *d);
size_t wg_dev_peers(const struct wg_dev *d);
/* Serve until *stop; -1 with errno if polling fails. */
int wg_dev_run(struct wg_dev *d, volatile sig_atomic_t *stop);
/* The device goes with its descriptors; the API socket is removed. */
void wg_dev_close(struct wg_dev *d);

#endif
