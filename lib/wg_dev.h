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
 * The file: [Interface] PrivateKey, ListenPort, Address, MTU, FwMark,
 * Table, DNS, PreUp/PostUp/PreDown/PostDown, SaveConfig = false; [Peer]
 * PublicKey, PresharedKey, AllowedIPs, Endpoint, PersistentKeepalive. Its
 * addresses and a route per allowed prefix (in Table; none with off; a
 * default route with Table auto as wg-quick sets one: in table 51820 (or
 * FwMark's), the socket's packets marked, "not fwmark lookup" and
 * "suppress_prefixlength 0" rules, removed at close) are set through lib/nl; the scripts and DNS are the caller's to run. An
 * Endpoint given by name is resolved again every two minutes while the
 * peer has no recent handshake. Under load (more than 64 handshake
 * messages a second) initiations without a valid mac2 get a cookie reply.
 * LAB_VPN_REKEY_AFTER / LAB_VPN_REJECT_AFTER (seconds) shorten the
 * protocol's 120/180 s timers, LAB_VPN_RERESOLVE the 120 s between
 * resolutions (and the 135 s of silence before one), for tests.
 */
#ifndef LAB_WG_DEV_H
#define LAB_WG_DEV_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct wg_dev;

enum wg_script { WG_PRE_UP, WG_POST_UP, WG_PRE_DOWN, WG_POST_DOWN };

/* Read conf, make the device, bring it up: NULL with err ("FILE:LINE: what"
 * for the file) when anything fails, nothing left behind. */
struct wg_dev *wg_dev_open(const char *conf, char *err, size_t errlen);
/* The same in two steps (PreUp runs between): the file read, then the
 * device made; after a failed wg_dev_up, wg_dev_close removes what was
 * made. */
struct wg_dev *wg_dev_load(const char *conf, char *err, size_t errlen);
int wg_dev_up(struct wg_dev *d, char *err, size_t errlen);
const char *wg_dev_name(const struct wg_dev *d);
size_t wg_dev_peers(const struct wg_dev *d);
/* The file's PreUp..PostDown commands and DNS entries, i from 0; NULL past
 * the last. */
const char *wg_dev_script(const struct wg_dev *d, enum wg_script w, int i);
const char *wg_dev_dns(const struct wg_dev *d, int i);
uint64_t wg_dev_cookies_sent(const struct wg_dev *d);
/* Serve until *stop; -1 with errno if polling fails. */
int wg_dev_run(struct wg_dev *d, volatile sig_atomic_t *stop);
/* The device goes with its descriptors, the API socket and any rules are
 * removed; what the file said stays readable (PostDown runs after). */
void wg_dev_down(struct wg_dev *d);
/* wg_dev_down, and everything freed. */
void wg_dev_close(struct wg_dev *d);

#endif
