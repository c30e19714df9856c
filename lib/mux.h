/*
 * lab vpn mux: one TCP port for several protocols. The sniffer looks at the
 * first bytes a client sent and says which protocol they begin (SSH, TLS
 * with its server name, HTTP, OpenVPN over TCP), that it cannot tell yet,
 * or that they are none of these. The daemon (mux_srv_*) accepts on the
 * port, sniffs, connects to the backend for that protocol and relays with
 * splice().
 */
#ifndef LAB_MUX_H
#define LAB_MUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum mux_proto {
	MUX_NEED = -1,		/* the bytes so far begin more than one answer */
	MUX_UNKNOWN = 0,	/* none of those below */
	MUX_SSH,
	MUX_TLS,
	MUX_HTTP,
	MUX_OPENVPN,
	MUX_NONE,		/* the client sent nothing (server-speaks-first) */
	MUX_NPROTO
};

/* How much of a client's first bytes the sniffer is given at most: a TLS
 * ClientHello that needs more is routed as TLS without a server name. */
#define MUX_SNIFF_MAX 16384
#define MUX_SNI_MAX 255

struct mux_sniff {
	int proto;
	char sni[MUX_SNI_MAX + 1];	/* TLS: the host_name, lowercased; "" if none */
};

/*
 * What p[0..n) begins. final: no more bytes will come (the client went
 * quiet, closed, or filled MUX_SNIFF_MAX); a protocol is then named only if
 * its signature is already there (a TLS record header with the start of a
 * ClientHello is TLS, without a server name). Returns out->proto.
 */
int mux_sniff(const uint8_t *p, size_t n, int final, struct mux_sniff *out);

const char *mux_proto_name(int proto);

/* ---- the daemon ---- */

struct mux_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* A backend: what the user wrote, and the addresses it resolved to. */
struct mux_backend {
	char *name;
	struct mux_addr *addr;
	size_t naddr;
	int proxy;	/* 0, or the PROXY protocol version (1, 2) it is sent first */
};

/*
 * A PROXY protocol header (HAProxy's proxy-protocol.txt), version 1 (text)
 * or 2 (binary), for a TCP connection from src to dst (the address the
 * client reached). Families other than IPv4 and IPv6, or two different
 * ones, give v1's "UNKNOWN" and v2's LOCAL. The length written (at most
 * MUX_PROXY_MAX), or -1 with EINVAL for another version.
 */
#define MUX_PROXY_MAX 108
int mux_proxy_header(int version, const struct sockaddr_storage *src,
		     const struct sockaddr_storage *dst, uint8_t *out);

/* A TLS server name (or "*.suffix") and its backend. */
struct mux_sni_route {
	char *pattern;
	struct mux_backend be;
};

struct mux_conf {
	struct mux_addr *listen;
	char **listen_name;
	size_t nlisten;
	struct mux_backend be[MUX_NPROTO];	/* by protocol; MUX_UNKNOWN is the default */
	int have[MUX_NPROTO];
	struct mux_sni_route *sni;
	size_t nsni;
	unsigned sniff_timeout_ms;	/* a client silent this long goes to the default */
	unsigned connect_timeout_ms;
	unsigned max_conns;
	char user[64];	/* given up to after binding (when root); "root" keeps it */
};

/* "HOST:PORT", "[V6]:PORT", "V6ADDR" is refused (ambiguous); names are
 * resolved now (getaddrinfo, every address kept, tried in order).
 * passive: for listen ("*:PORT" or ":PORT" mean every address). -1 with
 * what is wrong with it in err. */
int mux_resolve(const char *s, int passive, struct mux_addr **out, size_t *n, char *err,
		size_t errlen);
/* The backend a TLS server name goes to: an exact pattern first, then the
 * longest "*.suffix" that ends the name; NULL if none. */
const struct mux_backend *mux_sni_lookup(const struct mux_conf *c, const char *sni);
void mux_conf_free(struct mux_conf *c);

/* Defaults: timeout 2000 ms, connect-timeout 5000 ms, max-conns 512,
 * user nobody. */
int mux_conf_init(struct mux_conf *c);
/*
 * One key, as an option (--KEY VALUE) or a line of a file (KEY = VALUE):
 * listen, ssh, tls, http, openvpn, default (HOST:PORT[,proxy-v1|,proxy-v2]),
 * tls-sni (NAME=HOST:PORT, NAME may be *.SUFFIX; repeatable), timeout,
 * connect-timeout (milliseconds, or 2s), max-conns, user. -1 with what is wrong
 * in err ("unknown" and errno ENOENT for a key that is not one).
 */
int mux_conf_set(struct mux_conf *c, const char *key, const char *val, char *err, size_t errlen);
int mux_conf_is_key(const char *key);
/* Every key of a file (lib/conf's format; keys before any section or in
 * [mux]); err is "FILE:LINE: KEY VALUE: what". */
int mux_conf_load(struct mux_conf *c, const char *path, char *err, size_t errlen);
/* A listen address and a backend are there. */
int mux_conf_check(const struct mux_conf *c, char *err, size_t errlen);

struct mux_srv;
struct ev;

/* Bind and listen on every listen address; NULL with errno (err says
 * which). On success the server owns c (malloc'd), and frees it. */
struct mux_srv *mux_srv_new(struct ev *ev, struct mux_conf *c, char *err, size_t errlen);
/* Route new connections by c (malloc'd, the server's from now on, if this
 * succeeds); those in flight keep theirs. The listen addresses must be
 * the same: -1 with a message in err, and nothing changes. */
int mux_srv_reload(struct mux_srv *s, struct mux_conf *c, char *err, size_t errlen);
void mux_srv_free(struct mux_srv *s);	/* closes every connection */
size_t mux_srv_conns(const struct mux_srv *s);

#endif
