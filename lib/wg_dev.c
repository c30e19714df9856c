/* A WireGuard interface over TUN, served from one thread (lib/wg_dev.h). */
#include "wg_dev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ev.h"
#include "hash.h"
#include "ipaddr.h"
#include "iptrie.h"
#include "nl.h"
#include "nl_route.h"
#include "tso.h"
#include "tun.h"
#include "workpool.h"
#include <pthread.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <netinet/udp.h>
#include "wg_noise.h"
#include "x25519.h"

#define MAX_ALLOWED 32
#define BATCH 32			/* TUN reads, socket receives per turn */
#define OUT_BATCH 256			/* messages gathered for one sendmmsg */
#define GSO_MAX 64			/* segments in one UDP GSO send */
#define MSG_MAX (WG_DATA_HEAD + 2048 + WG_TAG)
#define RECV_MAX 65536			/* one receive: a datagram, or a GRO train of them */
#define RETRY_MS 5000			/* REKEY_TIMEOUT, plus up to 333 ms of jitter */
#define ATTEMPT_MS (90 * 1000)		/* REKEY_ATTEMPT_TIME: then the queued packet goes */
#define KEEPALIVE_MS 10000		/* KEEPALIVE_TIMEOUT */
#define REKEY_AFTER_MESSAGES (1ull << 60)
#define REJECT_AFTER_MESSAGES (~0ull - (1ull << 13))
#define COOKIE_SECRET_MS (120 * 1000)
/* under load: more handshake messages than this in one second */
#define LOAD_PER_SECOND 64

struct session {
	struct wg_session s;
	int valid, confirmed;	/* a responder's session waits for the first data */
	uint64_t born;
	uint64_t max_ctr, window;	/* replay: the highest counter and the 64 below */
	int seen_any;
};

struct peer {
	uint8_t pub[32], psk[32];
	struct ipaddr allowed[MAX_ALLOWED];
	int nallowed;
	struct sockaddr_storage ep;
	socklen_t eplen;
	char ep_name[256];		/* an Endpoint given by name, re-resolved */
	struct in6_addr src;		/* our address the peer reached (v4-mapped for IPv4), */
	int has_src;			/* which answers go out from: "sticky" on a multi-homed host */
	uint8_t sent_mac1[16];		/* of our last initiation, for its cookie reply */
	uint8_t cookie[WG_COOKIE];	/* the peer's, when it is under load */
	uint64_t cookie_at;
	int keepalive;			/* seconds, 0 off */
	struct wg_handshake hs;
	int hs_active, we_initiated;
	uint64_t hs_sent;
	struct session cur, prev;
	uint8_t last_ts[12];
	uint8_t queued[2048];
	size_t queued_len;
	uint64_t last_sent;
	uint64_t retry_ms, hs_first;	/* this attempt's jittered retry, the first attempt */
	uint64_t last_recv;		/* the last data (not a keepalive) received */
	uint64_t unanswered;		/* data sent since nothing came back, or 0 */
	uint64_t rx, tx;		/* bytes on the wire, as wg show counts them */
	struct timespec last_hs;	/* wall clock of the last finished handshake */
	int removed;
};

/* One message to seal or open on the pool's threads. */
struct cjob {
	uint8_t key[32];		/* seal: the session's send key */
	const struct wg_session *s;	/* open: the session it names */
	uint8_t *msg;
	size_t len;
	long res;			/* open: the packet's length, -1 forged, -2 not data */
	uint64_t ctr;
	size_t peer;
	int which, from;
	uint32_t s_index;
};

#define OPEN_MAX (BATCH * 64)
#define POOL_MIN 8			/* fewer messages are sealed or opened in the caller */		/* messages in one receive batch (GRO trains) */

/* Messages gathered for sendmmsg; runs of equal size to one address go
 * as one UDP GSO send (one trip through the stack for up to 64). */
struct out_batch {
	uint8_t buf[OUT_BATCH][MSG_MAX];
	struct iovec iov[OUT_BATCH];
	struct sockaddr_storage addr[OUT_BATCH];
	socklen_t addrlen[OUT_BATCH];
	struct mmsghdr mh[OUT_BATCH];
	struct in6_addr src[OUT_BATCH];
	int has_src[OUT_BATCH];
	union {
		char b[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl[OUT_BATCH];
	int n;
};

/* What one recvmmsg gets: with UDP GRO, each entry may be a train of
 * datagrams of gso_size bytes (the last shorter). */
struct in_batch {
	uint8_t buf[BATCH][RECV_MAX];
	struct iovec iov[BATCH];
	struct sockaddr_storage addr[BATCH];
	struct mmsghdr mh[BATCH];
	union {
		char b[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		       CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl[BATCH];
	struct in6_addr local[BATCH];	/* the address each came to */
	int has_local[BATCH];
};

/* Names of endpoints being resolved on a thread of their own: the control
 * thread fills q and starts it when not busy, and takes the answers when
 * done is set. */
#define RESOLVE_MAX 64
struct resolving {
	struct {
		uint8_t pub[32];
		char name[256];
		struct sockaddr_storage ss;
		socklen_t len;
		int ok;
	} q[RESOLVE_MAX];
	int n;
	int busy, done;		/* done: atomics */
	pthread_t t;
};

struct wg_dev {
	struct wg_identity me;
	struct out_batch out;
	struct in_batch *in;
	struct in6_addr rx_local;	/* the address the message being read came to */
	int rx_has_local;
	int batching, gso;
	uint8_t tunbuf[TSO_VNET_HDR + 65536], seg[65536];	/* super-packets from TUN */
	struct tso_gro train;					/* and to it */
	struct workpool *pool;
	struct cjob seal[OUT_BATCH], open[OPEN_MAX];
	int nseal, nopen;
	int no_gro;
	int listen_port, mtu;
	struct ipaddr addrs[8];
	int naddrs;
	uint32_t fwmark;
	int table;			/* -1 off, 0 main (auto), else the table */
	int policy[2];			/* IPv4, IPv6: wg-quick's rules for a default route set */
	char *scripts[WG_POST_DOWN + 1][8];
	char *dns[8];
	int nscripts[WG_POST_DOWN + 1], ndns;
	uint64_t rekey_ms, reject_ms;
	uint64_t reresolve_ms;		/* names of silent peers' endpoints, resolved again */
	long stale_s;			/* silent: no handshake for this long */
	uint8_t cookie_secret[32];
	uint64_t cookie_secret_at;
	uint64_t load_window_at;
	unsigned load_count;
	int under_load;
	uint64_t cookies_sent;
	uint64_t resolved_at;
	struct resolving rs;
	struct iptrie trie;
	int trie_dirty;
	struct peer *p;
	size_t np;
	int tun, udp, uapi;
	char name[IFNAMSIZ];
	char sock[128];
	char err[512];
};

__attribute__((format(printf, 2, 3))) static int
derr(struct wg_dev *d, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	errno = e ? e : EINVAL;
	return -1;
}

static void v4_mapped(struct sockaddr_storage *ss, socklen_t *len);
static int tun_write(struct wg_dev *d, const uint8_t *pkt, size_t n);
static void deliver(struct wg_dev *d, const uint8_t *pkt, size_t n);
static void opened(struct wg_dev *d, struct peer *p, struct session *ss, int j, uint8_t *msg, long l, uint64_t ctr,
		   const struct sockaddr_storage *from, socklen_t flen);
static void gro_flush(struct wg_dev *d);
static long env_seconds(const char *name, long dflt);

static int
endpoint_of(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256], *colon;
	struct addrinfo hints, *res;

	str_copy(host, s[0] == '[' ? s + 1 : s, sizeof(host));
	colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	if (colon > host && colon[-1] == ']')
		colon[-1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
is_numeric_endpoint(const char *v)
{
	struct ipaddr a;
	char host[256], *colon;

	str_copy(host, v[0] == '[' ? v + 1 : v, sizeof(host));
	colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	if (colon && colon > host && colon[-1] == ']')
		colon[-1] = '\0';
	return ipaddr_parse(host, AF_UNSPEC, &a) == 0;
}

/* Parse the wg-quick file. */
static int
load(struct wg_dev *d, const char *file)
{
	struct conf c;
	struct conf_err err;
	size_t i, j;
	int have_key = 0, rc = -1;

	if (conf_load(&c, file, CONF_INLINE_COMMENTS, &err) < 0)
		return derr(d, "%s:%d: %s", err.file, err.line, err.msg);
	d->mtu = 1420;
	for (i = 0; i < c.nsect; i++) {
		const struct conf_section *s = &c.sect[i];
		int iface = !strcasecmp(s->name, "Interface");
		struct peer *p = NULL;

		if (!iface && strcasecmp(s->name, "Peer")) {
			derr(d, "%s:%d: [%s]: expected [Interface] or [Peer]", file, s->line, s->name);
			goto out;
		}
		if (!iface) {
			struct peer *np = realloc(d->p, (d->np + 1) * sizeof(*d->p));

			if (!np) {
				derr(d, "out of memory");
				goto out;
			}
			d->p = np;
			p = &d->p[d->np++];
			memset(p, 0, sizeof(*p));
		}
		for (j = 0; j < s->nkv; j++) {
			const char *k = s->kv[j].key, *v = s->kv[j].val;
			int line = s->kv[j].line;

			if (iface && !strcasecmp(k, "PrivateKey")) {
				if (wg_key_decode(v, d->me.priv) < 0 || x25519_public(d->me.pub, d->me.priv) < 0) {
					derr(d, "%s:%d: PrivateKey: not a WireGuard key", file, line);
					goto out;
				}
				have_key = 1;
			} else if (iface && !strcasecmp(k, "ListenPort")) {
				d->listen_port = atoi(v);
				if (d->listen_port < 0 || d->listen_port > 65535) {
					derr(d, "%s:%d: ListenPort: 0-65535", file, line);
					goto out;
				}
			} else if (iface && !strcasecmp(k, "MTU")) {
				d->mtu = atoi(v);
				if (d->mtu < 576 || d->mtu > 9000) {
					derr(d, "%s:%d: MTU: 576-9000", file, line);
					goto out;
				}
			} else if (iface && !strcasecmp(k, "Address")) {
				if (ipaddr_parse_list(v, d->addrs, 8, &d->naddrs) < 0) {
					derr(d, "%s:%d: Address %s: addresses with their prefixes (8 at most)", file,
					     line, v);
					goto out;
				}
			} else if (iface && !strcasecmp(k, "FwMark")) {
				char *end;

				d->fwmark = !strcmp(v, "off") ? 0 : (uint32_t)strtoul(v, &end, 0);
				if (strcmp(v, "off") && *end) {
					derr(d, "%s:%d: FwMark %s: a number or off", file, line, v);
					goto out;
				}
			} else if (iface && !strcasecmp(k, "Table")) {
				char *end;
				long t = strtol(v, &end, 10);

				if (!strcasecmp(v, "off"))
					d->table = -1;
				else if (!strcasecmp(v, "auto") || !strcasecmp(v, "main"))
					d->table = 0;
				else if (*end || t < 1 || t > 0x7fffffff) {
					derr(d, "%s:%d: Table %s: off, auto, main or a table number", file, line, v);
					goto out;
				} else
					d->table = (int)t;
			} else if (iface && (!strcasecmp(k, "PreUp") || !strcasecmp(k, "PostUp") ||
					     !strcasecmp(k, "PreDown") || !strcasecmp(k, "PostDown"))) {
				int w = !strcasecmp(k, "PreUp") ? WG_PRE_UP : !strcasecmp(k, "PostUp") ? WG_POST_UP :
					!strcasecmp(k, "PreDown") ? WG_PRE_DOWN : WG_POST_DOWN;

				if (d->nscripts[w] >= 8) {
					derr(d, "%s:%d: %s: 8 at most", file, line, k);
					goto out;
				}
				if (!(d->scripts[w][d->nscripts[w]++] = strdup(v))) {
					derr(d, "out of memory");
					goto out;
				}
			} else if (iface && !strcasecmp(k, "DNS")) {
				char *copy = strdup(v), *t, *save = NULL;

				for (t = copy ? strtok_r(copy, ", ", &save) : NULL; t; t = strtok_r(NULL, ", ", &save))
					if (d->ndns < 8 && !(d->dns[d->ndns++] = strdup(t)))
						break;
				free(copy);
			} else if (iface && !strcasecmp(k, "SaveConfig")) {
				if (strcasecmp(v, "false")) {
					derr(d, "%s:%d: SaveConfig: lab vpn does not write the file back (use wg showconf)",
					     file, line);
					goto out;
				}
			} else if (!iface && !strcasecmp(k, "PublicKey")) {
				if (wg_key_decode(v, p->pub) < 0) {
					derr(d, "%s:%d: PublicKey: not a WireGuard key", file, line);
					goto out;
				}
			} else if (!iface && !strcasecmp(k, "PresharedKey")) {
				if (wg_key_decode(v, p->psk) < 0) {
					derr(d, "%s:%d: PresharedKey: not a WireGuard key", file, line);
					goto out;
				}
			} else if (!iface && !strcasecmp(k, "AllowedIPs")) {
				if (ipaddr_parse_list(v, p->allowed, MAX_ALLOWED, &p->nallowed) < 0) {
					derr(d, "%s:%d: AllowedIPs %s: prefixes (%d at most)", file, line, v, MAX_ALLOWED);
					goto out;
				}
			} else if (!iface && !strcasecmp(k, "Endpoint")) {
				if (endpoint_of(v, &p->ep, &p->eplen) < 0) {
					derr(d, "%s:%d: Endpoint %s: HOST:PORT (a name that resolves)", file, line, v);
					goto out;
				}
				if (!is_numeric_endpoint(v))
					str_copy(p->ep_name, v, sizeof(p->ep_name));
			} else if (!iface && !strcasecmp(k, "PersistentKeepalive")) {
				p->keepalive = !strcmp(v, "off") ? 0 : atoi(v);
			} else {
				derr(d, "%s:%d: %s: not a key of [%s]", file, line, k, iface ? "Interface" : "Peer");
				goto out;
			}
		}
	}
	if (!have_key) {
		derr(d, "%s: no [Interface] PrivateKey", file);
		goto out;
	}
	rc = 0;
out:
	conf_free(&c);
	return rc;
}

static int
talk(struct wg_dev *d, struct nl_sock *nl, struct nl_buf *b, const char *what)
{
	struct nl_err err;
	char e[300];

	if (nl_talk(nl, b, NULL, NULL, &err) < 0 && err.errnum != EEXIST) {
		nl_buf_reset(b);
		errno = err.errnum;
		return derr(d, "%s: %s: %s", d->name, what, nl_strerror(&err, e, sizeof(e)));
	}
	nl_buf_reset(b);
	return 0;
}

/* wg-quick's full tunnel, for one family: the socket's packets carry the
 * mark (51820 unless FwMark says), "not fwmark M lookup M" and "lookup
 * main suppress_prefixlength 0" (the main table's routes but its default),
 * removed again at close. */
static int
policy_routing(struct wg_dev *d, struct nl_sock *nl, struct nl_buf *b, int family)
{
	struct nl_rule_spec r;
	int v6 = family == AF_INET6;

	if (d->policy[v6])
		return 0;
	if (!d->fwmark) {
		d->fwmark = 51820;
		if (setsockopt(d->udp, SOL_SOCKET, SO_MARK, &d->fwmark, sizeof(d->fwmark)) < 0)
			return derr(d, "%s: fwmark %u: %s", d->name, d->fwmark, strerror(errno));
	}
	memset(&r, 0, sizeof(r));
	r.family = family;
	r.table = d->fwmark;
	r.has_fwmark = 1;
	r.fwmark = d->fwmark;
	r.invert = 1;
	r.suppress_plen = -1;
	nl_rule_add(b, &r);
	if (talk(d, nl, b, "rule not fwmark") < 0)
		return -1;
	d->policy[v6] = 1;
	memset(&r, 0, sizeof(r));
	r.family = family;
	r.table = RT_TABLE_MAIN;
	r.suppress_plen = 0;
	nl_rule_add(b, &r);
	if (talk(d, nl, b, "rule suppress_prefixlength") < 0)
		return -1;
	if (!v6) {
		/* the reply to a marked packet passes the reverse-path check */
		int fd = open("/proc/sys/net/ipv4/conf/all/src_valid_mark", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (write(fd, "1", 1) < 0)
				errno = 0;
			close(fd);
		}
	}
	return 0;
}

static void
policy_undo(struct wg_dev *d)
{
	unsigned char mem[2048] __attribute__((aligned(4)));
	struct nl_sock nl;
	struct nl_buf b;
	int v6;

	if ((!d->policy[0] && !d->policy[1]) || nl_open(&nl, NETLINK_ROUTE) < 0)
		return;
	nl_buf_init(&b, mem, sizeof(mem));
	for (v6 = 0; v6 < 2; v6++) {
		struct nl_rule_spec r;
		struct nl_err err;

		if (!d->policy[v6])
			continue;
		memset(&r, 0, sizeof(r));
		r.family = v6 ? AF_INET6 : AF_INET;
		r.table = d->fwmark;
		r.has_fwmark = 1;
		r.fwmark = d->fwmark;
		r.invert = 1;
		r.suppress_plen = -1;
		nl_rule_del(&b, &r);
		nl_talk(&nl, &b, NULL, NULL, &err);
		nl_buf_reset(&b);
		memset(&r, 0, sizeof(r));
		r.family = v6 ? AF_INET6 : AF_INET;
		r.table = RT_TABLE_MAIN;
		r.suppress_plen = 0;
		nl_rule_del(&b, &r);
		nl_talk(&nl, &b, NULL, NULL, &err);
		nl_buf_reset(&b);
	}
	nl_close(&nl);
}

/* The TUN device up, with its addresses and a route per allowed prefix. */
static int
setup_link(struct wg_dev *d)
{
	unsigned char mem[8192] __attribute__((aligned(4)));
	struct nl_sock nl;
	struct nl_buf b;
	struct nl_link_change up = { d->name, 1, (uint32_t)d->mtu, -1, -1 };
	int idx = (int)if_nametoindex(d->name), i, rc = -1;
	size_t k;

	if (nl_open(&nl, NETLINK_ROUTE) < 0)
		return derr(d, "%s: netlink: %s", d->name, strerror(errno));
	nl_buf_init(&b, mem, sizeof(mem));
	nl_link_set(&b, &up);
	if (talk(d, &nl, &b, "up") < 0)
		goto out;
	for (i = 0; i < d->naddrs; i++) {
		nl_addr_add(&b, idx, &d->addrs[i]);
		if (talk(d, &nl, &b, "address") < 0)
			goto out;
	}
	for (k = 0; k < d->np; k++)
		for (i = 0; i < d->p[k].nallowed; i++) {
			struct nl_route_spec r;

			if (d->table < 0)
				break;	/* Table = off */
			memset(&r, 0, sizeof(r));
			r.dst = d->p[k].allowed[i];
			ipaddr_mask(&r.dst);
			r.oif = idx;
			r.table = (uint32_t)d->table;
			if (d->table == 0 && r.dst.plen == 0) {
				/* everything through the tunnel: as wg-quick, the default
				 * route in a table of its own that the tunnel's own
				 * (marked) packets skip */
				if (policy_routing(d, &nl, &b, r.dst.family) < 0)
					goto out;
				r.table = d->fwmark;
			}
			nl_route_add(&b, &r);
			if (talk(d, &nl, &b, "route") < 0)
				goto out;
		}
	rc = 0;
out:
	nl_close(&nl);
	return rc;
}

/* The peer whose allowed prefixes hold addr (longest match); the trie is
 * rebuilt after any change to peers (values: index + 1, as d->p moves). */
static struct peer *
route(struct wg_dev *d, const struct ipaddr *addr)
{
	void *v;

	if (d->trie_dirty) {
		size_t k;
		int i;

		iptrie_free(&d->trie);
		for (k = 0; k < d->np; k++)
			for (i = 0; i < d->p[k].nallowed && !d->p[k].removed; i++)
				if (iptrie_insert(&d->trie, &d->p[k].allowed[i], (void *)(uintptr_t)(k + 1)) < 0)
					return NULL;	/* out of memory: stays dirty, nothing routed */
		d->trie_dirty = 0;
	}
	v = iptrie_lookup(&d->trie, addr);
	return v ? &d->p[(uintptr_t)v - 1] : NULL;
}

static int
packet_addr(const uint8_t *pkt, size_t n, int dst, struct ipaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (n >= 20 && (pkt[0] >> 4) == 4) {
		a->family = AF_INET;
		memcpy(a->a, pkt + (dst ? 16 : 12), 4);
		a->plen = 32;
		return 0;
	}
	if (n >= 40 && (pkt[0] >> 4) == 6) {
		a->family = AF_INET6;
		memcpy(a->a, pkt + (dst ? 24 : 8), 16);
		a->plen = 128;
		return 0;
	}
	return -1;
}

static void seal_job(void *arg, int i);

/* The source address cmsg for a message to `to` from src (v4-mapped for
 * IPv4: IP_PKTINFO, which the dual-stack socket takes for mapped
 * destinations); its space, at the start of h's control buffer. */
static size_t
put_src(struct msghdr *h, const struct sockaddr_storage *to, const struct in6_addr *src)
{
	const struct sockaddr_in6 *t6 = (const struct sockaddr_in6 *)to;
	struct cmsghdr *c = CMSG_FIRSTHDR(h);

	if (IN6_IS_ADDR_V4MAPPED(&t6->sin6_addr) != IN6_IS_ADDR_V4MAPPED(src))
		return 0;	/* the peer moved across families: no source */
	if (IN6_IS_ADDR_V4MAPPED(src)) {
		struct in_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi_spec_dst, &src->s6_addr[12], 4);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	{
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi6_addr = *src;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
}

static int
src_cmsg(const struct msghdr *h)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c))
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO))
			return 1;
	return 0;
}

/* Drop the source cmsg of h (keeping UDP_SEGMENT) and the peers' sticky
 * address to its destination. */
static void
forget_src(struct wg_dev *d, struct msghdr *h)
{
	struct cmsghdr *c = CMSG_FIRSTHDR(h);
	size_t k, skip = CMSG_SPACE(c->cmsg_type == IP_PKTINFO && c->cmsg_level == IPPROTO_IP ?
				    sizeof(struct in_pktinfo) : sizeof(struct in6_pktinfo));

	for (k = 0; k < d->np; k++)
		if (d->p[k].eplen == h->msg_namelen && !memcmp(&d->p[k].ep, h->msg_name, h->msg_namelen))
			d->p[k].has_src = 0;
	memmove(h->msg_control, (char *)h->msg_control + skip, h->msg_controllen - skip);
	h->msg_controllen -= skip;
	if (!h->msg_controllen)
		h->msg_control = NULL;
}

/* The address the current message came to becomes the one p's answers
 * leave from. */
static void
learn_src(struct wg_dev *d, struct peer *p)
{
	p->src = d->rx_local;
	p->has_src = d->rx_has_local;
}

static void
flush(struct wg_dev *d)
{
	struct out_batch *b = &d->out;
	int i = 0, m = 0, done = 0;

	/* a few: cheaper here than waking a thread */
	workpool_run(d->nseal >= POOL_MIN ? d->pool : NULL, seal_job, d, d->nseal);
	d->nseal = 0;

	while (i < b->n) {
		size_t seg = b->iov[i].iov_len, total = seg;
		struct msghdr *h = &b->mh[m].msg_hdr;
		int j = i + 1;

		/* a run: every message seg bytes but the last, which may be less */
		while (d->gso && j < b->n && j - i < GSO_MAX && b->iov[j - 1].iov_len == seg &&
		       b->iov[j].iov_len <= seg && total + b->iov[j].iov_len <= 65000 &&
		       b->addrlen[j] == b->addrlen[i] && !memcmp(&b->addr[j], &b->addr[i], b->addrlen[i]) &&
		       b->has_src[j] == b->has_src[i] && !memcmp(&b->src[j], &b->src[i], sizeof(b->src[i]))) {
			total += b->iov[j].iov_len;
			j++;
		}
		memset(&b->mh[m], 0, sizeof(b->mh[m]));
		h->msg_name = &b->addr[i];
		h->msg_namelen = b->addrlen[i];
		h->msg_iov = &b->iov[i];
		h->msg_iovlen = (size_t)(j - i);
		if (j - i > 1 || b->has_src[i]) {
			size_t used = 0;

			h->msg_control = b->ctl[m].b;
			h->msg_controllen = sizeof(b->ctl[m].b);
			memset(b->ctl[m].b, 0, sizeof(b->ctl[m].b));
			if (b->has_src[i])
				used = put_src(h, &b->addr[i], &b->src[i]);
			if (j - i > 1) {
				struct cmsghdr *c = (struct cmsghdr *)(b->ctl[m].b + used);
				uint16_t sz = (uint16_t)seg;

				c->cmsg_level = SOL_UDP;
				c->cmsg_type = UDP_SEGMENT;
				c->cmsg_len = CMSG_LEN(sizeof(sz));
				memcpy(CMSG_DATA(c), &sz, sizeof(sz));
				used += CMSG_SPACE(sizeof(sz));
			}
			h->msg_controllen = used;
		}
		m++;
		i = j;
	}
	while (done < m) {
		int r = sendmmsg(d->udp, b->mh + done, (unsigned)(m - done), 0);

		if (r > 0) {
			done += r;
			continue;
		}
		if (src_cmsg(&b->mh[done].msg_hdr)) {
			/* our address the peer used is gone: from whatever the
			 * kernel picks, this time and for that peer from now on */
			forget_src(d, &b->mh[done].msg_hdr);
			continue;	/* the same message again, without it */
		}
		if (b->mh[done].msg_hdr.msg_controllen && (errno == EINVAL || errno == EIO || errno == ENOPROTOOPT)) {
			/* no GSO on this path: this run one by one, none after */
			struct msghdr one = b->mh[done].msg_hdr;
			int k;

			d->gso = 0;
			one.msg_control = NULL;
			one.msg_controllen = 0;
			one.msg_iovlen = 1;
			for (k = 0; k < (int)b->mh[done].msg_hdr.msg_iovlen; k++) {
				one.msg_iov = b->mh[done].msg_hdr.msg_iov + k;
				sendmsg(d->udp, &one, 0);
			}
		}
		done++;	/* skip what the kernel refused (an unreachable endpoint) */
	}
	b->n = 0;
}

/* The next place in the out batch, addressed to p. */
static uint8_t *
out_slot(struct wg_dev *d, struct peer *p)
{
	struct out_batch *b = &d->out;
	int i = b->n++;

	memcpy(&b->addr[i], &p->ep, p->eplen);
	b->addrlen[i] = p->eplen;
	b->src[i] = p->src;
	b->has_src[i] = p->has_src;
	b->iov[i].iov_base = b->buf[i];
	p->last_sent = mono_ms();
	return b->buf[i];
}

static void
send_to(struct wg_dev *d, struct peer *p, const uint8_t *msg, size_t n)
{
	if (!p->eplen)
		return;	/* no endpoint yet: the peer has to reach us first */
	p->last_sent = mono_ms();
	if (d->batching && n <= MSG_MAX) {
		uint8_t *slot = out_slot(d, p);

		memcpy(slot, msg, n);
		d->out.iov[d->out.n - 1].iov_len = n;
		p->tx += n;
		if (d->out.n == OUT_BATCH)
			flush(d);
		return;
	}
	{
		union {
			char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { (void *)msg, n };
		struct msghdr h;

		memset(&h, 0, sizeof(h));
		h.msg_name = &p->ep;
		h.msg_namelen = p->eplen;
		h.msg_iov = &iov;
		h.msg_iovlen = 1;
		if (p->has_src) {
			h.msg_control = ctl.b;
			h.msg_controllen = sizeof(ctl.b);
			h.msg_controllen = put_src(&h, &p->ep, &p->src);
		}
		if (sendmsg(d->udp, &h, 0) < 0 && p->has_src) {
			p->has_src = 0;	/* the address is gone: whatever the kernel picks */
			h.msg_control = NULL;
			h.msg_controllen = 0;
			if (sendmsg(d->udp, &h, 0) < 0)
				return;
		}
		p->tx += n;
	}
}

static void
initiate(struct wg_dev *d, struct peer *p)
{
	uint8_t msg[WG_INIT_LEN];
	uint32_t idx;

	rand_bytes(&idx, sizeof(idx));
	if (wg_initiation(&p->hs, &d->me, p->pub, p->psk, idx, msg) < 0)
		return;
	if (p->cookie_at && mono_ms() - p->cookie_at < COOKIE_SECRET_MS)
		wg_mac2_add(msg, sizeof(msg), p->cookie);	/* the peer is under load */
	memcpy(p->sent_mac1, msg + sizeof(msg) - 32, 16);
	if (!p->hs_active)
		p->hs_first = mono_ms();
	p->hs_active = p->we_initiated = 1;
	p->hs_sent = mono_ms();
	{
		uint16_t jitter;

		rand_bytes(&jitter, sizeof(jitter));
		p->retry_ms = RETRY_MS + jitter % 334;	/* retries of many peers spread out */
	}
	send_to(d, p, msg, sizeof(msg));
}

static void
new_session(struct peer *p, const struct wg_session *s, int confirmed)
{
	p->prev = p->cur;
	memset(&p->cur, 0, sizeof(p->cur));
	p->cur.s = *s;
	p->cur.valid = 1;
	p->cur.confirmed = confirmed;
	p->cur.born = mono_ms();
	p->hs_active = 0;
	clock_gettime(CLOCK_REALTIME, &p->last_hs);
}

static void
send_data(struct wg_dev *d, struct peer *p, const uint8_t *pkt, size_t n)
{
	uint8_t msg[2048 + 64];
	uint64_t t = mono_ms();

	if (!p->cur.valid || !p->cur.confirmed || t - p->cur.born > d->reject_ms ||
	    p->cur.s.send_counter >= REJECT_AFTER_MESSAGES) {
		if (n) {
			memcpy(p->queued, pkt, n);	/* the newest waits for the handshake */
			p->queued_len = n;
		}
		if (!p->hs_active || t - p->hs_sent > p->retry_ms)
			initiate(d, p);
		return;
	}
	if (n && !p->unanswered)
		p->unanswered = t;	/* a handshake if nothing comes back in 15 s */
	if (d->batching && p->eplen && n <= 2048) {
		/* sealed with the rest of the batch, on the pool, at flush */
		uint8_t *slot = out_slot(d, p);
		struct cjob *j = &d->seal[d->nseal++];

		j->msg = slot;
		j->len = wg_seal_prepare(&p->cur.s, pkt, n, slot);
		memcpy(j->key, p->cur.s.send, 32);
		d->out.iov[d->out.n - 1].iov_len = j->len;
		p->tx += j->len;
		if (d->out.n == OUT_BATCH)
			flush(d);
	} else {
		send_to(d, p, msg, wg_seal(&p->cur.s, pkt, n, msg));
	}
	if (((p->we_initiated && t - p->cur.born > d->rekey_ms) || p->cur.s.send_counter >= REKEY_AFTER_MESSAGES) &&
	    (!p->hs_active || t - p->hs_sent > p->retry_ms))
		initiate(d, p);
}

static int
replay_ok(struct session *s, uint64_t c)
{
	if (!s->seen_any || c > s->max_ctr) {
		uint64_t shift = s->seen_any ? c - s->max_ctr : 64;

		s->window = shift >= 64 ? 0 : s->window << shift;
		s->window |= 1;
		s->max_ctr = c;
		s->seen_any = 1;
		return 1;
	}
	if (s->max_ctr - c >= 64 || (s->window >> (s->max_ctr - c)) & 1)
		return 0;
	s->window |= 1ull << (s->max_ctr - c);
	return 1;
}

/* Counts handshake messages; under load for the second after more than
 * LOAD_PER_SECOND of them arrived within one. */
static int
under_load(struct wg_dev *d)
{
	uint64_t t = mono_ms();

	if (t - d->load_window_at >= 1000) {
		d->under_load = d->load_count > LOAD_PER_SECOND;
		d->load_window_at = t;
		d->load_count = 0;
	}
	if (++d->load_count > LOAD_PER_SECOND)
		d->under_load = 1;
	return d->under_load;
}

static void
source_cookie(struct wg_dev *d, const struct sockaddr_storage *from, uint8_t cookie[WG_COOKIE])
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)from;
	uint8_t src[18];
	uint64_t t = mono_ms();

	if (!d->cookie_secret_at || t - d->cookie_secret_at >= COOKIE_SECRET_MS) {
		rand_bytes(d->cookie_secret, sizeof(d->cookie_secret));
		d->cookie_secret_at = t;
	}
	memcpy(src, &s6->sin6_addr, 16);	/* the one socket is dual-stack: always v6 */
	memcpy(src + 16, &s6->sin6_port, 2);
	wg_cookie_make(d->cookie_secret, src, sizeof(src), cookie);
}

static int
mac2_ok(struct wg_dev *d, const struct sockaddr_storage *from, const uint8_t *msg, size_t n)
{
	uint8_t cookie[WG_COOKIE];

	source_cookie(d, from, cookie);
	return wg_mac2_ok(cookie, msg, n);
}

static void
udp_message(struct wg_dev *d, uint8_t *msg, ssize_t n, struct sockaddr_storage *fromp, socklen_t flen)
{
	struct sockaddr_storage from = *fromp;
	size_t k;

	if (n < 4)
		return;
	if ((msg[0] == 1 && n == WG_INIT_LEN) || (msg[0] == 2 && n == WG_RESP_LEN)) {
		if (!wg_mac1_ok(d->me.pub, msg, (size_t)n))
			return;	/* not for this key: costs one hash, no DH */
		if (under_load(d) && !mac2_ok(d, &from, msg, (size_t)n)) {
			uint8_t reply[WG_COOKIE_LEN], cookie[WG_COOKIE];

			source_cookie(d, &from, cookie);
			if (wg_cookie_reply(d->me.pub, msg, (size_t)n, cookie, reply) == 0 &&
			    sendto(d->udp, reply, sizeof(reply), 0, (struct sockaddr *)&from, flen) > 0)
				d->cookies_sent++;
			return;
		}
	}
	if (msg[0] == 3 && n == WG_COOKIE_LEN) {
		uint32_t to = (uint32_t)msg[4] | (uint32_t)msg[5] << 8 | (uint32_t)msg[6] << 16 |
			      (uint32_t)msg[7] << 24;

		for (k = 0; k < d->np; k++) {
			struct peer *p = &d->p[k];

			if (p->hs_active && p->we_initiated && p->hs.local_index == to &&
			    wg_consume_cookie_reply(p->pub, p->sent_mac1, msg, (size_t)n, p->cookie) == 0) {
				p->cookie_at = mono_ms();	/* mac2 from the next retry on */
				return;
			}
		}
		return;
	}
	if (msg[0] == 1) {
		struct wg_handshake hs;
		struct wg_session s;
		uint8_t resp[WG_RESP_LEN];
		uint32_t idx;

		if (wg_consume_initiation(&hs, &d->me, msg, (size_t)n) < 0)
			return;
		for (k = 0; k < d->np; k++)
			if (!d->p[k].removed && !memcmp(d->p[k].pub, hs.peer_static, 32))
				break;
		if (k == d->np)
			return;	/* not a peer of ours */
		if (memcmp(hs.timestamp, d->p[k].last_ts, 12) <= 0)
			return;	/* a replayed initiation */
		memcpy(d->p[k].last_ts, hs.timestamp, 12);
		rand_bytes(&idx, sizeof(idx));
		if (wg_response(&hs, d->p[k].psk, idx, resp, &s) < 0)
			return;
		d->p[k].ep = from;
		d->p[k].eplen = flen;
		learn_src(d, &d->p[k]);
		d->p[k].rx += (uint64_t)n;
		new_session(&d->p[k], &s, 0);
		d->p[k].we_initiated = 0;
		send_to(d, &d->p[k], resp, sizeof(resp));
	} else if (msg[0] == 2) {
		struct wg_session s;

		for (k = 0; k < d->np; k++) {
			struct peer *p = &d->p[k];

			if (!p->hs_active || wg_consume_response(&p->hs, &d->me, msg, (size_t)n, &s) < 0)
				continue;
			p->ep = from;
			p->eplen = flen;
			learn_src(d, p);
			p->rx += (uint64_t)n;
			new_session(p, &s, 1);
			if (p->queued_len) {
				send_data(d, p, p->queued, p->queued_len);
				p->queued_len = 0;
			} else {
				send_data(d, p, NULL, 0);	/* a keepalive confirms the session */
			}
			return;
		}
	} else if (msg[0] == 4 && n >= WG_DATA_HEAD + WG_TAG) {
		uint32_t to = (uint32_t)msg[4] | (uint32_t)msg[5] << 8 | (uint32_t)msg[6] << 16 |
			      (uint32_t)msg[7] << 24;

		for (k = 0; k < d->np; k++) {
			struct peer *p = &d->p[k];
			struct session *ss[2] = { &p->cur, &p->prev };
			int j;

			for (j = 0; j < 2; j++) {
				uint64_t ctr;
				long l;

				if (!ss[j]->valid || ss[j]->s.local_index != to ||
				    mono_ms() - ss[j]->born > d->reject_ms)
					continue;
				l = wg_open(&ss[j]->s, msg, (size_t)n, &ctr);
				if (l < 0)
					continue;
				opened(d, p, ss[j], j, msg, l, ctr, &from, flen);
				return;
			}
		}
	}
}

/* A data message of peer p that opened under session ss (0: p's current,
 * 1: its previous) to l bytes of packet with counter ctr. */
static void
opened(struct wg_dev *d, struct peer *p, struct session *ss, int j, uint8_t *msg, long l, uint64_t ctr,
       const struct sockaddr_storage *from, socklen_t flen)
{
	struct ipaddr src;

	if (!replay_ok(ss, ctr))
		return;
	ss->confirmed = 1;
	p->unanswered = 0;
	if (l > 0)
		p->last_recv = mono_ms();
	/* the initiator renews a session that is about to expire while it
	 * only receives (REJECT - KEEPALIVE - REKEY_TIMEOUT) */
	if (j == 0 && p->we_initiated && !p->hs_active &&
	    mono_ms() - ss->born > d->reject_ms - KEEPALIVE_MS - RETRY_MS)
		initiate(d, p);
	p->rx += (uint64_t)(WG_DATA_HEAD + l + WG_TAG);
	memcpy(&p->ep, from, flen);	/* the peer roams: answer where it is now */
	p->eplen = flen;
	learn_src(d, p);
	if (p->queued_len && j == 0) {
		uint8_t q[2048];
		size_t qn = p->queued_len;

		memcpy(q, p->queued, qn);
		p->queued_len = 0;
		send_data(d, p, q, qn);
	}
	if (l == 0)
		return;	/* a keepalive */
	{
		const uint8_t *pkt = msg + WG_DATA_HEAD;
		size_t plen = (size_t)l;

		/* the IP length, not the padding */
		if ((pkt[0] >> 4) == 4 && plen >= 20)
			plen = (size_t)(pkt[2] << 8 | pkt[3]);
		else if ((pkt[0] >> 4) == 6 && plen >= 40)
			plen = 40 + (size_t)(pkt[4] << 8 | pkt[5]);
		if (plen > (size_t)l || packet_addr(pkt, plen, 0, &src) < 0 || route(d, &src) != p)
			return;	/* not from an address this peer may use */
		deliver(d, pkt, plen);
	}
}

/* ---- the data path's crypto on the pool's threads ---- */

static void
seal_job(void *arg, int i)
{
	struct wg_dev *d = arg;
	struct cjob *j = &d->seal[i];

	wg_seal_finish(j->key, j->msg, j->len);
}

static void
open_job(void *arg, int i)
{
	struct wg_dev *d = arg;
	struct cjob *j = &d->open[i];

	if (j->s)
		j->res = wg_open(j->s, j->msg, j->len, &j->ctr);
}

/* The session of peers that a data message names by its receiver index. */
static int
session_of(struct wg_dev *d, const uint8_t *msg, size_t n, size_t *peer, int *which)
{
	uint32_t to = (uint32_t)msg[4] | (uint32_t)msg[5] << 8 | (uint32_t)msg[6] << 16 | (uint32_t)msg[7] << 24;
	uint64_t t = mono_ms();
	size_t k;

	if (n < WG_DATA_HEAD + WG_TAG || msg[0] != 4)
		return -1;
	for (k = 0; k < d->np; k++) {
		struct session *ss[2] = { &d->p[k].cur, &d->p[k].prev };
		int j;

		for (j = 0; j < 2; j++)
			if (ss[j]->valid && ss[j]->s.local_index == to && t - ss[j]->born <= d->reject_ms) {
				*peer = k;
				*which = j;
				return 0;
			}
	}
	return -1;
}

/* What the socket holds, BATCH at a time; replies go out in one batch. */
static int
from_udp(struct wg_dev *d)
{
	struct in_batch *b = d->in;
	int i, n;

	for (i = 0; i < BATCH; i++) {
		b->iov[i].iov_base = b->buf[i];
		b->iov[i].iov_len = RECV_MAX;
		memset(&b->mh[i], 0, sizeof(b->mh[i]));
		b->mh[i].msg_hdr.msg_name = &b->addr[i];
		b->mh[i].msg_hdr.msg_namelen = sizeof(b->addr[i]);
		b->mh[i].msg_hdr.msg_iov = &b->iov[i];
		b->mh[i].msg_hdr.msg_iovlen = 1;
		b->mh[i].msg_hdr.msg_control = b->ctl[i].b;
		b->mh[i].msg_hdr.msg_controllen = sizeof(b->ctl[i].b);
	}
	n = recvmmsg(d->udp, b->mh, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	d->batching = 1;
	/* 1: every message (a GRO train is several), data messages matched
	 * to their sessions; 2: those opened on the pool; 3: in order, the
	 * rest of the work, and whatever did not match the usual way */
	d->nopen = 0;
	for (i = 0; i < n; i++) {
		struct msghdr *h = &b->mh[i].msg_hdr;
		size_t len = b->mh[i].msg_len, seg = len, off;
		struct cmsghdr *c;

		b->has_local[i] = 0;
		for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
			if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
				int g;

				memcpy(&g, CMSG_DATA(c), sizeof(g));
				if (g > 0)
					seg = (size_t)g;
			} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
				   c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				memset(&b->local[i], 0, sizeof(b->local[i]));
				b->local[i].s6_addr[10] = b->local[i].s6_addr[11] = 0xff;
				memcpy(&b->local[i].s6_addr[12], &pi.ipi_addr, 4);	/* the destination it had */
				b->has_local[i] = 1;
			} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
				   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				b->local[i] = pi.ipi6_addr;
				/* a link-local one needs its interface: leave it to the kernel */
				b->has_local[i] = !IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr);
			}
		for (off = 0; off < len && d->nopen < OPEN_MAX; off += seg) {
			struct cjob *j = &d->open[d->nopen++];

			j->msg = b->buf[i] + off;
			j->len = len - off < seg ? len - off : seg;
			j->from = i;
			j->res = -2;	/* not a data message of a known session: step 3 as a whole */
			j->s = NULL;
			if (session_of(d, j->msg, j->len, &j->peer, &j->which) == 0) {
				j->s = j->which ? &d->p[j->peer].prev.s : &d->p[j->peer].cur.s;
				j->s_index = j->s->local_index;
				j->res = -1;
			}
		}
	}
	workpool_run(d->nopen >= POOL_MIN ? d->pool : NULL, open_job, d, d->nopen);
	for (i = 0; i < d->nopen; i++) {
		struct cjob *j = &d->open[i];
		struct peer *p;
		struct session *ss;

		d->rx_local = b->local[j->from];
		d->rx_has_local = b->has_local[j->from];
		if (j->res == -2) {
			udp_message(d, j->msg, (ssize_t)j->len, &b->addr[j->from], b->mh[j->from].msg_hdr.msg_namelen);
			continue;
		}
		if (j->res < 0)
			continue;	/* forged, or not ours */
		/* a handshake in this batch may have moved the session: find it again */
		p = &d->p[j->peer];
		ss = p->cur.valid && p->cur.s.local_index == j->s_index ? &p->cur :
		     p->prev.valid && p->prev.s.local_index == j->s_index ? &p->prev : NULL;
		if (ss)
			opened(d, p, ss, ss == &p->prev, j->msg, j->res, j->ctr, &b->addr[j->from],
			       b->mh[j->from].msg_hdr.msg_namelen);
	}
	d->batching = 0;
	gro_flush(d);
	flush(d);
	return n;
}

static void
tun_packet(void *arg, uint8_t *pkt, size_t n)
{
	struct wg_dev *d = arg;
	struct ipaddr dst;
	struct peer *p;

	if (n > 2048 || packet_addr(pkt, n, 1, &dst) < 0)
		return;	/* larger than any MTU lab sets: not from a segmentation */
	p = route(d, &dst);
	if (p)
		send_data(d, p, pkt, n);
}

/* Packets from the device, BATCH reads at most (each may be a 64 KiB TCP
 * super-packet, cut to wire size here), sent in sendmmsg batches. */
static int
from_tun(struct wg_dev *d)
{
	int i;

	d->batching = 1;
	for (i = 0; i < BATCH; i++) {
		ssize_t n = read(d->tun, d->tunbuf, sizeof(d->tunbuf));

		if (n <= TSO_VNET_HDR)
			break;
		tso_split(d->tunbuf, d->tunbuf + TSO_VNET_HDR, (size_t)n - TSO_VNET_HDR, d->seg, tun_packet, d);
	}
	d->batching = 0;
	flush(d);
	return i;
}

/* A decrypted packet to the device: its checksum is as good as the
 * authentication tag that just held (the kernel's WireGuard says the same). */
static int
tun_write(struct wg_dev *d, const uint8_t *pkt, size_t n)
{
	uint8_t vh[TSO_VNET_HDR] = { 2 /* VIRTIO_NET_HDR_F_DATA_VALID */ };
	struct iovec iov[2] = { { vh, sizeof(vh) }, { (void *)pkt, n } };

	return writev(d->tun, iov, 2) < 0 ? -1 : 0;
}

static void
tun_segment(void *arg, uint8_t *pkt, size_t n)
{
	tun_write(arg, pkt, n);
}

/* The train of TCP segments gathered so far, as one write. */
static void
gro_flush(struct wg_dev *d)
{
	size_t n = tso_gro_take(&d->train);
	struct iovec iov[2] = { { d->train.vh, TSO_VNET_HDR }, { d->train.pkt, n } };

	if (n && writev(d->tun, iov, 2) < 0 && errno == EINVAL && d->train.vh[1]) {
		/* a kernel that takes no trains: segments, from now on */
		d->no_gro = 1;
		tso_split(d->train.vh, d->train.pkt, n, d->seg, tun_segment, d);
	}
}

/* Decrypted packets to the device: within a receive batch, consecutive
 * TCP segments of a flow are joined first. */
static void
deliver(struct wg_dev *d, const uint8_t *pkt, size_t n)
{
	if (!d->batching || d->no_gro) {
		tun_write(d, pkt, n);
		return;
	}
	if (tso_gro_add(&d->train, pkt, n))
		return;
	gro_flush(d);
	if (!tso_gro_add(&d->train, pkt, n))
		tun_write(d, pkt, n);
}

static void *
resolver(void *arg)
{
	struct resolving *rs = arg;
	int i;

	for (i = 0; i < rs->n; i++)
		rs->q[i].ok = endpoint_of(rs->q[i].name, &rs->q[i].ss, &rs->q[i].len) == 0;
	__atomic_store_n(&rs->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
resolve_start(struct wg_dev *d)
{
	d->rs.done = 0;
	d->rs.busy = pthread_create(&d->rs.t, NULL, resolver, &d->rs) == 0;
}

/* The resolver's answers, to the peers (found again by key: the list may
 * have changed meanwhile) that still have that name. */
static void
resolve_collect(struct wg_dev *d)
{
	int i;

	if (!d->rs.busy || !__atomic_load_n(&d->rs.done, __ATOMIC_ACQUIRE))
		return;
	pthread_join(d->rs.t, NULL);
	d->rs.busy = 0;
	for (i = 0; i < d->rs.n; i++) {
		size_t k;

		if (!d->rs.q[i].ok)
			continue;
		for (k = 0; k < d->np; k++) {
			struct peer *p = &d->p[k];

			if (!p->removed && !memcmp(p->pub, d->rs.q[i].pub, 32) && !strcmp(p->ep_name, d->rs.q[i].name)) {
				p->ep = d->rs.q[i].ss;
				p->eplen = d->rs.q[i].len;
				v4_mapped(&p->ep, &p->eplen);
			}
		}
	}
}

static void
tick(struct wg_dev *d)
{
	uint64_t t = mono_ms();
	size_t k;

	/* Endpoints given by name: a peer on a dynamic address moves. The
	 * names of silent peers go to a thread of their own (a slow resolver
	 * must not hold traffic up); its answers are taken here. */
	resolve_collect(d);
	if (t - d->resolved_at >= d->reresolve_ms && !d->rs.busy) {
		struct timespec now;

		d->resolved_at = t;
		clock_gettime(CLOCK_REALTIME, &now);
		d->rs.n = 0;
		for (k = 0; k < d->np && d->rs.n < RESOLVE_MAX; k++) {
			struct peer *p = &d->p[k];

			if (!p->ep_name[0] || p->removed || now.tv_sec - p->last_hs.tv_sec < d->stale_s)
				continue;
			memcpy(d->rs.q[d->rs.n].pub, p->pub, 32);
			str_copy(d->rs.q[d->rs.n].name, p->ep_name, sizeof(d->rs.q[0].name));
			d->rs.q[d->rs.n].ok = 0;
			d->rs.n++;
		}
		if (d->rs.n)
			resolve_start(d);
	}

	for (k = 0; k < d->np; k++) {
		struct peer *p = &d->p[k];

		if (p->hs_active && t - p->hs_first > ATTEMPT_MS && !p->keepalive) {
			p->hs_active = 0;	/* gave up: the queued packet goes */
			p->queued_len = 0;
		}
		if (p->hs_active && t - p->hs_sent > p->retry_ms && (p->queued_len || p->keepalive))
			initiate(d, p);
		if (p->unanswered && t - p->unanswered >= KEEPALIVE_MS + RETRY_MS) {
			p->unanswered = 0;	/* sent, and nothing back: the session may be gone */
			if (!p->hs_active)
				initiate(d, p);
		}
		if (p->keepalive && t - p->last_sent >= (uint64_t)p->keepalive * 1000)
			send_data(d, p, NULL, 0);
		else if (p->last_recv > p->last_sent && t - p->last_recv >= KEEPALIVE_MS && p->cur.valid)
			send_data(d, p, NULL, 0);	/* data came, nothing went back: say we are here */
	}
}

/* ---- the userspace API of WireGuard implementations (wg show, wg set) ---- */

static void
hexkey(struct buf *out, const char *k, const uint8_t key[32])
{
	char hex[65];

	hex_encode(key, 32, hex);
	buf_addf(out, "%s=%s\n", k, hex);
}

static void
uapi_get(struct wg_dev *d, struct buf *out)
{
	size_t k;
	int i;

	hexkey(out, "private_key", d->me.priv);
	buf_addf(out, "listen_port=%d\n", d->listen_port);
	if (d->fwmark)
		buf_addf(out, "fwmark=%u\n", d->fwmark);
	for (k = 0; k < d->np; k++) {
		struct peer *p = &d->p[k];
		static const uint8_t zero[32];

		if (p->removed)
			continue;
		hexkey(out, "public_key", p->pub);
		if (memcmp(p->psk, zero, 32))
			hexkey(out, "preshared_key", p->psk);
		buf_addf(out, "protocol_version=1\n");
		if (p->eplen) {
			char host[INET6_ADDRSTRLEN], port[8];
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&p->ep;

			if (p->ep.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
				inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], host, sizeof(host));
				buf_addf(out, "endpoint=%s:%u\n", host, ntohs(s6->sin6_port));
			} else if (getnameinfo((struct sockaddr *)&p->ep, p->eplen, host, sizeof(host), port,
					       sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
				buf_addf(out, p->ep.ss_family == AF_INET6 ? "endpoint=[%s]:%s\n" : "endpoint=%s:%s\n",
					  host, port);
			}
		}
		buf_addf(out, "last_handshake_time_sec=%lld\nlast_handshake_time_nsec=%ld\n",
			 (long long)p->last_hs.tv_sec, p->last_hs.tv_nsec);
		buf_addf(out, "tx_bytes=%llu\nrx_bytes=%llu\n", (unsigned long long)p->tx,
			 (unsigned long long)p->rx);
		buf_addf(out, "persistent_keepalive_interval=%d\n", p->keepalive);
		for (i = 0; i < p->nallowed; i++) {
			char a[IPADDR_STRLEN];

			buf_addf(out, "allowed_ip=%s\n", ipaddr_str(&p->allowed[i], a));
		}
	}
	buf_adds(out, "errno=0\n\n");
}


static int
hexkey_of(const char *v, uint8_t k[32])
{
	return strlen(v) == 64 && hex_decode(v, k, 32) == 32 ? 0 : -1;
}

/* "set=1" operations, line by line; an errno value, 0 when all applied. */
static int
uapi_set(struct wg_dev *d, char *req)
{
	char *line, *save = NULL;
	struct peer *p = NULL;

	for (line = strtok_r(req, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, '=');

		if (!v)
			return EPROTO;
		*v++ = '\0';
		if (!strcmp(line, "private_key")) {
			if (hexkey_of(v, d->me.priv) < 0 || x25519_public(d->me.pub, d->me.priv) < 0)
				return EINVAL;
		} else if (!strcmp(line, "listen_port")) {
			if (atoi(v) != d->listen_port)
				return EOPNOTSUPP;	/* the socket stays where it was bound */
		} else if (!strcmp(line, "fwmark")) {
			uint32_t m = (uint32_t)strtoul(v, NULL, 0);

			if (setsockopt(d->udp, SOL_SOCKET, SO_MARK, &m, sizeof(m)) < 0)
				return errno;
			d->fwmark = m;
		} else if (!strcmp(line, "replace_peers")) {
			size_t k;

			for (k = 0; k < d->np; k++)
				d->p[k].removed = 1;
		} else if (!strcmp(line, "public_key")) {
			uint8_t key[32];
			size_t k;

			if (hexkey_of(v, key) < 0)
				return EINVAL;
			p = NULL;
			for (k = 0; k < d->np; k++)
				if (!memcmp(d->p[k].pub, key, 32)) {
					p = &d->p[k];
					p->removed = 0;
				}
			if (!p) {
				struct peer *np = realloc(d->p, (d->np + 1) * sizeof(*d->p));

				if (!np)
					return ENOMEM;
				d->p = np;
				p = &d->p[d->np++];
				memset(p, 0, sizeof(*p));
				memcpy(p->pub, key, 32);
			}
		} else if (!p) {
			return EPROTO;	/* a peer's key before the peer */
		} else if (!strcmp(line, "remove")) {
			p->removed = 1;
		} else if (!strcmp(line, "update_only")) {
			continue;
		} else if (!strcmp(line, "preshared_key")) {
			if (hexkey_of(v, p->psk) < 0)
				return EINVAL;
		} else if (!strcmp(line, "endpoint")) {
			struct sockaddr_storage ss;
			socklen_t len;

			if (endpoint_of(v, &ss, &len) < 0)
				return EINVAL;
			v4_mapped(&ss, &len);
			p->ep = ss;
			p->eplen = len;
			p->ep_name[0] = '\0';	/* wg set gives addresses */
		} else if (!strcmp(line, "persistent_keepalive_interval")) {
			p->keepalive = atoi(v);
		} else if (!strcmp(line, "replace_allowed_ips")) {
			p->nallowed = 0;
		} else if (!strcmp(line, "allowed_ip")) {
			if (p->nallowed >= MAX_ALLOWED)
				return ENOSPC;
			if (ipaddr_parse_prefix(v, AF_UNSPEC, &p->allowed[p->nallowed]) < 0)
				return EINVAL;
			p->nallowed++;
		} else if (!strcmp(line, "protocol_version")) {
			if (strcmp(v, "1"))
				return EPROTONOSUPPORT;
		} else {
			return EPROTO;
		}
	}
	return 0;
}

static void
uapi_serve(struct wg_dev *d)
{
	int c = accept4(d->uapi, NULL, NULL, SOCK_CLOEXEC);
	struct buf req = BUF_INIT, out = BUF_INIT;
	char chunk[4096];
	ssize_t n;

	if (c < 0)
		return;
	/* a request ends with an empty line */
	while (req.len < 1 << 20 && (req.len < 2 || memcmp(req.data + req.len - 2, "\n\n", 2))) {
		struct pollfd pf = { c, POLLIN, 0 };

		if (poll(&pf, 1, 1000) <= 0 || (n = read(c, chunk, sizeof(chunk))) <= 0)
			break;
		buf_add(&req, chunk, (size_t)n);
	}
	if (req.len >= 6 && !memcmp(req.data, "get=1\n", 6)) {
		uapi_get(d, &out);
	} else if (req.len >= 6 && !memcmp(req.data, "set=1\n", 6)) {
		char *body = (char *)buf_cstr(&req) + 6;

		buf_addf(&out, "errno=%d\n\n", uapi_set(d, body));
		d->trie_dirty = 1;
	} else {
		buf_addf(&out, "errno=%d\n\n", EPROTO);
	}
	/* MSG_NOSIGNAL: a client gone early is its business, not a SIGPIPE here */
	if (out.len && send(c, out.data, out.len, MSG_NOSIGNAL) < 0)
		errno = 0;
	close(c);
	buf_free(&req);
	buf_free(&out);
}

static int
uapi_open(struct wg_dev *d)
{
	struct sockaddr_un sa;
	mode_t old;
	int rc = 0;

	mkdir("/var/run/wireguard", 0755);
	snprintf(d->sock, sizeof(d->sock), "/var/run/wireguard/%s.sock", d->name);
	d->uapi = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	str_copy(sa.sun_path, d->sock, sizeof(sa.sun_path));
	unlink(d->sock);
	old = umask(077);
	if (d->uapi < 0 || bind(d->uapi, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(d->uapi, 8) < 0)
		rc = derr(d, "%s: %s", d->sock, strerror(errno));
	umask(old);
	return rc;
}

/* An IPv4 address as a v4-mapped one, for the one dual-stack socket. */
static void
v4_mapped(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;

	if (ss->ss_family != AF_INET)
		return;
	memcpy(&v4, ss, sizeof(v4));
	memset(&v6, 0, sizeof(v6));
	v6.sin6_family = AF_INET6;
	v6.sin6_port = v4.sin_port;
	v6.sin6_addr.s6_addr[10] = v6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&v6.sin6_addr.s6_addr[12], &v4.sin_addr, 4);
	memcpy(ss, &v6, sizeof(v6));
	*len = sizeof(v6);
}

struct wg_dev *
wg_dev_load(const char *conf, char *err, size_t errlen)
{
	struct wg_dev *d = calloc(1, sizeof(*d));
	const char *slash, *dot;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->tun = d->udp = d->uapi = -1;
	iptrie_init(&d->trie);
	tso_gro_init(&d->train);
	d->trie_dirty = 1;
	/* the protocol's timers; shorter ones only for tests that watch a rekey */
	d->rekey_ms = (uint64_t)env_seconds("LAB_VPN_REKEY_AFTER", 120) * 1000;
	d->reject_ms = (uint64_t)env_seconds("LAB_VPN_REJECT_AFTER", 180) * 1000;
	if (d->reject_ms <= d->rekey_ms)
		d->reject_ms = d->rekey_ms + d->rekey_ms / 2;
	/* as wireguard-tools' reresolve-dns: every 2 minutes, peers without
	 * a handshake in 135 s; LAB_VPN_RERESOLVE shortens both, for tests */
	d->reresolve_ms = (uint64_t)env_seconds("LAB_VPN_RERESOLVE", 120) * 1000;
	d->stale_s = getenv("LAB_VPN_RERESOLVE") ? (long)(d->reresolve_ms / 1000) : 135;
	slash = strrchr(conf, '/');
	slash = slash ? slash + 1 : conf;
	dot = strrchr(slash, '.');
	snprintf(d->name, sizeof(d->name), "%.*s", dot ? (int)(dot - slash) : (int)strlen(slash), slash);
	if (load(d, conf) < 0)
		goto fail;
	d->resolved_at = mono_ms();
	return d;
fail:
	snprintf(err, errlen, "%s", d->err);
	wg_dev_close(d);
	return NULL;
}

int
wg_dev_up(struct wg_dev *d, char *err, size_t errlen)
{
	struct sockaddr_in6 sa;
	int off = 0;
	size_t k;

	for (k = 0; k < d->np; k++)
		if (d->p[k].eplen)
			v4_mapped(&d->p[k].ep, &d->p[k].eplen);
	d->tun = tun_open(d->name, TUN_VNET_HDR);
	if (d->tun >= 0 && fcntl(d->tun, F_SETFL, fcntl(d->tun, F_GETFL) | O_NONBLOCK) < 0) {
		close(d->tun);
		d->tun = -1;
	}
	/* TCP handed over unsegmented and unchecksummed; without it (an old
	 * kernel), packets come one by one, still behind the header */
	if (d->tun >= 0 && ioctl(d->tun, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) < 0)
		errno = 0;
	if (d->tun < 0) {
		derr(d, "%s: tun: %s", d->name, strerror(errno));
		goto fail;
	}
	d->udp = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons((uint16_t)d->listen_port);
	if (d->udp < 0 || setsockopt(d->udp, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
	    bind(d->udp, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		derr(d, "%s: udp port %d: %s", d->name, d->listen_port, strerror(errno));
		goto fail;
	}
	{
		int on = 1;

		/* trains of datagrams in one receive, where the kernel can */
		if (setsockopt(d->udp, SOL_UDP, UDP_GRO, &on, sizeof(on)) < 0)
			errno = 0;	/* an older kernel: one datagram per receive */
		/* the address each datagram came to, so that answers leave from it */
		setsockopt(d->udp, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
		setsockopt(d->udp, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
		d->gso = 1;	/* until a send says otherwise */
	}
	d->in = malloc(sizeof(*d->in));
	if (!d->in) {
		derr(d, "%s: out of memory", d->name);
		goto fail;
	}
	if (d->fwmark && setsockopt(d->udp, SOL_SOCKET, SO_MARK, &d->fwmark, sizeof(d->fwmark)) < 0) {
		derr(d, "%s: FwMark %u: %s", d->name, d->fwmark, strerror(errno));
		goto fail;
	}
	if (!d->listen_port) {
		socklen_t sl = sizeof(sa);

		if (getsockname(d->udp, (struct sockaddr *)&sa, &sl) == 0)
			d->listen_port = ntohs(sa.sin6_port);	/* wg show names the port it got */
	}
	if (setup_link(d) < 0 || uapi_open(d) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s", d->err);
	return -1;
}

struct wg_dev *
wg_dev_open(const char *conf, char *err, size_t errlen)
{
	struct wg_dev *d = wg_dev_load(conf, err, errlen);

	if (d && wg_dev_up(d, err, errlen) < 0) {
		wg_dev_close(d);
		return NULL;
	}
	return d;
}

static long
env_seconds(const char *name, long dflt)
{
	const char *v = getenv(name);
	long n = v ? atol(v) : 0;

	return n > 0 ? n : dflt;
}

const char *
wg_dev_script(const struct wg_dev *d, enum wg_script w, int i)
{
	return i >= 0 && i < d->nscripts[w] ? d->scripts[w][i] : NULL;
}

const char *
wg_dev_dns(const struct wg_dev *d, int i)
{
	return i >= 0 && i < d->ndns ? d->dns[i] : NULL;
}

uint64_t
wg_dev_cookies_sent(const struct wg_dev *d)
{
	return d->cookies_sent;
}

const char *
wg_dev_name(const struct wg_dev *d)
{
	return d->name;
}

size_t
wg_dev_peers(const struct wg_dev *d)
{
	return d->np;
}

int
wg_dev_run(struct wg_dev *d, volatile sig_atomic_t *stop)
{
	if (!d->pool) {
		/* a thread per core for the crypto of each batch (the caller's is
		 * one of them), from 3 cores on: on 2, where the kernel's side of
		 * the tunnel and the traffic's ends need the other core, one
		 * thread measured faster (bench/RESULTS.md). Started here, after
		 * a daemon's fork, which keeps no threads. LAB_VPN_THREADS=N
		 * sets it; without threads (none can start) all runs in this one. */
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		long want = env_seconds("LAB_VPN_THREADS", cores < 3 ? 1 : cores > 8 ? 8 : cores);

		d->pool = workpool_new((int)(want - 1));
	}
	while (!*stop) {
		struct pollfd pf[3] = { { d->tun, POLLIN, 0 }, { d->udp, POLLIN, 0 }, { d->uapi, POLLIN, 0 } };
		int r = poll(pf, 3, 1000);

		if (r < 0 && errno != EINTR)
			return -1;
		/* under traffic: both queues drained in turns before polling again */
		if (r > 0 && (pf[0].revents | pf[1].revents) & POLLIN) {
			int more;

			do {
				more = from_udp(d) == BATCH;
				more |= from_tun(d) == BATCH;
			} while (more && !*stop);
		}
		if (r > 0 && (pf[2].revents & POLLIN))
			uapi_serve(d);
		tick(d);
	}
	return 0;
}

void
wg_dev_down(struct wg_dev *d)
{
	if (d->rs.busy) {
		pthread_join(d->rs.t, NULL);	/* a resolver's wait, once, at the end */
		d->rs.busy = 0;
	}
	policy_undo(d);
	d->policy[0] = d->policy[1] = 0;
	if (d->tun >= 0)
		close(d->tun);	/* the kernel removes a non-persistent TUN device */
	if (d->udp >= 0)
		close(d->udp);
	if (d->uapi >= 0) {
		close(d->uapi);
		unlink(d->sock);
	}
	d->tun = d->udp = d->uapi = -1;
}

void
wg_dev_close(struct wg_dev *d)
{
	int w, i;

	if (!d)
		return;
	wg_dev_down(d);
	memset(&d->me, 0, sizeof(d->me));
	for (w = 0; w <= WG_POST_DOWN; w++)
		for (i = 0; i < d->nscripts[w]; i++)
			free(d->scripts[w][i]);
	for (i = 0; i < d->ndns; i++)
		free(d->dns[i]);
	iptrie_free(&d->trie);
	workpool_free(d->pool);
	free(d->in);
	if (d->p)
		memset(d->p, 0, d->np * sizeof(*d->p));	/* preshared keys, session keys */
	free(d->p);
	free(d);
}
