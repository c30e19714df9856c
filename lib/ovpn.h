/*
 * An OpenVPN gateway's state: a CA (lib/x509ca), the server's certificate,
 * tls-crypt-v2 keys, a CRL, an index of issued client certificates, the
 * server configurations for the system's openvpn (one per protocol), and
 * one inline .ovpn file per client. Everything lives in one directory
 * (default /etc/lab/openvpn):
 *
 *   settings            what init was given (key value lines)
 *   ca.crt ca.key       the CA (key 0600)
 *   server.crt .key     the server's certificate (CN=server, serverAuth)
 *   tc2-server.key      the tls-crypt-v2 server key (0600)
 *   crl.pem crlnumber   the CRL, re-signed on every revoke
 *   index               NAME SERIAL NOT_BEFORE NOT_AFTER REVOKED_AT, per line
 *   server-udp.conf     openvpn --config for each instance
 *   server-tcp.conf
 *   mgmt-udp.sock ...   their management sockets (while they run)
 *   clients/NAME.{crt,key,ovpn}
 *
 * Every file is replaced atomically (temporary, fsync, rename); init builds
 * the whole directory beside its place and renames it in; client and
 * revoke hold DIR/.lock.
 *
 * Functions return 0, or -1 with errno and a message in err ("what: why").
 */
#ifndef LAB_OVPN_H
#define LAB_OVPN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#define OVPN_DEFAULT_DIR "/etc/lab/openvpn"
#define OVPN_MAX_ROUTES 32
#define OVPN_NAME_MAX 64

struct ovpn_settings {
	int udp, tcp; /* which instances */
	unsigned udp_port, tcp_port;
	char subnet[64];		  /* the UDP instance's clients, CIDR */
	char tcp_subnet[64];		  /* the TCP instance's */
	char remote[256];		  /* the host clients connect to, if known */
	char routes[OVPN_MAX_ROUTES][64]; /* pushed to clients, CIDR */
	size_t nroutes;
	unsigned days; /* validity of client certificates */
};

struct ovpn_client {
	char name[OVPN_NAME_MAX + 1];
	char serial[2 * 16 + 1]; /* hex */
	int64_t not_before, not_after;
	int64_t revoked; /* 0: not revoked */
};

/* Defaults: both protocols, port 1194, 10.8.0.0/24 and 10.8.1.0/24, 825 days. */
void ovpn_settings_default(struct ovpn_settings *s);
/* Check subnets (IPv4 networks, /8 to /30, not overlapping), routes, ports. */
int ovpn_settings_check(const struct ovpn_settings *s, char *err, size_t errlen);
int ovpn_settings_load(const char *dir, struct ovpn_settings *s, char *err, size_t errlen);

/* A client name: 1 to 64 of [A-Za-z0-9._-], not starting with '.' or '-',
 * and not "server". */
int ovpn_name_ok(const char *name);

/* Make dir (refused with EEXIST when it already holds a CA, ENOTEMPTY
 * when it holds anything else). */
int ovpn_init(const char *dir, const struct ovpn_settings *s, char *err, size_t errlen);

/* Issue NAME's certificate and tls-crypt-v2 key and write its .ovpn.
 * remote: "HOST", "HOST:PORT" or "[V6]:PORT", NULL for the settings'.
 * proto: "udp", "tcp" or NULL for every instance. path gets the .ovpn's. */
int ovpn_client_new(const char *dir, const char *name, const char *remote, const char *proto,
		    char *path, size_t pathlen, char *err, size_t errlen);
/* Revoke NAME's certificate: into the CRL, re-signed, and the index. */
int ovpn_revoke(const char *dir, const char *name, char *err, size_t errlen);

/* Ask the running openvpn of an instance ("udp", "tcp"), through its
 * management socket DIR/mgmt-PROTO.sock, to drop NAME's sessions now.
 * The number dropped; 0 also when that openvpn is not running. */
int ovpn_mgmt_kill(const char *dir, const char *proto, const char *name, char *err, size_t errlen);

/* The index, in issue order. Free *v with free(). */
int ovpn_index_load(const char *dir, struct ovpn_client **v, size_t *n, char *err, size_t errlen);
/* Parse an index's text (for the fuzz target): -1 with the line in err. */
int ovpn_index_parse(const char *text, size_t len, struct ovpn_client **v, size_t *n, char *err,
		     size_t errlen);

/* Whether an openvpn status file (status-version 2) lists NAME as
 * connected; addr gets its tunnel address. 1 yes, 0 no. */
int ovpn_status_find(const char *text, const char *name, char *addr, size_t addrlen);

/*
 * tls-crypt-v2 (OpenVPN's doc/tls-crypt-v2.txt). The server key is 128
 * bytes: Ke = bytes 0..31 (AES-256-CTR), Ka = bytes 64..95 (HMAC-SHA256).
 * A client key is Kc (256 bytes) || WKc, WKc = T || AES-256-CTR(Ke, IV =
 * T[0..15], Kc || metadata) || len, T = HMAC-SHA256(Ka, len || Kc ||
 * metadata), len = the length of WKc, 16 bits, network order.
 */
#define OVPN_TC2_SERVER_LEN 128
#define OVPN_TC2_KC_LEN 256
#define OVPN_TC2_MAX_WKC 1024

int ovpn_tc2_server_pem(const uint8_t key[OVPN_TC2_SERVER_LEN], struct buf *out);
int ovpn_tc2_server_parse(const char *pem, uint8_t key[OVPN_TC2_SERVER_LEN]);
/* metadata: its first byte is the type (0 user, 1 timestamp). */
int ovpn_tc2_client_pem(const uint8_t server[OVPN_TC2_SERVER_LEN],
			const uint8_t kc[OVPN_TC2_KC_LEN], const uint8_t *meta, size_t metalen,
			struct buf *out);
/* What a server does with a client key's WKc: check T, recover Kc and the
 * metadata (meta holds OVPN_TC2_MAX_WKC bytes). -1 with EBADMSG. */
int ovpn_tc2_unwrap(const uint8_t server[OVPN_TC2_SERVER_LEN], const uint8_t *wkc, size_t len,
		    uint8_t kc[OVPN_TC2_KC_LEN], uint8_t *meta, size_t *metalen);
/* The bytes of a PEM block named name (between its BEGIN and END lines). */
int ovpn_pem_decode(const char *pem, const char *name, uint8_t *out, size_t cap, size_t *len);

#endif
