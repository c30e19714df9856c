#include "ovpn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <mbedtls/aes.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "ev.h"
#include "buf.h"
#include "fs.h"
#include "hash.h"
#include "ipaddr.h"
#include "log.h"
#include "x509ca.h"

#define CA_DAYS 3650
#define SERVER_DAYS 3650
#define CIPHERS "AES-256-GCM:CHACHA20-POLY1305"

/* err = "path: strerror(errno)", errno kept. */
static int
syserr(char *err, size_t errlen, const char *path)
{
	int e = errno;

	return str_err(err, errlen, e, "%s: %s", path, strerror(e));
}

static void
join(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* ---- settings ---- */

void
ovpn_settings_default(struct ovpn_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->udp = s->tcp = 1;
	s->udp_port = s->tcp_port = 1194;
	str_copy(s->subnet, "10.8.0.0/24", sizeof(s->subnet));
	str_copy(s->tcp_subnet, "10.8.1.0/24", sizeof(s->tcp_subnet));
	s->days = 825;
}

static int
check_net(const char *what, const char *s, struct ipaddr *ip, char *err, size_t errlen)
{
	if (ipaddr_parse(s, AF_INET, ip) < 0 || ip->plen < 0)
		return str_err(err, errlen, EINVAL,
			      "%s %s: expected an IPv4 prefix such as 10.8.0.0/24", what, s);
	if (!ipaddr_is_network(ip))
		return str_err(err, errlen, EINVAL, "%s %s: host bits set (the network is not %s)",
			      what, s, s);
	return 0;
}

int
ovpn_settings_check(const struct ovpn_settings *s, char *err, size_t errlen)
{
	struct ipaddr u, t, r;
	size_t i;

	if (!s->udp && !s->tcp)
		return str_err(err, errlen, EINVAL, "no instance: --proto udp, tcp or both");
	if (check_net("--subnet", s->subnet, &u, err, errlen) < 0 ||
	    check_net("--tcp-subnet", s->tcp_subnet, &t, err, errlen) < 0)
		return -1;
	if (u.plen < 8 || u.plen > 29)
		return str_err(err, errlen, EINVAL, "--subnet %s: between /8 and /29", s->subnet);
	if (t.plen < 8 || t.plen > 29)
		return str_err(err, errlen, EINVAL, "--tcp-subnet %s: between /8 and /29",
			      s->tcp_subnet);
	if (s->udp && s->tcp && ipaddr_overlap(&u, &t))
		return str_err(err, errlen, EINVAL, "--subnet %s and --tcp-subnet %s overlap",
			      s->subnet, s->tcp_subnet);
	if (!s->udp_port || s->udp_port > 65535 || !s->tcp_port || s->tcp_port > 65535)
		return str_err(err, errlen, EINVAL, "--port: 1 to 65535");
	for (i = 0; i < s->nroutes; i++)
		if (check_net("--route", s->routes[i], &r, err, errlen) < 0)
			return -1;
	if (!s->days || s->days > 36500)
		return str_err(err, errlen, EINVAL, "--days: 1 to 36500");
	if (strpbrk(s->remote, " \t\r\n\"'#;\\"))
		return str_err(err, errlen, EINVAL, "--remote %s: not a host name", s->remote);
	return 0;
}

static int
settings_text(const struct ovpn_settings *s, struct buf *b)
{
	size_t i;

	buf_adds(b, "# lab vpn openvpn init; the server-*.conf files are made from these\n");
	buf_addf(b, "proto %s\n", s->udp && s->tcp ? "both" : s->udp ? "udp" : "tcp");
	buf_addf(b, "udp-port %u\ntcp-port %u\n", s->udp_port, s->tcp_port);
	buf_addf(b, "subnet %s\ntcp-subnet %s\n", s->subnet, s->tcp_subnet);
	if (s->remote[0])
		buf_addf(b, "remote %s\n", s->remote);
	for (i = 0; i < s->nroutes; i++)
		buf_addf(b, "route %s\n", s->routes[i]);
	buf_addf(b, "days %u\n", s->days);
	return buf_err(b);
}

int
ovpn_settings_load(const char *dir, struct ovpn_settings *s, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	char path[4096], *line, *save = NULL;
	int lineno = 0, rc = -1;

	ovpn_settings_default(s);
	join(path, sizeof(path), dir, "settings");
	if (fs_read_file(path, &b, 1 << 16) < 0) {
		if (errno == ENOENT)
			str_err(err, errlen, ENOENT,
			       "%s: no such file (not made by lab vpn openvpn init?)", path);
		else
			syserr(err, errlen, path);
		goto out;
	}
	for (line = strtok_r((char *)buf_cstr(&b), "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *k, *v;
		uint32_t u;

		lineno++;
		k = str_trim(line);
		if (!*k || *k == '#')
			continue;
		v = k + strcspn(k, " \t");
		if (*v)
			*v++ = '\0';
		v = str_trim(v);
		if (!strcmp(k, "proto")) {
			s->udp = !strcmp(v, "udp") || !strcmp(v, "both");
			s->tcp = !strcmp(v, "tcp") || !strcmp(v, "both");
		} else if (!strcmp(k, "udp-port") && str_to_u32(v, 65535, &u) == 0) {
			s->udp_port = u;
		} else if (!strcmp(k, "tcp-port") && str_to_u32(v, 65535, &u) == 0) {
			s->tcp_port = u;
		} else if (!strcmp(k, "subnet")) {
			str_copy(s->subnet, v, sizeof(s->subnet));
		} else if (!strcmp(k, "tcp-subnet")) {
			str_copy(s->tcp_subnet, v, sizeof(s->tcp_subnet));
		} else if (!strcmp(k, "remote")) {
			str_copy(s->remote, v, sizeof(s->remote));
		} else if (!strcmp(k, "route") && s->nroutes < OVPN_MAX_ROUTES) {
			str_copy(s->routes[s->nroutes++], v, sizeof(s->routes[0]));
		} else if (!strcmp(k, "days") && str_to_u32(v, 36500, &u) == 0) {
			s->days = u;
		} else {
			str_err(err, errlen, EINVAL, "%s:%d: unknown or bad setting \"%s\"", path,
			       lineno, k);
			goto out;
		}
	}
	if (ovpn_settings_check(s, err, errlen) < 0) {
		char m[300];

		str_copy(m, err, sizeof(m));
		str_err(err, errlen, EINVAL, "%s: %s", path, m);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* ---- PEM ---- */

static int
pem_encode(const char *name, const uint8_t *p, size_t n, struct buf *out)
{
	char begin[128], end[128];
	unsigned char *pem;
	size_t cap = n * 2 + 256, olen;
	int ret;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----\n", name);
	snprintf(end, sizeof(end), "-----END %s-----\n", name);
	pem = malloc(cap);
	if (!pem)
		return -1;
	ret = mbedtls_pem_write_buffer(begin, end, p, n, pem, cap, &olen);
	if (ret == 0)
		buf_adds(out, (char *)pem);
	mbedtls_platform_zeroize(pem, cap);
	free(pem);
	if (ret != 0) {
		errno = EINVAL;
		return -1;
	}
	return buf_err(out);
}

/* ---- tls-crypt-v2 ---- */

#define TC2_SERVER_PEM "OpenVPN tls-crypt-v2 server key"
#define TC2_CLIENT_PEM "OpenVPN tls-crypt-v2 client key"

int
ovpn_tc2_server_pem(const uint8_t key[OVPN_TC2_SERVER_LEN], struct buf *out)
{
	return pem_encode(TC2_SERVER_PEM, key, OVPN_TC2_SERVER_LEN, out);
}

int
ovpn_tc2_server_parse(const char *pem, uint8_t key[OVPN_TC2_SERVER_LEN])
{
	uint8_t b[OVPN_TC2_SERVER_LEN + 4];
	size_t n;

	if (ovpn_pem_decode(pem, TC2_SERVER_PEM, b, sizeof(b), &n) < 0)
		return -1;
	if (n != OVPN_TC2_SERVER_LEN) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(key, b, n);
	mbedtls_platform_zeroize(b, sizeof(b));
	return 0;
}

/* AES-256-CTR with Ke, the 128-bit counter block starting at iv. */
static int
ctr(const uint8_t server[OVPN_TC2_SERVER_LEN], const uint8_t iv[16], const uint8_t *in,
    uint8_t *out, size_t n)
{
	mbedtls_aes_context aes;
	unsigned char nonce[16], block[16];
	size_t off = 0;
	int ret;

	mbedtls_aes_init(&aes);
	memcpy(nonce, iv, 16);
	ret = mbedtls_aes_setkey_enc(&aes, server, 256);
	if (ret == 0)
		ret = mbedtls_aes_crypt_ctr(&aes, n, &off, nonce, block, in, out);
	mbedtls_aes_free(&aes);
	mbedtls_platform_zeroize(block, sizeof(block));
	if (ret != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* T = HMAC-SHA256(Ka, len || plain) */
static void
tag(const uint8_t server[OVPN_TC2_SERVER_LEN], uint16_t len, const uint8_t *plain, size_t n,
    uint8_t t[32])
{
	uint8_t *m = malloc(n + 2);

	if (!m) {
		memset(t, 0, 32);
		return;
	}
	m[0] = (uint8_t)(len >> 8);
	m[1] = (uint8_t)len;
	memcpy(m + 2, plain, n);
	hash_hmac_sha256(server + 64, 32, m, n + 2, t);
	mbedtls_platform_zeroize(m, n + 2);
	free(m);
}

int
ovpn_tc2_client_pem(const uint8_t server[OVPN_TC2_SERVER_LEN], const uint8_t kc[OVPN_TC2_KC_LEN],
		    const uint8_t *meta, size_t metalen, struct buf *out)
{
	size_t plen = OVPN_TC2_KC_LEN + metalen, wlen = 32 + plen + 2;
	uint8_t *key, *plain;
	int rc = -1;

	if (wlen > OVPN_TC2_MAX_WKC) {
		errno = EMSGSIZE;
		return -1;
	}
	key = malloc(OVPN_TC2_KC_LEN + wlen);
	plain = malloc(plen);
	if (!key || !plain)
		goto out;
	memcpy(plain, kc, OVPN_TC2_KC_LEN);
	memcpy(plain + OVPN_TC2_KC_LEN, meta, metalen);
	/* Kc || WKc, WKc = T || CTR(Kc || metadata) || len */
	memcpy(key, kc, OVPN_TC2_KC_LEN);
	tag(server, (uint16_t)wlen, plain, plen, key + OVPN_TC2_KC_LEN);
	if (ctr(server, key + OVPN_TC2_KC_LEN, plain, key + OVPN_TC2_KC_LEN + 32, plen) < 0)
		goto out;
	key[OVPN_TC2_KC_LEN + wlen - 2] = (uint8_t)(wlen >> 8);
	key[OVPN_TC2_KC_LEN + wlen - 1] = (uint8_t)wlen;
	rc = pem_encode(TC2_CLIENT_PEM, key, OVPN_TC2_KC_LEN + wlen, out);
out:
	if (key)
		mbedtls_platform_zeroize(key, OVPN_TC2_KC_LEN + wlen);
	if (plain)
		mbedtls_platform_zeroize(plain, plen);
	free(key);
	free(plain);
	return rc;
}

int
ovpn_tc2_unwrap(const uint8_t server[OVPN_TC2_SERVER_LEN], const uint8_t *wkc, size_t len,
		uint8_t kc[OVPN_TC2_KC_LEN], uint8_t *meta, size_t *metalen)
{
	uint8_t plain[OVPN_TC2_MAX_WKC], t[32];
	size_t plen;

	if (len < 32 + OVPN_TC2_KC_LEN + 2 || len > OVPN_TC2_MAX_WKC ||
	    (size_t)(wkc[len - 2] << 8 | wkc[len - 1]) != len) {
		errno = EBADMSG;
		return -1;
	}
	plen = len - 32 - 2;
	if (ctr(server, wkc, wkc + 32, plain, plen) < 0)
		return -1;
	tag(server, (uint16_t)len, plain, plen, t);
	if (hash_equal(t, wkc, 32) != 0) {
		mbedtls_platform_zeroize(plain, sizeof(plain));
		errno = EBADMSG;
		return -1;
	}
	memcpy(kc, plain, OVPN_TC2_KC_LEN);
	*metalen = plen - OVPN_TC2_KC_LEN;
	memcpy(meta, plain + OVPN_TC2_KC_LEN, *metalen);
	mbedtls_platform_zeroize(plain, sizeof(plain));
	return 0;
}

/* ---- index ---- */

int
ovpn_index_load(const char *dir, struct ovpn_client **v, size_t *n, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	char path[4096], m[200];
	int rc;

	join(path, sizeof(path), dir, "index");
	if (fs_read_file(path, &b, 16 << 20) < 0) {
		if (errno == ENOENT)
			return str_err(err, errlen, ENOENT,
				      "%s: no such file (not made by lab vpn openvpn init?)", path);
		return syserr(err, errlen, path);
	}
	rc = ovpn_index_parse(buf_cstr(&b), b.len, v, n, m, sizeof(m));
	if (rc < 0 && errno == EINVAL)
		str_err(err, errlen, EINVAL, "%s: %s", path, m);
	else if (rc < 0)
		syserr(err, errlen, path);
	buf_free(&b);
	return rc;
}

static int
index_save(const char *dir, const struct ovpn_client *v, size_t n, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	char path[4096];
	size_t i;
	int rc;

	buf_adds(&b,
		 "# name serial not-before not-after revoked-at (unix seconds; 0: not revoked)\n");
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n", v[i].name,
			 v[i].serial, v[i].not_before, v[i].not_after, v[i].revoked);
	join(path, sizeof(path), dir, "index");
	rc = buf_err(&b) < 0 ? -1 : fs_write_atomic(path, b.data, b.len, 0644);
	if (rc < 0)
		syserr(err, errlen, path);
	buf_free(&b);
	return rc;
}

/* ---- files of the CA ---- */

static int
write_file(const char *dir, const char *name, const struct buf *b, mode_t mode, char *err,
	   size_t errlen)
{
	char path[4096];

	join(path, sizeof(path), dir, name);
	if (fs_write_atomic(path, b->data, b->len, mode) < 0)
		return syserr(err, errlen, path);
	return 0;
}

static int
load_key(const char *dir, const char *name, mbedtls_pk_context *pk, char *err, size_t errlen)
{
	char path[4096];
	int ret;

	join(path, sizeof(path), dir, name);
	if (access(path, R_OK) < 0)
		return syserr(err, errlen, path);
	ret = mbedtls_pk_parse_keyfile(pk, path, NULL);
	if (ret != 0)
		return str_err(err, errlen, EINVAL, "%s: not a private key (mbedTLS -0x%04x)", path,
			      (unsigned)-ret);
	return 0;
}

static int
load_crt(const char *dir, const char *name, mbedtls_x509_crt *c, char *err, size_t errlen)
{
	char path[4096];
	int ret;

	join(path, sizeof(path), dir, name);
	if (access(path, R_OK) < 0)
		return syserr(err, errlen, path);
	ret = mbedtls_x509_crt_parse_file(c, path);
	if (ret != 0)
		return str_err(err, errlen, EINVAL, "%s: not a certificate (mbedTLS -0x%04x)", path,
			      (unsigned)-ret);
	return 0;
}

static int
load_tc2(const char *dir, uint8_t key[OVPN_TC2_SERVER_LEN], char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	char path[4096];
	int rc;

	join(path, sizeof(path), dir, "tc2-server.key");
	if (fs_read_file(path, &b, 8192) < 0)
		return syserr(err, errlen, path);
	rc = ovpn_tc2_server_parse(buf_cstr(&b), key);
	if (rc < 0)
		str_err(err, errlen, EINVAL, "%s: not a tls-crypt-v2 server key", path);
	mbedtls_platform_zeroize(b.data, b.len);
	buf_free(&b);
	return rc;
}

static time_t
ca_end(const mbedtls_x509_crt *ca)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = ca->valid_to.year - 1900;
	tm.tm_mon = ca->valid_to.mon - 1;
	tm.tm_mday = ca->valid_to.day;
	tm.tm_hour = ca->valid_to.hour;
	tm.tm_min = ca->valid_to.min;
	tm.tm_sec = ca->valid_to.sec;
	return timegm(&tm);
}

/* A certificate and its key, issued by the CA (or the CA itself when ca
 * is NULL); keypem and crtpem get their PEM. */
static int
issue(enum x509ca_kind kind, const char *cn, mbedtls_pk_context *ca_key, const mbedtls_x509_crt *ca,
      unsigned days, struct buf *keypem, struct buf *crtpem, uint8_t serial[16], time_t *nb,
      time_t *na, mbedtls_pk_context *keyout)
{
	mbedtls_pk_context k, *key = keyout ? keyout : &k;
	struct x509ca_req r;
	time_t now = time(NULL);
	int rc = -1;

	mbedtls_pk_init(&k);
	memset(&r, 0, sizeof(r));
	if (x509ca_key_new(key) < 0 || x509ca_serial_new(r.serial) < 0)
		goto out;
	r.kind = kind;
	r.cn = cn;
	r.key = key;
	r.ca_key = ca ? ca_key : key;
	r.ca = ca;
	/* an hour back, for clocks a little behind */
	r.not_before = now - 3600;
	r.not_after = now + (time_t)days * 86400;
	/* never past the CA's own end */
	if (ca && r.not_after > ca_end(ca))
		r.not_after = ca_end(ca);
	if (x509ca_key_pem(key, keypem) < 0 || x509ca_issue(&r, crtpem) < 0)
		goto out;
	if (serial)
		memcpy(serial, r.serial, 16);
	if (nb)
		*nb = r.not_before;
	if (na)
		*na = r.not_after;
	rc = 0;
out:
	mbedtls_pk_free(&k);
	return rc;
}

/* The CRL of every revoked entry, signed now; crlnumber incremented. */
static int
write_crl(const char *dir, mbedtls_pk_context *ca_key, const mbedtls_x509_crt *ca,
	  const struct ovpn_client *v, size_t n, char *err, size_t errlen)
{
	struct x509ca_revoked *rv = calloc(n ? n : 1, sizeof(*rv));
	struct buf pem = BUF_INIT, num = BUF_INIT;
	char path[4096];
	uint64_t number = 0;
	size_t i, k = 0;
	time_t now = time(NULL), next;
	int rc = -1;

	if (!rv)
		return syserr(err, errlen, "CRL");
	join(path, sizeof(path), dir, "crlnumber");
	if (fs_read_file(path, &num, 64) == 0)
		str_to_u64(str_trim((char *)buf_cstr(&num)), 10, UINT64_MAX - 1, &number);
	number++;
	for (i = 0; i < n; i++) {
		if (!v[i].revoked)
			continue;
		if (hex_decode(v[i].serial, rv[k].serial, 16) != 16)
			continue;
		rv[k++].when = (time_t)v[i].revoked;
	}
	/*
	 * nextUpdate: openvpn (OpenSSL) refuses every client once a CRL has
	 * expired, so it lasts as long as the CA does.
	 */
	next = ca_end(ca);
	if (next <= now)
		next = now + 86400;
	if (x509ca_crl(ca_key, ca, rv, k, now, next, number, &pem) < 0) {
		syserr(err, errlen, "CRL");
		goto out;
	}
	if (write_file(dir, "crl.pem", &pem, 0644, err, errlen) < 0)
		goto out;
	buf_reset(&num);
	buf_addf(&num, "%" PRIu64 "\n", number);
	if (write_file(dir, "crlnumber", &num, 0644, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	free(rv);
	buf_free(&pem);
	buf_free(&num);
	return rc;
}

/* "10.8.0.0/24" -> "10.8.0.0 255.255.255.0" */
static void
net_mask(const char *cidr, char *out, size_t n)
{
	struct ipaddr ip, m;
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];

	ipaddr_parse(cidr, AF_INET, &ip);
	ipaddr_set_v4(&m, ip.plen ? 0xffffffffu << (32 - ip.plen) : 0, -1);
	snprintf(out, n, "%s %s", ipaddr_str_addr(&ip, a), ipaddr_str_addr(&m, b));
}

static int
server_conf(const char *dir, const struct ovpn_settings *s, int tcp, struct buf *b)
{
	char nm[80];
	size_t i;

	buf_addf(b, "# written by lab vpn openvpn init; lab vpn openvpn run starts it\n");
	buf_addf(b, "port %u\nproto %s\n", tcp ? s->tcp_port : s->udp_port,
		 tcp ? "tcp-server" : "udp");
	buf_adds(b, "dev tun\ntopology subnet\n");
	net_mask(tcp ? s->tcp_subnet : s->subnet, nm, sizeof(nm));
	buf_addf(b, "server %s\n", nm);
	buf_addf(b, "ca %s/ca.crt\ncert %s/server.crt\nkey %s/server.key\ndh none\n", dir, dir,
		 dir);
	buf_addf(b, "tls-crypt-v2 %s/tc2-server.key\n", dir);
	/* re-read by openvpn for every new connection when it changed */
	buf_addf(b, "crl-verify %s/crl.pem\n", dir);
	buf_adds(b, "remote-cert-tls client\ntls-version-min 1.2\n");
	buf_addf(b, "data-ciphers %s\n", CIPHERS);
	buf_adds(b, "keepalive 10 60\npersist-key\npersist-tun\n");
	buf_addf(b, "status %s/status-%s.log 5\nstatus-version 2\n", dir, tcp ? "tcp" : "udp");
	if (!tcp)
		buf_adds(b, "explicit-exit-notify 1\n");
	/* for revoke to drop live sessions; only where the socket's path fits */
	if (strlen(dir) + sizeof("/mgmt-udp.sock") <= sizeof(((struct sockaddr_un *)0)->sun_path))
		buf_addf(b, "management %s/mgmt-%s.sock unix\n", dir, tcp ? "tcp" : "udp");
	for (i = 0; i < s->nroutes; i++) {
		net_mask(s->routes[i], nm, sizeof(nm));
		buf_addf(b, "push \"route %s\"\n", nm);
	}
	buf_adds(b, "verb 3\n");
	return buf_err(b);
}

/* Remove what init put in tmp (files, clients/) and tmp itself. */
static void
remove_tree(const char *tmp)
{
	char **names = NULL, path[4096];
	size_t n = 0, i;

	join(path, sizeof(path), tmp, "clients");
	rmdir(path);
	if (fs_list(tmp, &names, &n) == 0) {
		for (i = 0; i < n; i++) {
			join(path, sizeof(path), tmp, names[i]);
			unlink(path);
		}
		fs_list_free(names, n);
	}
	join(path, sizeof(path), tmp, ".lock");
	unlink(path);
	rmdir(tmp);
}

int
ovpn_init(const char *dir, const struct ovpn_settings *s, char *err, size_t errlen)
{
	char tmp[4096], path[4096], parent[4096], *slash;
	mbedtls_pk_context cak;
	mbedtls_x509_crt ca;
	struct buf b = BUF_INIT, k = BUF_INIT;
	uint8_t tc2[OVPN_TC2_SERVER_LEN], rnd[4];
	char cn[64], hex[9];
	struct stat st;
	int rc = -1, made = 0;

	mbedtls_pk_init(&cak);
	mbedtls_x509_crt_init(&ca);
	if (ovpn_settings_check(s, err, errlen) < 0)
		return -1;
	if (dir[0] != '/' || strpbrk(dir, " \t\r\n\"'#;\\") || strlen(dir) > 3000)
		return str_err(err, errlen, EINVAL,
			      "%s: an absolute path without spaces, quotes, # or ; (openvpn's "
			      "configuration names its files by it)",
			      dir);
	join(path, sizeof(path), dir, "ca.crt");
	if (stat(path, &st) == 0)
		return str_err(err, errlen, EEXIST,
			      "%s: already holds a CA (ca.crt); remove it or use another --dir",
			      dir);
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return str_err(err, errlen, ENOTDIR, "%s: not a directory", dir);
	str_copy(parent, dir, sizeof(parent));
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	else
		str_copy(parent, "/", sizeof(parent));
	if (fs_mkdir_p(parent, 0755) < 0)
		return syserr(err, errlen, parent);
	snprintf(tmp, sizeof(tmp), "%s.init-%d", dir, (int)getpid());
	if (mkdir(tmp, 0700) < 0)
		return syserr(err, errlen, tmp);
	made = 1;
	join(path, sizeof(path), tmp, "clients");
	if (mkdir(path, 0700) < 0) {
		syserr(err, errlen, path);
		goto out;
	}
	/* the CA: a name of its own, so two labs' CAs never look alike */
	if (rand_bytes(rnd, sizeof(rnd)) < 0) {
		syserr(err, errlen, "getrandom");
		goto out;
	}
	hex_encode(rnd, sizeof(rnd), hex);
	snprintf(cn, sizeof(cn), "lab OpenVPN CA %s", hex);
	if (issue(X509CA_CA, cn, NULL, NULL, CA_DAYS, &k, &b, NULL, NULL, NULL, &cak) < 0) {
		syserr(err, errlen, "CA");
		goto out;
	}
	if (write_file(tmp, "ca.key", &k, 0600, err, errlen) < 0 ||
	    write_file(tmp, "ca.crt", &b, 0644, err, errlen) < 0)
		goto out;
	if (mbedtls_x509_crt_parse(&ca, (const unsigned char *)buf_cstr(&b), b.len + 1) != 0) {
		str_err(err, errlen, EINVAL, "CA: the new certificate does not parse");
		goto out;
	}
	mbedtls_platform_zeroize(k.data, k.len);
	buf_reset(&k);
	buf_reset(&b);
	if (issue(X509CA_SERVER, "server", &cak, &ca, SERVER_DAYS, &k, &b, NULL, NULL, NULL, NULL) <
	    0) {
		syserr(err, errlen, "server certificate");
		goto out;
	}
	if (write_file(tmp, "server.key", &k, 0600, err, errlen) < 0 ||
	    write_file(tmp, "server.crt", &b, 0644, err, errlen) < 0)
		goto out;
	mbedtls_platform_zeroize(k.data, k.len);
	buf_reset(&k);
	buf_reset(&b);
	if (rand_bytes(tc2, sizeof(tc2)) < 0 || ovpn_tc2_server_pem(tc2, &k) < 0) {
		syserr(err, errlen, "tls-crypt-v2 server key");
		goto out;
	}
	if (write_file(tmp, "tc2-server.key", &k, 0600, err, errlen) < 0)
		goto out;
	if (write_crl(tmp, &cak, &ca, NULL, 0, err, errlen) < 0 ||
	    index_save(tmp, NULL, 0, err, errlen) < 0)
		goto out;
	if (settings_text(s, &b) < 0 || write_file(tmp, "settings", &b, 0644, err, errlen) < 0)
		goto out;
	buf_reset(&b);
	if (s->udp && (server_conf(dir, s, 0, &b) < 0 ||
		       write_file(tmp, "server-udp.conf", &b, 0644, err, errlen) < 0))
		goto out;
	buf_reset(&b);
	if (s->tcp && (server_conf(dir, s, 1, &b) < 0 ||
		       write_file(tmp, "server-tcp.conf", &b, 0644, err, errlen) < 0))
		goto out;
	/* in place at once: an empty dir is replaced, anything else refused */
	if (rename(tmp, dir) < 0) {
		int e = errno;

		join(path, sizeof(path), dir, "ca.crt");
		/* another init got there first */
		if ((e == ENOTEMPTY || e == EEXIST) && stat(path, &st) == 0)
			str_err(err, errlen, EEXIST,
			       "%s: already holds a CA (ca.crt); remove it or use another --dir",
			       dir);
		else if (e == ENOTEMPTY || e == EEXIST)
			str_err(err, errlen, ENOTEMPTY,
			       "%s: not empty, and not a lab openvpn directory; use another --dir",
			       dir);
		else
			str_err(err, errlen, e, "%s: %s", dir, strerror(e));
		goto out;
	}
	made = 0;
	chmod(dir, 0700);
	fs_fsync_dir(dir);
	rc = 0;
out:
	if (made)
		remove_tree(tmp);
	mbedtls_platform_zeroize(tc2, sizeof(tc2));
	if (k.data)
		mbedtls_platform_zeroize(k.data, k.len);
	buf_free(&k);
	buf_free(&b);
	mbedtls_x509_crt_free(&ca);
	mbedtls_pk_free(&cak);
	return rc;
}

/* ---- clients ---- */

/* "host", "host:port", "[v6]:port", "[v6]" or a bare v6 address. */
static int
split_remote(const char *r, char *host, size_t hl, unsigned *port)
{
	const char *c;
	uint32_t p;

	*port = 0;
	if (r[0] == '[') {
		const char *e = strchr(r, ']');

		if (!e || (size_t)(e - r - 1) >= hl || e == r + 1)
			return -1;
		memcpy(host, r + 1, (size_t)(e - r - 1));
		host[e - r - 1] = '\0';
		if (!e[1])
			return 0;
		if (e[1] != ':')
			return -1;
		c = e + 1;
	} else {
		c = strrchr(r, ':');
		if (c && strchr(r, ':') != c)
			c = NULL; /* a bare IPv6 address */
		if (str_copy(host, r, hl) >= hl)
			return -1;
		if (c)
			host[c - r] = '\0';
	}
	if (c) {
		if (str_to_u32(c + 1, 65535, &p) < 0 || p == 0)
			return -1;
		*port = p;
	}
	if (!host[0] || strpbrk(host, " \t\r\n\"'#;\\/"))
		return -1;
	return 0;
}

static int
lock_dir(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	int fd;

	join(path, sizeof(path), dir, "settings");
	if (stat(dir, &st) < 0)
		return str_err(err, errlen, errno, "%s: %s (run lab vpn openvpn init first)", dir,
			      strerror(errno));
	if (stat(path, &st) < 0)
		return str_err(
		    err, errlen, ENOENT,
		    "%s: not a lab openvpn directory (no settings; run lab vpn openvpn init)", dir);
	join(path, sizeof(path), dir, ".lock");
	fd = fs_lock(path, 0);
	if (fd < 0)
		return syserr(err, errlen, path);
	return fd;
}

static void
add_inline(struct buf *b, const char *tag, const struct buf *content)
{
	buf_addf(b, "<%s>\n", tag);
	buf_add(b, content->data, content->len);
	if (content->len && content->data[content->len - 1] != '\n')
		buf_addc(b, '\n');
	buf_addf(b, "</%s>\n", tag);
}

int
ovpn_client_new(const char *dir, const char *name, const char *remote, const char *proto,
		char *path, size_t pathlen, char *err, size_t errlen)
{
	struct ovpn_settings s;
	struct ovpn_client *v = NULL, *nv;
	size_t n = 0, i;
	mbedtls_pk_context cak;
	mbedtls_x509_crt ca;
	struct buf key = BUF_INIT, crt = BUF_INIT, tc2 = BUF_INIT, cab = BUF_INIT, ovpn = BUF_INIT;
	uint8_t srv[OVPN_TC2_SERVER_LEN], kc[OVPN_TC2_KC_LEN], meta[9], serial[16];
	char host[256], p[4096], cdir[4096], files[3][4096];
	unsigned port;
	time_t nb, na;
	int64_t now = (int64_t)time(NULL);
	int lock, rc = -1, written = 0, udp, tcp, e;

	mbedtls_pk_init(&cak);
	mbedtls_x509_crt_init(&ca);
	memset(srv, 0, sizeof(srv));
	memset(kc, 0, sizeof(kc));
	if (!ovpn_name_ok(name))
		return str_err(err, errlen, EINVAL,
			      "%s: not a client name (1 to 64 of A-Z a-z 0-9 . _ -, not starting "
			      "with . or -, not \"server\")",
			      name);
	lock = lock_dir(dir, err, errlen);
	if (lock < 0)
		return -1;
	if (ovpn_settings_load(dir, &s, err, errlen) < 0)
		goto out;
	udp = s.udp && (!proto || !strcmp(proto, "udp"));
	tcp = s.tcp && (!proto || !strcmp(proto, "tcp"));
	if (proto && strcmp(proto, "udp") && strcmp(proto, "tcp")) {
		str_err(err, errlen, EINVAL, "--proto %s: udp or tcp", proto);
		goto out;
	}
	if (!udp && !tcp) {
		str_err(err, errlen, EINVAL, "--proto %s: this server has no %s instance", proto,
		       proto);
		goto out;
	}
	if (!remote && !s.remote[0]) {
		str_err(err, errlen, EINVAL,
		       "no --remote HOST[:PORT] given, and init was given none either");
		goto out;
	}
	if (split_remote(remote ? remote : s.remote, host, sizeof(host), &port) < 0) {
		str_err(err, errlen, EINVAL, "--remote %s: expected HOST, HOST:PORT or [IPV6]:PORT",
		       remote ? remote : s.remote);
		goto out;
	}
	if (ovpn_index_load(dir, &v, &n, err, errlen) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, name) && !v[i].revoked) {
			str_err(err, errlen, EEXIST,
			       "%s: already has a certificate (serial %s); revoke it first", name,
			       v[i].serial);
			goto out;
		}
	if (load_key(dir, "ca.key", &cak, err, errlen) < 0 ||
	    load_crt(dir, "ca.crt", &ca, err, errlen) < 0 || load_tc2(dir, srv, err, errlen) < 0)
		goto out;
	join(p, sizeof(p), dir, "ca.crt");
	if (fs_read_file(p, &cab, 1 << 16) < 0) {
		syserr(err, errlen, p);
		goto out;
	}
	if (issue(X509CA_CLIENT, name, &cak, &ca, s.days, &key, &crt, serial, &nb, &na, NULL) < 0) {
		syserr(err, errlen, name);
		goto out;
	}
	/* metadata TIMESTAMP (type 1, 64-bit network order), as openvpn --genkey writes */
	meta[0] = 1;
	for (i = 0; i < 8; i++)
		meta[1 + i] = (uint8_t)((uint64_t)now >> (56 - 8 * i));
	if (rand_bytes(kc, sizeof(kc)) < 0 || ovpn_tc2_client_pem(srv, kc, meta, 9, &tc2) < 0) {
		syserr(err, errlen, "tls-crypt-v2 client key");
		goto out;
	}
	buf_addf(&ovpn, "# %s: lab vpn openvpn client %s\n", name, name);
	buf_adds(&ovpn, "client\ndev tun\nnobind\n");
	if (udp)
		buf_addf(&ovpn, "remote %s %u udp\n", host, port ? port : s.udp_port);
	if (tcp)
		buf_addf(&ovpn, "remote %s %u tcp-client\n", host, port ? port : s.tcp_port);
	buf_adds(&ovpn, "remote-cert-tls server\ntls-version-min 1.2\n");
	buf_addf(&ovpn, "data-ciphers %s\n", CIPHERS);
	buf_adds(&ovpn, "persist-key\npersist-tun\nverb 3\n");
	add_inline(&ovpn, "ca", &cab);
	add_inline(&ovpn, "cert", &crt);
	add_inline(&ovpn, "key", &key);
	add_inline(&ovpn, "tls-crypt-v2", &tc2);
	if (buf_err(&ovpn) < 0) {
		syserr(err, errlen, name);
		goto out;
	}
	join(cdir, sizeof(cdir), dir, "clients");
	if (fs_mkdir_p(cdir, 0700) < 0) {
		syserr(err, errlen, cdir);
		goto out;
	}
	snprintf(files[0], sizeof(files[0]), "%.3000s/%.64s.key", cdir, name);
	snprintf(files[1], sizeof(files[1]), "%.3000s/%.64s.crt", cdir, name);
	snprintf(files[2], sizeof(files[2]), "%.3000s/%.64s.ovpn", cdir, name);
	if (fs_write_atomic(files[0], key.data, key.len, 0600) < 0) {
		syserr(err, errlen, files[0]);
		goto out;
	}
	written = 1;
	if (fs_write_atomic(files[1], crt.data, crt.len, 0644) < 0) {
		syserr(err, errlen, files[1]);
		goto out;
	}
	written = 2;
	if (fs_write_atomic(files[2], ovpn.data, ovpn.len, 0600) < 0) {
		syserr(err, errlen, files[2]);
		goto out;
	}
	written = 3;
	nv = realloc(v, (n + 1) * sizeof(*v));
	if (!nv) {
		syserr(err, errlen, "index");
		goto out;
	}
	v = nv;
	memset(&v[n], 0, sizeof(v[n]));
	str_copy(v[n].name, name, sizeof(v[n].name));
	hex_encode(serial, 16, v[n].serial);
	v[n].not_before = nb;
	v[n].not_after = na;
	if (index_save(dir, v, n + 1, err, errlen) < 0)
		goto out;
	str_copy(path, files[2], pathlen);
	written = 0;
	rc = 0;
out:
	e = errno;
	while (written > 0)
		unlink(files[--written]);
	mbedtls_platform_zeroize(srv, sizeof(srv));
	mbedtls_platform_zeroize(kc, sizeof(kc));
	if (key.data)
		mbedtls_platform_zeroize(key.data, key.len);
	if (ovpn.data)
		mbedtls_platform_zeroize(ovpn.data, ovpn.len);
	if (tc2.data)
		mbedtls_platform_zeroize(tc2.data, tc2.len);
	buf_free(&key);
	buf_free(&crt);
	buf_free(&tc2);
	buf_free(&cab);
	buf_free(&ovpn);
	free(v);
	mbedtls_x509_crt_free(&ca);
	mbedtls_pk_free(&cak);
	fs_unlock(lock);
	errno = e;
	return rc;
}

int
ovpn_revoke(const char *dir, const char *name, char *err, size_t errlen)
{
	struct ovpn_client *v = NULL;
	size_t n = 0, i, hit = (size_t)-1;
	mbedtls_pk_context cak;
	mbedtls_x509_crt ca;
	int lock, rc = -1, known = 0;

	mbedtls_pk_init(&cak);
	mbedtls_x509_crt_init(&ca);
	lock = lock_dir(dir, err, errlen);
	if (lock < 0)
		return -1;
	if (ovpn_index_load(dir, &v, &n, err, errlen) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, name)) {
			known = 1;
			if (!v[i].revoked)
				hit = i;
		}
	if (hit == (size_t)-1) {
		str_err(err, errlen, known ? EALREADY : ENOENT,
		       known ? "%s: already revoked" : "%s: no such client", name);
		goto out;
	}
	if (load_key(dir, "ca.key", &cak, err, errlen) < 0 ||
	    load_crt(dir, "ca.crt", &ca, err, errlen) < 0)
		goto out;
	v[hit].revoked = (int64_t)time(NULL);
	/* the CRL first: if the index cannot follow, a second revoke signs it again */
	if (write_crl(dir, &cak, &ca, v, n, err, errlen) < 0 ||
	    index_save(dir, v, n, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	free(v);
	mbedtls_x509_crt_free(&ca);
	mbedtls_pk_free(&cak);
	fs_unlock(lock);
	return rc;
}

/* A line from the management socket into line (without CR LF), waiting
 * until deadline (monotonic ms). 0, or -1 (ETIMEDOUT, or the peer went). */
static int
mgmt_line(int fd, struct buf *in, char *line, size_t n, uint64_t deadline)
{
	for (;;) {
		char *nl = in->len ? memchr(in->data, '\n', in->len) : NULL;
		struct pollfd p = {fd, POLLIN, 0};
		char b[512];
		ssize_t r;
		int64_t left;

		if (nl) {
			size_t l = (size_t)(nl - in->data);

			if (l && in->data[l - 1] == '\r')
				l--;
			if (l >= n)
				l = n - 1;
			memcpy(line, in->data, l);
			line[l] = '\0';
			buf_consume(in, (size_t)(nl - in->data) + 1);
			return 0;
		}
		left = (int64_t)(deadline - mono_ms());
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = read(fd, b, sizeof(b));
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		if (buf_add(in, b, (size_t)r) < 0 || in->len > 65536)
			return -1;
	}
}

int
ovpn_mgmt_kill(const char *dir, const char *proto, const char *name, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct buf in = BUF_INIT;
	char line[512], cmd[128];
	uint64_t deadline = mono_ms() + 5000;
	int fd, rc = -1;
	unsigned count;

	if (!ovpn_name_ok(name))
		return str_err(err, errlen, EINVAL, "%s: not a client name", name);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/mgmt-%s.sock", dir, proto) >=
	    sizeof(sa.sun_path))
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return syserr(err, errlen, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* no openvpn there (a socket left by one that died is refused) */
		rc =
		    errno == ENOENT || errno == ECONNREFUSED ? 0 : syserr(err, errlen, sa.sun_path);
		goto out;
	}
	snprintf(cmd, sizeof(cmd), "kill %s\r\n", name);
	if (fs_write_full(fd, cmd, strlen(cmd)) < 0) {
		syserr(err, errlen, sa.sun_path);
		goto out;
	}
	/* ">INFO:..." and other notifications first; then the answer:
	 * "SUCCESS: common name 'bob' found, 1 client(s) killed", or
	 * "ERROR: common name 'bob' not found" */
	for (;;) {
		if (mgmt_line(fd, &in, line, sizeof(line), deadline) < 0) {
			syserr(err, errlen, sa.sun_path);
			goto out;
		}
		if (!strncmp(line, "ERROR:", 6)) {
			rc = 0;
			break;
		}
		if (!strncmp(line, "SUCCESS:", 8)) {
			const char *f = strstr(line, "found, ");

			rc = f && sscanf(f + 7, "%u", &count) == 1 ? (int)count : 1;
			break;
		}
	}
	fs_write_full(fd, "quit\r\n", 6);
out:
	close(fd);
	buf_free(&in);
	return rc;
}
