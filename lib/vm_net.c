/* lab vm's network: the bridge, the guest's link and addresses, the
 * firewall's sets, the resolver it is given, its name in lab dns. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dns_client.h"
#include "dns_conf.h"
#include "fs.h"
#include "fw.h"
#include "hash.h"
#include "ipalloc.h"
#include "log.h"
#include "nl_route.h"
#include "vm.h"

#define DNS_CONF_PATH "/usr/local/etc/lab/dns/dns.conf"

void
vm_net_veth_name(const char *name, char out[16])
{
	uint8_t h[HASH_SHA256_LEN];
	char hex[HASH_SHA256_LEN * 2 + 1];

	if (strlen(name) <= 13) {
		snprintf(out, 16, "lv%s", name);
		return;
	}
	hash_sha256(name, strlen(name), h);
	hex_encode(h, 3, hex);
	snprintf(out, 16, "lv%.8s%.5s", name, hex);
}

static const char *
ipalloc_dir(const struct vm_store *s, char *out, size_t size)
{
	snprintf(out, size, "%s/ip", s->run);
	return out;
}

static void
host_name(char *out, size_t size)
{
	if (gethostname(out, size) < 0 || !*out)
		str_copy(out, "localhost", size);
	out[size - 1] = '\0';
}

/* The DNS view of this machine: host and domain (from lab dns's
 * configuration where there is one), server, key. */
struct dnsview {
	char host[64];
	char domain[256];
	struct dns_client cl;
	int usable;
};

static void
dns_view(struct dnsview *v)
{
	const char *path = getenv("LAB_DNS_CONF"), *dom = getenv("LAB_DNS_DOMAIN");
	struct dns_conf *conf = calloc(1, sizeof(*conf));
	struct conf_err err;
	int have_conf = 0;

	memset(v, 0, sizeof(*v));
	host_name(v->host, sizeof(v->host));
	v->host[strcspn(v->host, ".")] = '\0';
	str_copy(v->domain, dom && *dom ? dom : VM_DOMAIN, sizeof(v->domain));
	if (dns_client_init(&v->cl, NULL) < 0)
		log_debug("dns: %s", v->cl.err);
	if (conf && dns_conf_load(conf, path && *path ? path : DNS_CONF_PATH, &err) == 0) {
		char t[DNS_NAME_TEXT];

		have_conf = 1;
		str_copy(v->host, conf->host, sizeof(v->host));
		dns_name_to_text(&conf->domain, t);
		t[strlen(t) > 1 && t[strlen(t) - 1] == '.' ? strlen(t) - 1 : strlen(t)] = '\0';
		str_copy(v->domain, t, sizeof(v->domain));
		if (!v->cl.have_key && conf->nkeys) {
			v->cl.key = conf->keys[0];
			v->cl.have_key = 1;
		}
		if (!getenv("LAB_DNS_SERVER") && conf->nlisten) {
			v->cl.server = conf->listen[0];
			/* a wildcard listener is reached on loopback */
			if (v->cl.server.sa.ss_family == AF_INET) {
				struct sockaddr_in *sin = (struct sockaddr_in *)&v->cl.server.sa;

				if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
					sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			}
		}
	}
	if (conf) {
		if (have_conf)
			dns_conf_free(conf);
		free(conf);
	}
	v->cl.timeout_ms = 1000;
	v->usable = v->cl.have_key;
}

/* Whether something serves DNS (UDP 53) on addr or on every address. */
static int
dns_listens_on(const struct ipaddr *addr)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL;
	int found = 0;

	if (fs_read_file("/proc/net/udp", &b, 4 << 20) < 0) {
		buf_free(&b);
		return 0;
	}
	for (line = strtok_r(b.data ? b.data : (char *)"", "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long a, port;
		uint32_t v;
		char *p = strchr(line, ':');

		if (!p || sscanf(p + 1, " %lx:%lx", &a, &port) != 2 || port != 53)
			continue;
		/* printed as the native value of the big-endian address */
		v = (uint32_t)a;
		if (v == 0 || !memcmp(&v, addr->a, 4))
			found = 1;
	}
	buf_free(&b);
	return found;
}

/* The host's own resolvers a guest can reach (not loopback ones). */
static void
host_resolvers(struct buf *out)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL;

	if (fs_read_file("/etc/resolv.conf", &b, 65536) < 0) {
		buf_free(&b);
		return;
	}
	for (line = strtok_r(b.data ? b.data : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char ns[128];
		struct ipaddr ip;

		if (sscanf(line, " nameserver %127s", ns) != 1 || ipaddr_parse(ns, AF_UNSPEC, &ip) < 0)
			continue;
		if ((ip.family == AF_INET && ip.a[0] == 127) ||
		    (ip.family == AF_INET6 && !memcmp(ip.a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16)))
			continue;
		buf_addf(out, "nameserver %s\n", ns);
	}
	buf_free(&b);
}

static int
find_link(struct nl_sock *nl, const char *name, struct nl_link_info *out)
{
	struct nl_link_info *v;
	struct nl_err err;
	size_t n, i;
	int found = 0;

	if (nl_link_dump(nl, &v, &n, &err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, name)) {
			*out = v[i];
			found = 1;
			break;
		}
	free(v);
	return found;
}

static int
talk(struct vm_store *s, struct nl_sock *nl, struct nl_buf *b, const char *what)
{
	struct nl_err err;
	char e[300];

	if (nl_talk(nl, b, NULL, NULL, &err) < 0) {
		nl_buf_reset(b);
		return vm_fail(s, err.errnum, "%s: %s", what, nl_strerror(&err, e, sizeof(e)));
	}
	nl_buf_reset(b);
	return 0;
}

/* Bridge up with its gateway addresses. */
static int
ensure_bridge(struct vm_store *s, struct nl_sock *nl, const struct ipalloc_subnet *sub)
{
	unsigned char mem[4096] __attribute__((aligned(4)));
	struct nl_buf b;
	struct nl_link_info li;
	struct nl_addr_info *addrs;
	struct nl_err err;
	size_t n, i;
	int r, have4 = 0, have6 = 0;

	nl_buf_init(&b, mem, sizeof(mem));
	r = find_link(nl, sub->name, &li);
	if (r < 0)
		return vm_fail(s, errno, "reading links: %s", strerror(errno));
	if (r == 0) {
		struct nl_link_spec ls;

		memset(&ls, 0, sizeof(ls));
		ls.name = sub->name;
		ls.kind = "bridge";
		ls.up = 1;
		ls.peer_netns_fd = ls.netns_fd = -1;
		nl_link_add(&b, &ls);
		if (talk(s, nl, &b, sub->name) < 0 && errno != EEXIST)
			return -1;
		if (find_link(nl, sub->name, &li) != 1)
			return vm_fail(s, ENODEV, "%s: bridge vanished", sub->name);
	} else if (strcmp(li.kind, "bridge")) {
		return vm_fail(s, EEXIST, "%s exists and is not a bridge", sub->name);
	}
	if (nl_addr_dump(nl, AF_UNSPEC, &addrs, &n, &err) < 0)
		return vm_fail(s, err.errnum, "reading addresses: %s", strerror(err.errnum));
	for (i = 0; i < n; i++) {
		if (addrs[i].index != li.index)
			continue;
		if (addrs[i].addr.family == AF_INET && !memcmp(addrs[i].addr.a, sub->gw4.a, 4))
			have4 = 1;
		if (addrs[i].addr.family == AF_INET6 && !memcmp(addrs[i].addr.a, sub->gw6.a, 16))
			have6 = 1;
	}
	free(addrs);
	if (!have4)
		nl_addr_add(&b, li.index, &sub->gw4);
	if (!have6 && sub->gw6.family)
		nl_addr_add_flags(&b, li.index, &sub->gw6, IFA_F_NODAD);
	if (!(li.flags & IFF_UP)) {
		struct nl_link_change ch = { sub->name, 1, 0, -1, -1 };

		nl_link_set(&b, &ch);
	}
	if (b.len && talk(s, nl, &b, sub->name) < 0 && errno != EEXIST)
		return -1;
	return li.index;
}

/* The interface of the default route, for masquerading out of. */
static int
default_dev(struct nl_sock *nl, char *out)
{
	struct nl_route_info *r;
	struct nl_err err;
	size_t n, i;
	int found = 0;

	if (nl_route_dump(nl, AF_INET, RT_TABLE_MAIN, &r, &n, &err) < 0)
		return 0;
	for (i = 0; i < n && !found; i++)
		if (r[i].dst.plen == 0 && r[i].oif > 0 && if_indextoname((unsigned)r[i].oif, out))
			found = 1;
	free(r);
	return found;
}

/*
 * The bridge's firewall membership: with a lab firewall in place, the
 * bridge joins internal_ifs and its prefixes the masquerade sets; without
 * one, a table inet lab that accepts everything and only masquerades the
 * bridge's prefixes out of the default route's interface (so nothing the
 * host allowed before is blocked).
 */
static int
ensure_fw(struct vm_store *s, struct nl_sock *rt, const struct ipalloc_subnet *sub)
{
	unsigned char *mem = malloc(65536);
	struct nl_sock nf;
	struct nl_buf b;
	struct nl_err err;
	char p4[IPADDR_STRLEN], p6[IPADDR_STRLEN], e[300];
	int rc = -1, exists;

	if (!mem)
		return vm_fail(s, ENOMEM, "out of memory");
	if (nl_open(&nf, NETLINK_NETFILTER) < 0) {
		free(mem);
		return vm_fail(s, errno, "netfilter socket: %s", strerror(errno));
	}
	nl_buf_init(&b, mem, 65536);
	exists = fw_exists(&nf, &err);
	if (exists < 0) {
		vm_fail(s, err.errnum, "firewall: %s", nl_strerror(&err, e, sizeof(e)));
		goto out;
	}
	ipaddr_str(&sub->v4, p4);
	if (sub->ula.family)
		ipaddr_str(&sub->ula, p6);
	if (exists) {
		/* one batch per message: the kernel takes one batch per send */
		char *words[3] = { (char *)sub->name, p4, p6 };
		const char *sets[3] = { "internal_ifs", "masq_v4", "masq_v6" };
		int i;

		for (i = 0; i < (sub->ula.family ? 3 : 2); i++) {
			nl_buf_reset(&b);
			if (fw_build_elems(&b, 0, sets[i], 1, &words[i], e, sizeof(e)) < 0) {
				vm_fail(s, EINVAL, "firewall: %s", e);
				goto out;
			}
			if (nl_talk(&nf, &b, NULL, NULL, &err) < 0 && err.errnum != EEXIST) {
				vm_fail(s, err.errnum, "firewall (set %s): %s", sets[i],
				     nl_strerror(&err, e, sizeof(e)));
				goto out;
			}
		}
		rc = 0;
		goto out;
	} else {
		struct fw_config c;
		struct fw_iface in, ext;
		struct fw_prefix mq[2];

		memset(&c, 0, sizeof(c));
		memset(&in, 0, sizeof(in));
		memset(&ext, 0, sizeof(ext));
		memset(mq, 0, sizeof(mq));
		str_copy(c.file, "lab vm", sizeof(c.file));
		c.input = c.forward = c.output = FW_ACCEPT;
		c.icmp = 1;
		c.trust = 1;
		str_copy(in.name, sub->name, sizeof(in.name));
		c.internal = &in;
		c.ninternal = 1;
		if (default_dev(rt, ext.name)) {
			c.external = &ext;
			c.nexternal = 1;
		}
		mq[0].p = sub->v4;
		c.nmasq = 1;
		if (sub->ula.family)
			mq[c.nmasq++].p = sub->ula;
		c.masq = mq;
		if (fw_build(&b, &c, NULL) < 0) {
			vm_fail(s, errno, "firewall: %s", strerror(errno));
			goto out;
		}
	}
	if (nl_talk(&nf, &b, NULL, NULL, &err) < 0 && err.errnum != EEXIST) {
		vm_fail(s, err.errnum, "firewall (table inet %s): %s", FW_TABLE,
		     nl_strerror(&err, e, sizeof(e)));
		goto out;
	}
	rc = 0;
out:
	nl_close(&nf);
	free(mem);
	return rc;
}

static int
set_forwarding(void)
{
	char c = 0;
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDWR | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1 || c != '1')
		rc = pwrite(fd, "1\n", 2, 0) == 2 ? 0 : -1;
	close(fd);
	return rc;
}

int
vm_net_prepare(struct vm_store *s, struct vm_config *c, struct vm_netplan *p)
{
	struct buf rs = BUF_INIT;
	struct dnsview dv;

	memset(p, 0, sizeof(*p));
	p->net = c->net;
	if (c->net == VM_NET_NONE)
		return 0;	/* no link, no address, no name, nothing to resolve with */
	str_copy(p->link, c->link, sizeof(p->link));
	vm_net_veth_name(c->name, p->veth);
	dns_view(&dv);
	snprintf(p->search, sizeof(p->search), "%.15s.%.63s.%.160s", c->link, dv.host, dv.domain);
	snprintf(p->fqdn, sizeof(p->fqdn), "%.63s.%.190s", c->name, p->search);

	if (c->net == VM_NET_BRIDGE) {
		struct ipalloc a;
		struct ipalloc_subnet sub;
		struct ipalloc_lease l;
		struct nl_sock nl;
		char dir[1100], host[256];
		int r;

		if (nl_open(&nl, NETLINK_ROUTE) < 0)
			return vm_fail(s, errno, "netlink: %s", strerror(errno));
		memset(&a, 0, sizeof(a));
		host_name(host, sizeof(host));
		a.dir = ipalloc_dir(s, dir, sizeof(dir));
		a.host = host;
		a.reserved = IPALLOC_RESERVED;
		a.nl = &nl;
		r = ipalloc_subnet(&a, c->link, &sub);
		if (r < 0) {
			nl_close(&nl);
			return vm_fail(s, errno, "%s: %s", c->link, a.err);
		}
		if (ensure_bridge(s, &nl, &sub) < 0 || ensure_fw(s, &nl, &sub) < 0) {
			nl_close(&nl);
			return -1;
		}
		nl_close(&nl);
		if (set_forwarding() < 0)
			log_debug("ip_forward: %s", strerror(errno));
		p->gw4 = sub.gw4;
		p->gw6 = sub.gw6;
		if (!strcmp(c->ip, "auto")) {
			if (ipalloc_lease(&a, c->link, c->name, &l) < 0)
				return vm_fail(s, errno, "%s", a.err);
			p->v4 = l.v4;
			p->v6 = l.v6;
		} else {
			if (ipaddr_parse(c->ip, AF_INET, &p->v4) < 0)
				return vm_fail(s, EINVAL, "--ip %s: expected auto or an IPv4 address", c->ip);
			p->v4.plen = sub.v4.plen;
			if (!ipaddr_contains(&sub.v4, &p->v4))
				return vm_fail(s, EINVAL, "--ip %s: not inside %s's subnet", c->ip, c->link);
			if (ipalloc_ula_addr(host, c->link, c->name, &p->v6) < 0)
				memset(&p->v6, 0, sizeof(p->v6));
		}
		c->v4 = p->v4;
		c->v6 = p->v6;
		/* lab dns on the bridge if it listens there, else the host's */
		if (dns_listens_on(&p->gw4)) {
			char t[IPADDR_STRLEN];

			buf_addf(&rs, "nameserver %s\n", ipaddr_str_addr(&p->gw4, t));
		}
	} else if (c->net == VM_NET_MACVLAN) {
		if (strcmp(c->ip, "auto")) {
			if (ipaddr_parse(c->ip, AF_INET, &p->v4) < 0 || p->v4.plen < 0)
				return vm_fail(s, EINVAL, "--ip %s: expected ADDRESS/PREFIX for macvlan", c->ip);
			if (c->gateway[0] && ipaddr_parse(c->gateway, AF_INET, &p->gw4) < 0)
				return vm_fail(s, EINVAL, "--gateway %s: not an IPv4 address", c->gateway);
		}
		c->v4 = p->v4;
	}
	if (!rs.len)
		host_resolvers(&rs);
	if (c->net != VM_NET_NONE)
		buf_addf(&rs, "search %s\n", p->search);
	str_copy(p->resolv, buf_cstr(&rs), sizeof(p->resolv));
	buf_free(&rs);
	return 0;
}

static void
default_route(struct nl_buf *b, const struct ipaddr *gw, int oif)
{
	struct nl_route_spec r;

	memset(&r, 0, sizeof(r));
	r.dst.family = gw->family;
	r.dst.plen = 0;
	r.gw = *gw;
	r.gw.plen = -1;
	r.oif = oif;
	nl_route_add(b, &r);
}

/* Configure the guest's side, with a socket made inside its namespace. */
static int
configure_inside(struct vm_store *s, const struct vm_netplan *p, int nsfd)
{
	unsigned char mem[4096] __attribute__((aligned(4)));
	struct nl_buf b;
	struct nl_sock nl;
	struct nl_link_info li;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), rc = -1;

	if (self < 0)
		return vm_fail(s, errno, "/proc/self/ns/net: %s", strerror(errno));
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		close(self);
		return vm_fail(s, errno, "entering the guest's network: %s", strerror(errno));
	}
	rc = nl_open(&nl, NETLINK_ROUTE);
	if (setns(self, CLONE_NEWNET) < 0) {
		/* cannot happen for a process that just left it; do not go on
		 * in the wrong namespace */
		abort();
	}
	close(self);
	if (rc < 0)
		return vm_fail(s, errno, "netlink in the guest: %s", strerror(errno));
	rc = -1;
	nl_buf_init(&b, mem, sizeof(mem));
	{
		struct nl_link_change lo = { "lo", 1, 0, -1, -1 };

		nl_link_set(&b, &lo);
	}
	if (p->net != VM_NET_NONE) {
		struct nl_link_change up = { "eth0", 1, 0, -1, -1 };

		if (find_link(&nl, "eth0", &li) != 1) {
			vm_fail(s, ENODEV, "eth0 is missing in the guest");
			goto out;
		}
		nl_link_set(&b, &up);
		if (p->v4.family)
			nl_addr_add(&b, li.index, &p->v4);
		if (p->v6.family)
			nl_addr_add_flags(&b, li.index, &p->v6, IFA_F_NODAD);
		if (p->gw4.family)
			default_route(&b, &p->gw4, li.index);
		if (p->gw6.family && p->net == VM_NET_BRIDGE)
			default_route(&b, &p->gw6, li.index);
	}
	if (talk(s, &nl, &b, "guest network") < 0)
		goto out;
	rc = 0;
out:
	nl_close(&nl);
	return rc;
}

int
vm_net_attach(struct vm_store *s, const struct vm_netplan *p, pid_t pid)
{
	unsigned char mem[4096] __attribute__((aligned(4)));
	struct nl_buf b;
	struct nl_sock nl;
	struct nl_link_info li;
	struct nl_link_spec ls;
	char path[64];
	int nsfd, rc = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return vm_fail(s, errno, "%s: %s", path, strerror(errno));
	if (p->net == VM_NET_NONE) {
		rc = configure_inside(s, p, nsfd);
		close(nsfd);
		return rc;
	}
	if (nl_open(&nl, NETLINK_ROUTE) < 0) {
		close(nsfd);
		return vm_fail(s, errno, "netlink: %s", strerror(errno));
	}
	nl_buf_init(&b, mem, sizeof(mem));
	if (find_link(&nl, p->link, &li) != 1) {
		vm_fail(s, ENODEV, "%s: no such interface", p->link);
		goto out;
	}
	memset(&ls, 0, sizeof(ls));
	ls.peer_netns_fd = ls.netns_fd = -1;
	if (p->net == VM_NET_BRIDGE) {
		ls.name = p->veth;
		ls.kind = "veth";
		ls.peer = "eth0";
		ls.peer_netns_fd = nsfd;
		ls.master = li.index;
		ls.up = 1;
	} else {
		ls.name = "eth0";
		ls.kind = "macvlan";
		ls.link = li.index;
		ls.macvlan_mode = MACVLAN_MODE_BRIDGE;
		ls.netns_fd = nsfd;
	}
	nl_link_add(&b, &ls);
	if (talk(s, &nl, &b, p->net == VM_NET_BRIDGE ? p->veth : "macvlan") < 0)
		goto out;
	if (configure_inside(s, p, nsfd) < 0) {
		if (p->net == VM_NET_BRIDGE) {
			nl_link_del(&b, p->veth);
			nl_talk(&nl, &b, NULL, NULL, NULL);
		}
		goto out;
	}
	rc = 0;
out:
	nl_close(&nl);
	close(nsfd);
	return rc;
}

void
vm_net_detach(const struct vm_netplan *p)
{
	unsigned char mem[1024] __attribute__((aligned(4)));
	struct nl_buf b;
	struct nl_sock nl;
	struct nl_err err;

	if (p->net != VM_NET_BRIDGE || !p->veth[0] || nl_open(&nl, NETLINK_ROUTE) < 0)
		return;
	nl_buf_init(&b, mem, sizeof(mem));
	nl_link_del(&b, p->veth);
	nl_talk(&nl, &b, NULL, NULL, &err);	/* ENODEV: gone with the namespace */
	nl_close(&nl);
}

int
vm_net_release(struct vm_store *s, const struct vm_config *c)
{
	struct ipalloc a;
	char dir[1100], host[256];

	if (c->net != VM_NET_BRIDGE || strcmp(c->ip, "auto"))
		return 0;
	memset(&a, 0, sizeof(a));
	host_name(host, sizeof(host));
	a.dir = ipalloc_dir(s, dir, sizeof(dir));
	a.host = host;
	if (ipalloc_release(&a, c->link, c->name) < 0 && errno != ENOENT)
		return vm_fail(s, errno, "%s", a.err);
	return 0;
}

/* ---- names ---- */

static int
dns_update(struct vm_store *s, const char *fqdn, const struct vm_netplan *p)
{
	struct dnsview v;
	struct dns_name name, zone;
	struct dns_update_rr rr[4];
	size_t n = 0;
	int rcode;

	dns_view(&v);
	if (!v.usable)
		return 1;
	if (dns_name_from_text(&name, fqdn, NULL) < 0) {
		char abs[300];

		snprintf(abs, sizeof(abs), "%.250s.", fqdn);
		if (dns_name_from_text(&name, abs, NULL) < 0)
			return vm_fail(s, EINVAL, "%s: not a domain name", fqdn);
	}
	if (dns_client_find_zone(&v.cl, &name, &zone) < 0) {
		if (errno == ECONNREFUSED || errno == ETIMEDOUT || errno == ENETUNREACH) {
			log_debug("dns: %s", v.cl.err);
			return 1;	/* no lab dns running here */
		}
		return vm_fail(s, errno, "dns: %s", v.cl.err);
	}
	/* replace: both address RRsets go, then the new ones come */
	rr[n++] = (struct dns_update_rr){ &name, DNS_T_A, DNS_C_ANY, 0, NULL, 0 };
	rr[n++] = (struct dns_update_rr){ &name, DNS_T_AAAA, DNS_C_ANY, 0, NULL, 0 };
	if (p && p->v4.family)
		rr[n++] = (struct dns_update_rr){ &name, DNS_T_A, DNS_C_IN, 60, p->v4.a, 4 };
	if (p && p->v6.family)
		rr[n++] = (struct dns_update_rr){ &name, DNS_T_AAAA, DNS_C_IN, 60, p->v6.a, 16 };
	if (dns_client_update(&v.cl, &zone, rr, n, &rcode) < 0)
		return vm_fail(s, errno, "dns update of %s: %s", fqdn, v.cl.err);
	return 0;
}

int
vm_dns_register(struct vm_store *s, const struct vm_netplan *p)
{
	if (p->net == VM_NET_NONE || (!p->v4.family && !p->v6.family))
		return 1;
	return dns_update(s, p->fqdn, p);
}

int
vm_dns_unregister(struct vm_store *s, const char *fqdn)
{
	if (!fqdn || !*fqdn)
		return 1;
	return dns_update(s, fqdn, NULL);
}
