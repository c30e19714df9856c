/*
 * lab vpn peer add|rm|ls: WireGuard clients of a gateway, provisioned in
 * its wg-quick file (/etc/wireguard/IFACE.conf), on the running interface
 * through its userspace API socket, and in lab dns; each client gets a
 * wg-quick file of its own (/etc/wireguard/clients/IFACE-NAME.conf) and
 * its QR code for the WireGuard app.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "fs.h"
#include "hash.h"
#include "ipaddr.h"
#include "json.h"
#include "qr.h"
#include "vpn.h"
#include "wg_noise.h"
#include "wg_peer.h"
#include "wg_uapi.h"
#include "x25519.h"

#define MAX_ROUTES 32

struct opts {
	const char *name;
	char iface[16];
	char conf[4096];
	char clients[4096];
	const char *endpoint, *dns, *png;
	struct ipaddr route[MAX_ROUTES];
	int nroute;
	int all, qr, json, dry;
};

/* The options every subcommand shares, and the ones of add. */
static void
parse(int argc, char **argv, const char *sub, struct opts *o)
{
	const char *ifopt = NULL, *confopt = NULL, *clientsopt = NULL;
	int k, add = !strcmp(sub, "add"), ls = !strcmp(sub, "ls");

	memset(o, 0, sizeof(*o));
	o->qr = -1;
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			log_set_verbose(log_verbose() + 1);
			continue;
		}
		if (!ls && (!strcmp(a, "-n") || !strcmp(a, "--dry-run"))) {
			o->dry = 1;
			continue;
		}
		if (add && !strcmp(a, "--all")) {
			o->all = 1;
			continue;
		}
		if (add && (!strcmp(a, "--qr") || !strcmp(a, "--no-qr"))) {
			o->qr = !strcmp(a, "--qr");
			continue;
		}
		if (ls && !strcmp(a, "--json")) {
			o->json = 1;
			continue;
		}
		if (a[0] != '-') {
			if (ls || o->name)
				die_usage("peer %s: unexpected argument \"%s\"", sub, a);
			o->name = a;
			continue;
		}
		if (k + 1 >= argc)
			die_usage("peer %s: %s needs a value", sub, a);
		if (!strcmp(a, "--if"))
			ifopt = argv[++k];
		else if (!strcmp(a, "--conf"))
			confopt = argv[++k];
		else if (!strcmp(a, "--clients"))
			clientsopt = argv[++k];
		else if (add && !strcmp(a, "--endpoint"))
			o->endpoint = argv[++k];
		else if (add && !strcmp(a, "--dns"))
			o->dns = argv[++k];
		else if (add && !strcmp(a, "--png"))
			o->png = argv[++k];
		else if (add && !strcmp(a, "--route")) {
			if (o->nroute >= MAX_ROUTES ||
			    ipaddr_parse_prefix(argv[++k], AF_UNSPEC, &o->route[o->nroute]) < 0 ||
			    o->route[o->nroute].plen < 0)
				die_usage("peer add: --route %s: a prefix (ADDR/LEN)", argv[k]);
			ipaddr_mask(&o->route[o->nroute++]);
		} else
			die_usage("peer %s: unknown option %s", sub, a);
	}
	if (!ls && !o->name)
		die_usage("peer %s NAME", sub);
	/* the interface: --if, else the file's name, else wg0 */
	if (ifopt) {
		str_copy(o->iface, ifopt, sizeof(o->iface));
	} else if (confopt) {
		char tmp[4096], *b;

		str_copy(tmp, confopt, sizeof(tmp));
		b = basename(tmp);
		if (str_has_suffix(b, ".conf"))
			b[strlen(b) - 5] = '\0';
		str_copy(o->iface, b, sizeof(o->iface));
		if (strlen(b) >= sizeof(o->iface))
			die_usage("peer %s: --conf %s: its name is not an interface name (15 characters at most); give --if",
				  sub, confopt);
	} else {
		str_copy(o->iface, "wg0", sizeof(o->iface));
	}
	if (ifopt && (!*ifopt || strlen(ifopt) >= sizeof(o->iface) || strchr(ifopt, '/') ||
		      !strcmp(ifopt, ".") || !strcmp(ifopt, "..")))
		die_usage("peer %s: --if %s: an interface name (15 characters at most)", sub, ifopt);
	if (confopt)
		str_copy(o->conf, confopt, sizeof(o->conf));
	else
		snprintf(o->conf, sizeof(o->conf), "/etc/wireguard/%s.conf", o->iface);
	if (clientsopt) {
		str_copy(o->clients, clientsopt, sizeof(o->clients));
	} else {
		char tmp[4096];

		str_copy(tmp, o->conf, sizeof(tmp));
		snprintf(o->clients, sizeof(o->clients), "%s/clients", dirname(tmp));
	}
}

/* One change at a time to a gateway's file: a lock on its directory. */
static int
lock_dir(const char *conf)
{
	char tmp[4096];
	int fd;

	str_copy(tmp, conf, sizeof(tmp));
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die_errno("%s", conf);
	if (flock(fd, LOCK_EX) < 0)
		die_errno("%s: lock", tmp);
	return fd;
}

static void
load(struct wg_gw *g, const char *conf, int changing)
{
	char err[600];

	if (wg_gw_load(g, conf, err, sizeof(err)) < 0) {
		if (errno == EINVAL) {
			log_warnx("%s", err);
			exit(EXIT_USAGE);
		}
		die("%s", err);
	}
	if (changing && g->save_config)
		log_warnx("%s: SaveConfig = true: wg-quick down will write this file over from the running interface, without the \"# Name\" lines",
			  conf);
}

static void
key_line(struct buf *b, const char *k, const uint8_t key[32])
{
	char s[45];

	wg_key_encode(key, s);
	buf_addf(b, "%s = %s\n", k, s);
}

static void
prefix_list(struct buf *b, const struct ipaddr *v, int n)
{
	char s[IPADDR_STRLEN];
	int i;

	for (i = 0; i < n; i++)
		buf_addf(b, "%s%s", i ? ", " : "", ipaddr_str(&v[i], s));
}

static void
hexkey(struct buf *b, const char *k, const uint8_t key[32])
{
	buf_addf(b, "%s=", k);
	buf_addhex(b, key, 32);
	buf_addc(b, '\n');
}

static int
peer_add(struct opts *o)
{
	char name[WG_PEER_NAME_MAX + 1], ep[300], client_path[4200], err[600], fqdn[400];
	struct wg_gw g;
	struct ipaddr mine[2], allowed[MAX_ROUTES + 2 * WG_GW_MAX_ADDR + 64];
	int nmine = 0, nallowed = 0, k, lockfd, have4 = 0, have6 = 0, r;
	uint8_t priv[32], pub[32], psk[32];
	struct buf sect = BUF_INIT, file = BUF_INIT, client = BUF_INIT, req = BUF_INIT;

	if (wg_peer_name(o->name, name) < 0)
		die_usage("peer add: \"%s\": not a DNS label (letters, digits and '-', 63 at most)", o->name);
	lockfd = lock_dir(o->conf);
	load(&g, o->conf, 1);
	if ((k = wg_gw_find(&g, name)) >= 0)
		die("peer add: %s: already a peer of %s (%s:%d)", name, o->iface, o->conf, g.peer[k].first);

	/* addresses: one in the first IPv4 subnet, one in the first IPv6 one */
	for (k = 0; k < g.naddr; k++) {
		struct ipaddr sub = g.addr[k];
		int *have = sub.family == AF_INET ? &have4 : &have6;

		if (*have)
			continue;
		if (sub.plen < 0 || sub.plen > ipaddr_bits(&sub) - 2)
			continue;	/* a host address: no room for peers */
		if (wg_gw_alloc(&g, name, &sub, &mine[nmine]) < 0) {
			char s[IPADDR_STRLEN];

			ipaddr_mask(&sub);
			die("peer add: %s: no free address in %s (%s)", name, ipaddr_str(&sub, s), o->conf);
		}
		nmine++;
		*have = 1;
		ipaddr_mask(&sub);
		allowed[nallowed++] = sub;	/* the VPN's subnets go through the tunnel */
	}
	if (!nmine)
		die("peer add: %s: no Address subnet to give peers addresses from (in [Interface])", o->conf);

	/* where the client reaches us */
	if (o->endpoint)
		str_copy(ep, o->endpoint, sizeof(ep));
	else if (g.endpoint[0])
		str_copy(ep, g.endpoint, sizeof(ep));
	else
		die_usage("peer add: no endpoint known for %s: give --endpoint HOST[:PORT] (where clients reach this gateway), or put \"# Endpoint = HOST:PORT\" in [Interface] of %s",
			  o->iface, o->conf);
	{
		const char *c = strrchr(ep, ':'), *rb = strrchr(ep, ']');
		int bare6 = ep[0] != '[' && c && strchr(ep, ':') != c;	/* an IPv6 address alone */

		if (bare6 || !c || (rb && c < rb)) {
			char tmp[300];

			if (!g.listen_port)
				die_usage("peer add: --endpoint %s: no port, and %s has no ListenPort", ep, o->conf);
			snprintf(tmp, sizeof(tmp), bare6 ? "[%s]:%d" : "%s:%d", ep, g.listen_port);
			str_copy(ep, tmp, sizeof(ep));
		}
		{
			uint32_t port;

			c = strrchr(ep, ':');
			if (c == ep || str_to_u32(c + 1, 65535, &port) < 0 || !port)
				die_usage("peer add: endpoint %s: HOST:PORT, the port 1-65535", ep);
		}
	}

	/* what the client routes through the tunnel */
	if (o->all) {
		ipaddr_parse_prefix("0.0.0.0/0", AF_INET, &allowed[0]);
		ipaddr_parse_prefix("::/0", AF_INET6, &allowed[1]);
		nallowed = 2;
	} else {
		struct ipaddr home[64];
		int h;

		/* only the families the client has an address of in the tunnel */
		r = wg_gw_home_prefixes(o->iface, ep, home, 64);
		if (r < 0)
			log_debug("peer add: the gateway's own prefixes: %s", strerror(errno));
		for (h = 0; h < r; h++)
			if (home[h].family == AF_INET ? have4 : have6)
				allowed[nallowed++] = home[h];
		for (k = 0; k < o->nroute; k++)
			allowed[nallowed++] = o->route[k];
	}

	if (x25519_generate(priv) < 0 || x25519_public(pub, priv) < 0 || rand_bytes(psk, 32) < 0)
		die_errno("peer add: random keys");

	/* the gateway's side */
	buf_addf(&sect, "[Peer]\n# Name = %s\n", name);
	key_line(&sect, "PublicKey", pub);
	key_line(&sect, "PresharedKey", psk);
	buf_adds(&sect, "AllowedIPs = ");
	prefix_list(&sect, mine, nmine);
	buf_addc(&sect, '\n');
	if (wg_gw_text_add(&g, buf_cstr(&sect), &file) < 0)
		die_errno("peer add");

	/* the client's file */
	buf_adds(&client, "[Interface]\n");
	key_line(&client, "PrivateKey", priv);
	buf_adds(&client, "Address = ");
	prefix_list(&client, mine, nmine);
	buf_addc(&client, '\n');
	if (o->dns)
		buf_addf(&client, "DNS = %s\n", o->dns);
	buf_adds(&client, "\n[Peer]\n");
	key_line(&client, "PublicKey", g.pub);
	key_line(&client, "PresharedKey", psk);
	buf_addf(&client, "Endpoint = %s\n", ep);
	buf_adds(&client, "AllowedIPs = ");
	prefix_list(&client, allowed, nallowed);
	buf_adds(&client, "\nPersistentKeepalive = 25\n");
	if (buf_err(&client) < 0 || buf_err(&sect) < 0)
		die_errno("peer add");

	snprintf(client_path, sizeof(client_path), "%s/%s-%s.conf", o->clients, o->iface, name);
	{
		char s[IPADDR_STRLEN];

		hexkey(&req, "public_key", pub);
		hexkey(&req, "preshared_key", psk);
		buf_adds(&req, "replace_allowed_ips=true\n");
		for (k = 0; k < nmine; k++)
			buf_addf(&req, "allowed_ip=%s\n", ipaddr_str(&mine[k], s));
	}
	if (o->dry) {
		int running = wg_uapi_running(o->iface);

		printf("--- %s: appended\n%s--- %s (0600)\n%s--- %s/%s.sock: %s\n", o->conf, buf_cstr(&sect),
		       client_path, buf_cstr(&client), WG_UAPI_DIR, o->iface,
		       running ? "set=1" : "not running, nothing sent");
		if (running)
			printf("%s", buf_cstr(&req));
		exit(0);
	}
	if (fs_mkdir_p(o->clients, 0700) < 0)
		die_errno("peer add: %s", o->clients);
	if (fs_write_atomic(client_path, client.data, client.len, 0600) < 0)
		die_errno("peer add: %s", client_path);
	if (fs_write_atomic(o->conf, file.data, file.len, 0600) < 0) {
		int e = errno;

		unlink(client_path);
		errno = e;
		die_errno("peer add: %s", o->conf);
	}
	/* the running interface, if there is one; if it refuses, the files
	 * go back to what they were */
	if (wg_uapi_running(o->iface)) {
		if (wg_uapi_set(o->iface, buf_cstr(&req)) < 0) {
			int e = errno;

			if (fs_write_atomic(o->conf, g.text.data ? g.text.data : "", g.text.len, 0600) < 0)
				log_warn("peer add: %s: putting it back", o->conf);
			unlink(client_path);
			errno = e;
			die_errno("peer add: the running %s refused %s, nothing changed", o->iface, name);
		}
		log_debug("peer add: %s added to the running %s", name, o->iface);
	} else {
		log_debug("peer add: %s is not running: the file only", o->iface);
	}
	close(lockfd);

	/* its name */
	r = wg_peer_dns(name, have4 ? &mine[0] : NULL, have6 ? &mine[nmine - 1] : NULL, fqdn,
			sizeof(fqdn), err, sizeof(err));
	if (r < 0)
		log_warnx("peer add: %s", err);
	else if (r > 0)
		log_debug("peer add: no name in lab dns: %s", err);
	else
		log_debug("peer add: %s in lab dns", fqdn);

	fs_write_full(1, client.data, client.len);
	/* level L: the smallest symbol, about 77 columns for a typical file,
	 * which phones read easily from a screen */
	if (o->qr == 1 || o->png || (o->qr < 0 && isatty(1))) {
		struct qr *q = xmalloc(sizeof(*q));
		struct buf t = BUF_INIT;

		if (qr_encode((const uint8_t *)client.data, client.len, QR_ECC_L, q) < 0)
			die_errno("peer add: QR code");
		if (o->png) {
			if (qr_png(q, 8, QR_QUIET, &t) < 0 || fs_write_atomic(o->png, t.data, t.len, 0600) < 0)
				die_errno("peer add: %s", o->png);
			buf_reset(&t);
		}
		if (o->qr == 1 || (o->qr < 0 && isatty(1))) {
			buf_addc(&t, '\n');
			qr_text(q, &t);
			fs_write_full(1, t.data, t.len);
		}
		buf_free(&t);
		free(q);
	}
	{
		char s1[IPADDR_STRLEN], s2[IPADDR_STRLEN];

		fprintf(stderr, "%s: %s%s%s on %s; client configuration in %s\n", name,
			ipaddr_str_addr(&mine[0], s1), nmine > 1 ? ", " : "",
			nmine > 1 ? ipaddr_str_addr(&mine[1], s2) : "", o->iface, client_path);
	}
	memset(priv, 0, sizeof(priv));
	memset(client.data, 0, client.len);
	buf_free(&client);
	buf_free(&file);
	buf_free(&sect);
	buf_free(&req);
	wg_gw_free(&g);
	return 0;
}

static int
peer_rm(struct opts *o)
{
	char name[WG_PEER_NAME_MAX + 1], client_path[4200], err[600], fqdn[400];
	struct wg_gw g;
	struct buf file = BUF_INIT;
	uint8_t pub[32];
	int k, lockfd, have_pub, r;

	if (wg_peer_name(o->name, name) < 0)
		die_usage("peer rm: \"%s\": not a DNS label (letters, digits and '-', 63 at most)", o->name);
	lockfd = lock_dir(o->conf);
	load(&g, o->conf, 1);
	if ((k = wg_gw_find(&g, name)) < 0)
		die("peer rm: %s: no peer of that name in %s", name, o->conf);
	memcpy(pub, g.peer[k].pub, 32);
	have_pub = g.peer[k].have_pub;
	if (wg_gw_text_remove(&g, (size_t)k, &file) < 0)
		die_errno("peer rm");
	snprintf(client_path, sizeof(client_path), "%s/%s-%s.conf", o->clients, o->iface, name);
	if (o->dry) {
		size_t ll = 0;
		int l, running = have_pub && wg_uapi_running(o->iface);

		printf("--- %s: lines %d-%d go\n", o->conf, g.peer[k].first, g.peer[k].last);
		for (l = g.peer[k].first; l <= g.peer[k].last; l++) {
			const char *t = g.text.data, *e = t;
			int m;

			for (m = 1; m < l && (e = strchr(t, '\n')); m++)
				t = e + 1;
			ll = strcspn(t, "\n");
			printf("%.*s\n", (int)ll, t);
		}
		printf("--- %s: removed\n--- %s/%s.sock: %s\n", client_path, WG_UAPI_DIR, o->iface,
		       running ? "set=1" : "not running, nothing sent");
		if (running) {
			char key[65];

			hex_encode(pub, 32, key);
			printf("public_key=%s\nremove=true\n", key);
		}
		exit(0);
	}
	if (fs_write_atomic(o->conf, file.data ? file.data : "", file.len, 0600) < 0)
		die_errno("peer rm: %s", o->conf);
	if (have_pub && wg_uapi_running(o->iface)) {
		struct buf req = BUF_INIT;

		hexkey(&req, "public_key", pub);
		buf_adds(&req, "remove=true\n");
		if (wg_uapi_set(o->iface, buf_cstr(&req)) < 0) {
			int e = errno;

			if (fs_write_atomic(o->conf, g.text.data ? g.text.data : "", g.text.len, 0600) < 0)
				log_warn("peer rm: %s: putting it back", o->conf);
			errno = e;
			die_errno("peer rm: the running %s refused to drop %s, nothing changed", o->iface,
				  name);
		}
		buf_free(&req);
	}
	close(lockfd);
	if (unlink(client_path) < 0 && errno != ENOENT)
		log_warn("peer rm: %s", client_path);
	r = wg_peer_dns(name, NULL, NULL, fqdn, sizeof(fqdn), err, sizeof(err));
	if (r < 0)
		log_warnx("peer rm: %s", err);
	else if (r > 0)
		log_debug("peer rm: no name in lab dns: %s", err);
	buf_free(&file);
	wg_gw_free(&g);
	return 0;
}

static void
ago(char *out, size_t n, int64_t t)
{
	int64_t d = (int64_t)time(NULL) - t;

	if (!t)
		snprintf(out, n, "never");
	else if (d < 120)
		snprintf(out, n, "%llds ago", (long long)(d < 0 ? 0 : d));
	else if (d < 7200)
		snprintf(out, n, "%lldm ago", (long long)(d / 60));
	else
		snprintf(out, n, "%lldh ago", (long long)(d / 3600));
}

static int
peer_ls(struct opts *o)
{
	struct wg_gw g;
	struct wg_uapi_dev dev;
	struct wg_uapi_peer *live;
	size_t nlive, i, j;
	int running;
	struct buf out = BUF_INIT;
	struct json_writer w;

	load(&g, o->conf, 0);
	running = wg_uapi_get(o->iface, &dev) == 0;
	live = running ? dev.peers : NULL;
	nlive = running ? dev.npeers : 0;
	if (o->json) {
		json_writer_init(&w, &out, 1);
		json_begin_arr(&w);
	} else {
		buf_addf(&out, "%-16s %-44s %-34s %-12s %s\n", "NAME", "PUBLIC-KEY", "ADDRESSES",
			 "HANDSHAKE", "TRANSFER");
	}
	for (i = 0; i < g.npeer; i++) {
		const struct wg_gw_peer *p = &g.peer[i];
		const struct wg_uapi_peer *l = NULL;
		char key[45] = "-", s[IPADDR_STRLEN], hs[32] = "-", tr[64] = "-";
		struct buf addrs = BUF_INIT;
		int k;

		if (p->have_pub)
			wg_key_encode(p->pub, key);
		for (j = 0; running && p->have_pub && j < nlive; j++)
			if (!memcmp(live[j].pub, p->pub, 32))
				l = &live[j];
		if (o->json) {
			json_begin_obj(&w);
			json_key(&w, "name");
			if (p->name[0])
				json_str(&w, p->name);
			else
				json_null(&w);
			json_key(&w, "public_key");
			json_str(&w, key);
			json_key(&w, "addresses");
			json_begin_arr(&w);
			for (k = 0; k < p->nallowed; k++)
				json_str(&w, ipaddr_str(&p->allowed[k], s));
			json_end_arr(&w);
			json_key(&w, "running");
			json_bool(&w, l != NULL);
			json_key(&w, "in_file");
			json_bool(&w, 1);
			if (l) {
				json_key(&w, "endpoint");
				json_str(&w, l->endpoint);
				json_key(&w, "latest_handshake");
				json_int(&w, l->last_hs_sec);
				json_key(&w, "rx_bytes");
				json_uint(&w, l->rx);
				json_key(&w, "tx_bytes");
				json_uint(&w, l->tx);
			}
			json_end_obj(&w);
			continue;
		}
		prefix_list(&addrs, p->allowed, p->nallowed);
		if (l) {
			ago(hs, sizeof(hs), l->last_hs_sec);
			snprintf(tr, sizeof(tr), "%llu B in, %llu B out", (unsigned long long)l->rx,
				 (unsigned long long)l->tx);
		}
		buf_addf(&out, "%-16s %-44s %-34s %-12s %s\n", p->name[0] ? p->name : "-", key,
			 addrs.len ? buf_cstr(&addrs) : "-", hs, tr);
		buf_free(&addrs);
	}
	/* peers the running interface has that the file does not (wg set) */
	for (j = 0; running && j < nlive; j++) {
		const struct wg_uapi_peer *l = &live[j];
		char key[45], hs[32], tr[64];
		int k;

		for (i = 0; i < g.npeer; i++)
			if (g.peer[i].have_pub && !memcmp(g.peer[i].pub, l->pub, 32))
				break;
		if (i < g.npeer)
			continue;
		wg_key_encode(l->pub, key);
		if (o->json) {
			json_begin_obj(&w);
			json_key(&w, "name");
			json_null(&w);
			json_key(&w, "public_key");
			json_str(&w, key);
			json_key(&w, "addresses");
			json_begin_arr(&w);
			for (k = 0; k < (int)l->nallowed; k++)
				json_str(&w, l->allowed[k]);
			json_end_arr(&w);
			json_key(&w, "running");
			json_bool(&w, 1);
			json_key(&w, "in_file");
			json_bool(&w, 0);
			json_end_obj(&w);
			continue;
		}
		ago(hs, sizeof(hs), l->last_hs_sec);
		snprintf(tr, sizeof(tr), "%llu B in, %llu B out", (unsigned long long)l->rx,
			 (unsigned long long)l->tx);
		{
			struct buf al = BUF_INIT;

			for (k = 0; k < (int)l->nallowed; k++)
				buf_addf(&al, "%s%s", k ? ", " : "", l->allowed[k]);
			buf_addf(&out, "%-16s %-44s %-34s %-12s %s\n", "(not in file)", key,
				 al.len ? buf_cstr(&al) : "-", hs, tr);
			buf_free(&al);
		}
	}
	if (o->json) {
		json_end_arr(&w);
		if (json_writer_finish(&w) < 0)
			die_errno("peer ls");
		buf_addc(&out, '\n');
	}
	if (buf_err(&out) < 0 || fs_write_full(1, out.data, out.len) < 0)
		die_errno("peer ls");
	buf_free(&out);
	if (running)
		wg_uapi_free(&dev);
	wg_gw_free(&g);
	return 0;
}

int
vpn_peer_main(int argc, char **argv)
{
	struct opts o;

	if (argc < 2 || (strcmp(argv[1], "add") && strcmp(argv[1], "rm") && strcmp(argv[1], "ls")))
		die_usage("peer: add, rm or ls");
	parse(argc - 1, argv + 1, argv[1], &o);
	if (!strcmp(argv[1], "add"))
		return peer_add(&o);
	if (!strcmp(argv[1], "ls"))
		return peer_ls(&o);
	return peer_rm(&o);
}
