/* Router advertisements. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "dns.h"
#include "ra.h"

int
ra_conf_parse(struct ra_conf *rc, const struct conf *cf, const struct conf_section *s,
	      const uint8_t (*addrs)[16], int naddrs, const char *const *domains, int ndomains,
	      struct conf_err *err)
{
	size_t i;
	const char *v;
	uint64_t ms;
	int k;

	memset(rc, 0, sizeof(*rc));
	str_copy(rc->ifname, s->arg, sizeof(rc->ifname));
	rc->ifindex = (int)if_nametoindex(s->arg);
	if (!rc->ifindex)
		return conf_errf(err, cf->file, s->line, "[ra %s]: no such interface", s->arg);
	rc->interval_ms = 200000;
	rc->lifetime = 1800;
	for (i = 0; i < s->nkv; i++) {
		const struct conf_kv *kv = &s->kv[i];
		struct in6_addr a;

		if (!strcasecmp(kv->key, "prefix") || !strcasecmp(kv->key, "rdnss")) {
			int pfx = !strcasecmp(kv->key, "prefix");
			char tmp[64], *slash;

			str_copy(tmp, kv->val, sizeof(tmp));
			slash = strchr(tmp, '/');
			if (slash) {
				if (!pfx || strcmp(slash, "/64"))
					return conf_errf(err, cf->file, kv->line,
							 "%s %.64s: SLAAC prefixes are /64", kv->key, kv->val);
				*slash = '\0';
			}
			if (inet_pton(AF_INET6, tmp, &a) != 1)
				return conf_errf(err, cf->file, kv->line, "%s %.64s: not an IPv6 %s", kv->key,
						 kv->val, pfx ? "prefix" : "address");
			if ((pfx ? rc->nprefix : rc->nrdnss) >= RA_MAX)
				return conf_errf(err, cf->file, kv->line, "%s: at most %d", kv->key, RA_MAX);
			if (pfx) {
				memcpy(rc->prefix[rc->nprefix], &a, 16);
				memset(rc->prefix[rc->nprefix] + 8, 0, 8);
				rc->nprefix++;
			} else {
				memcpy(rc->rdnss[rc->nrdnss++], &a, 16);
			}
		} else if (!strcasecmp(kv->key, "dnssl")) {
			struct dns_name n;
			char abs[300];

			snprintf(abs, sizeof(abs), "%.250s.", kv->val);
			if (rc->ndnssl >= RA_MAX || dns_name_from_text(&n, abs, NULL) < 0)
				return conf_errf(err, cf->file, kv->line, "dnssl %.64s: not a domain", kv->val);
			str_copy(rc->dnssl[rc->ndnssl++], kv->val, sizeof(rc->dnssl[0]));
		}
	}
	if ((v = conf_get(s, "interval"))) {
		if (str_to_msec(v, &ms) < 0 || ms < 4000 || ms > 1800000)
			return conf_errf(err, cf->file, conf_get_kv(s, "interval")->line,
					 "interval %.32s: from 4s to 1800s (RFC 4861)", v);
		rc->interval_ms = (uint32_t)ms;
	}
	if ((v = conf_get(s, "lifetime"))) {
		if (str_to_msec(v, &ms) < 0 || ms > 9000000)
			return conf_errf(err, cf->file, conf_get_kv(s, "lifetime")->line,
					 "lifetime %.32s: 0 to 9000s", v);
		rc->lifetime = (uint16_t)(ms / 1000);
	}
	if ((v = conf_get(s, "mtu")))
		rc->mtu = (uint32_t)strtoul(v, NULL, 10);
	/* Defaults from the interface's own addresses and domains. */
	for (k = 0; k < naddrs && rc->nprefix == 0; k++) {
		memcpy(rc->prefix[0], addrs[k], 8);
		memset(rc->prefix[0] + 8, 0, 8);
		rc->nprefix = 1;
	}
	if (!rc->nrdnss && naddrs) {
		memcpy(rc->rdnss[0], addrs[0], 16);
		rc->nrdnss = 1;
	}
	for (k = 0; k < ndomains && rc->ndnssl < RA_MAX && !conf_get(s, "dnssl"); k++)
		str_copy(rc->dnssl[rc->ndnssl++], domains[k], sizeof(rc->dnssl[0]));
	if (!rc->nprefix)
		return conf_errf(err, cf->file, s->line,
				 "[ra %s]: no prefix given and no global or ULA address on it", s->arg);
	return 0;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t
ra_build(const struct ra_conf *rc, uint8_t *out, size_t cap)
{
	size_t n = 16;
	uint32_t dns_life = rc->interval_ms / 1000 * 3;
	int i;

	if (cap < 1024)
		return 0;
	memset(out, 0, cap);
	out[0] = ND_ROUTER_ADVERT;
	out[4] = 64;	/* cur hop limit */
	put16(out + 6, rc->lifetime);
	if (rc->have_mac) {
		out[n] = ND_OPT_SOURCE_LINKADDR;
		out[n + 1] = 1;
		memcpy(out + n + 2, rc->mac, 6);
		n += 8;
	}
	if (rc->mtu) {
		out[n] = ND_OPT_MTU;
		out[n + 1] = 1;
		put32(out + n + 4, rc->mtu);
		n += 8;
	}
	for (i = 0; i < rc->nprefix; i++) {
		out[n] = ND_OPT_PREFIX_INFORMATION;
		out[n + 1] = 4;
		out[n + 2] = 64;
		out[n + 3] = 0xc0;	/* on-link, autonomous */
		put32(out + n + 4, 86400);	/* valid */
		put32(out + n + 8, 14400);	/* preferred */
		memcpy(out + n + 16, rc->prefix[i], 16);
		n += 32;
	}
	if (rc->nrdnss) {
		out[n] = 25;	/* RDNSS */
		out[n + 1] = (uint8_t)(1 + 2 * rc->nrdnss);
		put32(out + n + 4, dns_life);
		for (i = 0; i < rc->nrdnss; i++)
			memcpy(out + n + 8 + 16 * i, rc->rdnss[i], 16);
		n += 8 + 16 * (size_t)rc->nrdnss;
	}
	if (rc->ndnssl) {
		size_t start = n, o = n + 8;

		for (i = 0; i < rc->ndnssl; i++) {
			struct dns_name d;
			char abs[300];

			snprintf(abs, sizeof(abs), "%.250s.", rc->dnssl[i]);
			if (dns_name_from_text(&d, abs, NULL) < 0 || o + d.len > cap - 8)
				continue;
			memcpy(out + o, d.data, d.len);
			o += d.len;
		}
		o = (o + 7) & ~(size_t)7;	/* padded to 8 octets with zeros */
		out[start] = 31;	/* DNSSL */
		out[start + 1] = (uint8_t)((o - start) / 8);
		put32(out + start + 4, dns_life);
		n = o;
	}
	return n;
}

int
ra_socket(const struct ra_conf *rc)
{
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	int hops = 255, on = 1, off = 0;
	struct icmp6_filter f;
	struct ipv6_mreq mr;

	if (fd < 0)
		return -1;
	ICMP6_FILTER_SETBLOCKALL(&f);
	ICMP6_FILTER_SETPASS(ND_ROUTER_SOLICIT, &f);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, rc->ifname, (socklen_t)strlen(rc->ifname) + 1) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &rc->ifindex, sizeof(rc->ifindex)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off)) < 0)
		goto fail;
	/* Solicitations go to all-routers. */
	memset(&mr, 0, sizeof(mr));
	inet_pton(AF_INET6, "ff02::2", &mr.ipv6mr_multiaddr);
	mr.ipv6mr_interface = (unsigned)rc->ifindex;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) < 0)
		goto fail;
	return fd;
fail:
	{
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return -1;
}

int
ra_send(int fd, const struct ra_conf *rc, const uint8_t *to)
{
	uint8_t pkt[2048];
	struct sockaddr_in6 sa;
	size_t n = ra_build(rc, pkt, sizeof(pkt));

	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_scope_id = (uint32_t)rc->ifindex;
	if (to)
		memcpy(&sa.sin6_addr, to, 16);
	else
		inet_pton(AF_INET6, "ff02::1", &sa.sin6_addr);
	return sendto(fd, pkt, n, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -1 : 0;
}

int
ra_is_solicit(const uint8_t *p, size_t len, int hoplimit)
{
	/* RFC 4861 6.1.1: hop limit 255, code 0, at least 8 bytes. */
	return len >= 8 && p[0] == ND_ROUTER_SOLICIT && p[1] == 0 && hoplimit == 255;
}
