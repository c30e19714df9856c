/*
 * lab vpn bastion: an SSH server that only forwards (direct-tcpip), to
 * destinations on an allow-list, for keys in an authorized_keys file.
 *
 * The pure parts (allow rules, authorized_keys lines, the failed-login
 * limiter) come first and use nothing of libssh, so they can be fuzzed
 * and unit-tested alone; the server follows (lib/bastion_server.c).
 *
 * Allow rules:   [!]HOST[:PORTS]
 *	HOST	10.0.0.5, 10.0.0.0/8, [fd00::/8] (brackets when PORTS
 *		follow), a name (router.lan), or a suffix (*.home.arpa or
 *		.home.arpa: every name below it, not the suffix itself)
 *	PORTS	*, or a list of ports and ranges: 22,443,8000-8099;
 *		none given means 22
 *	!	a deny rule (addresses only): what it covers is refused
 *		whatever else allows it
 *
 * How a destination is decided (bastion_dest_check):
 *  - an address is refused when a deny rule covers it, allowed when an
 *    address rule covers it;
 *  - a name is resolved by the bastion; each address it gives is decided
 *    as above, except that when a name rule admits the name, its
 *    addresses are allowed too unless they are special-purpose (loopback,
 *    unspecified, link-local, multicast, reserved, or one of the
 *    bastion's own): those only an address rule admits. So a name under
 *    an allowed suffix cannot reach the bastion itself, and no name
 *    reaches what a deny rule covers. The bastion connects to the
 *    address it checked, never resolving twice.
 */
#ifndef LAB_BASTION_H
#define LAB_BASTION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ipaddr.h"

#define BASTION_MAX_PORTS 16
#define BASTION_NAME_MAX 253

enum bastion_rule_kind { BASTION_ADDR, BASTION_NAME, BASTION_SUFFIX };

struct bastion_rule {
	enum bastion_rule_kind kind;
	int deny;
	struct ipaddr net;			/* BASTION_ADDR: plen always set */
	char name[BASTION_NAME_MAX + 2];	/* lower case; a suffix starts with '.' */
	int allports;
	size_t nports;
	uint16_t lo[BASTION_MAX_PORTS], hi[BASTION_MAX_PORTS];
};

/* 0, or -1 with a one-line reason in err (which does not repeat s). */
int bastion_rule_parse(const char *s, struct bastion_rule *r, char *err, size_t errlen);
/* The normal form, which parses back to the same rule. */
void bastion_rule_format(const struct bastion_rule *r, char *out, size_t size);

/* A destination name as a client sent it: lower case, one trailing dot
 * dropped; -1 when it is not a host name. out holds BASTION_NAME_MAX + 1. */
int bastion_name_norm(const char *in, char *out);
/* Whether a name rule admits name (normalised) on port. */
int bastion_name_allowed(const struct bastion_rule *r, size_t n, const char *name, uint16_t port);
/* Loopback, unspecified, link-local, multicast, reserved (v4-mapped
 * addresses are taken as IPv4). */
int bastion_addr_special(const struct ipaddr *a);
/* An address from the wire or the resolver: v4-mapped IPv6 becomes IPv4,
 * plen is the full length. */
void bastion_addr_from_sa(const struct sockaddr *sa, struct ipaddr *out, uint16_t *port);

/*
 * Decide one address for a destination. by_name: the client asked for a
 * name that a name rule admits on this port; own: the address is one of
 * the bastion's own. 1 allowed, 0 refused with the reason in why.
 */
int bastion_dest_check(const struct bastion_rule *r, size_t n, const struct ipaddr *a,
		       uint16_t port, int by_name, int own, char *why, size_t whylen);

/*
 * One line of an OpenSSH authorized_keys file. Keys of type ssh-ed25519,
 * ecdsa-sha2-nistp256/384/521 and ssh-rsa; a line with options (from=,
 * command=, restrict, ...) is refused: its key is not accepted, since the
 * bastion could not honour the restriction. Returns 1 for a key, 0 for a
 * blank or comment line, -1 with the reason in err.
 */
#define BASTION_BLOB_MAX 2600	/* an RSA key of 16384 bits and some */
struct bastion_key {
	char type[24];
	uint8_t blob[BASTION_BLOB_MAX];
	size_t bloblen;
	char comment[128];
	char fp[64];	/* "SHA256:" and the unpadded base64 of the blob's hash */
};
int bastion_authkey_parse(const char *line, struct bastion_key *k, char *err, size_t errlen);
/* OpenSSH's SHA256 fingerprint of a key blob. */
void bastion_fingerprint(const uint8_t *blob, size_t n, char out[64]);

/*
 * Failed authentications per source (an IPv4 address, an IPv6 /64):
 * max_fail of them within window_ms and new connections from there are
 * refused for ban_ms. Thread-safe.
 */
struct bastion_rl;
struct bastion_rl *bastion_rl_new(unsigned max_fail, uint64_t window_ms, uint64_t ban_ms);
void bastion_rl_free(struct bastion_rl *rl);
/* Milliseconds of ban left for this source, 0 when it may connect. */
uint64_t bastion_rl_banned(struct bastion_rl *rl, const struct ipaddr *src, uint64_t now_ms);
/* Count a failure; 1 when it starts a ban. */
int bastion_rl_fail(struct bastion_rl *rl, const struct ipaddr *src, uint64_t now_ms);
/* Take back a failure counted earlier in a connection that then succeeded. */
void bastion_rl_forgive(struct bastion_rl *rl, const struct ipaddr *src);

/* ---- the server (lib/bastion_server.c) ---- */

struct bastion_conf {
	struct sockaddr_storage listen;
	socklen_t listenlen;
	const char *host_key;		/* generated (ed25519, 0600) when missing */
	struct bastion_rule *rules;
	size_t nrules;
	struct bastion_key *keys;
	size_t nkeys;
	unsigned max_auth_fail;		/* failed connections per source and window */
	uint64_t fail_window_ms, ban_ms;
	unsigned max_sessions;		/* at once; more are closed at once */
	unsigned max_pending;		/* per source, still authenticating */
	unsigned max_channels;		/* per session */
	uint64_t login_grace_ms;	/* to authenticate */
	/* Where the server's lines go (level as in log.h); one per event. */
	void (*log)(int level, const char *line);
};

struct bastion;
/* Host key (loaded or made), listening socket. NULL with err filled. */
struct bastion *bastion_new(const struct bastion_conf *c, char *err, size_t errlen);
/*
 * New rules and keys, for new authentications and channels; sessions
 * whose key is not among the new ones are ended. The arrays are the
 * caller's and must live until the next reload or bastion_free; the old
 * ones are no longer used when this returns. Returns the sessions ended.
 */
int bastion_reload(struct bastion *b, struct bastion_rule *rules, size_t nrules, struct bastion_key *keys,
		   size_t nkeys);
/* The listening socket: call bastion_accept when it is readable. */
int bastion_fd(const struct bastion *b);
/* The host key's fingerprint, for the start-up line. */
const char *bastion_host_fp(const struct bastion *b);
/* Accept one connection and start its session thread. */
void bastion_accept(struct bastion *b);
/* Ends every session (each logs its line), waits up to wait_ms, frees. */
void bastion_free(struct bastion *b, uint64_t wait_ms);

#endif
