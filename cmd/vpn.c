/*
 * lab vpn: a userspace WireGuard (lib/wg_dev) as wg-quick brings one up and
 * wg drives it, keys as wg writes them, and the subcommands of their own
 * files (vpn.h): clients of a gateway with QR codes, an SSH bastion, an
 * OpenVPN gateway, one port for all.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "ev.h"
#include "fs.h"
#include "hash.h"
#include "ipaddr.h"
#include "vpn.h"
#include "json.h"
#include "log.h"
#include "spawn.h"
#include "wg_dev.h"
#include "wg_uapi.h"
#include "wg_noise.h"
#include "x25519.h"

const char vpn_usage[] =
	"usage: lab vpn genkey            a private key (base64, as wg genkey)\n"
	"       lab vpn pubkey < PRIVATE  its public key (as wg pubkey)\n"
	"       lab vpn genpsk            a preshared key (as wg genpsk)\n"
	"       lab vpn probe --key FILE --peer PUBKEY --endpoint IP:PORT [--psk FILE]\n"
	"                     [--ping ADDR --from ADDR] [--timeout SECONDS] [--flood SECONDS]\n"
	"       lab vpn run CONF          the interface CONF describes (a wg-quick file;\n"
	"                                 its name is the file's), until SIGINT/SIGTERM\n"
	"       lab vpn up CONF|IFACE [-d]  the same as a daemon (IFACE: /etc/wireguard/IFACE.conf);\n"
	"                                 -d stays in the foreground\n"
	"       lab vpn down CONF|IFACE   stop it (PreDown, DNS, PostDown)\n"
	"       lab vpn show [IFACE] [--json]  interfaces as wg show prints them (any\n"
	"                                 userspace implementation: lab, wireguard-go)\n"
	"       lab vpn qr [--ecc L|M|Q|H] [--png FILE [--scale N]] [--ascii] [--info]\n"
	"                  [--version N] [--mask N] [--8bit] < DATA\n"
	"                                 DATA as a QR code (terminal, or a PNG)\n"
	"       lab vpn peer add NAME [--if IFACE] [--conf FILE] [--clients DIR]\n"
	"                    [--endpoint HOST[:PORT]] [--dns ADDR] [--all | --route PREFIX ...]\n"
	"                    [--qr | --no-qr] [--png FILE] [-n] [-v]\n"
	"       lab vpn peer rm NAME [--if IFACE] [--conf FILE] [--clients DIR] [-n] [-v]\n"
	"       lab vpn peer ls [--if IFACE] [--conf FILE] [--json]\n"
	"       lab vpn openvpn init [--dir D] [--proto udp|tcp|both] [--port N]\n"
	"                     [--udp-port N] [--tcp-port N] [--subnet CIDR] [--tcp-subnet CIDR]\n"
	"                     [--remote HOST] [--route CIDR]... [--days N]\n"
	"       lab vpn openvpn client NAME [--dir D] [--remote HOST[:PORT]] [--proto udp|tcp]\n"
	"       lab vpn openvpn revoke NAME [--dir D]\n"
	"       lab vpn openvpn ls [--dir D] [--json]\n"
	"       lab vpn openvpn run [--dir D] [--openvpn PATH] [-v]\n"
	"       lab vpn bastion [--conf FILE] --authorized-keys FILE --allow RULE...\n"
	"                     [--listen ADDR:PORT] [--host-key FILE] [--max-auth-fail N]\n"
	"                     [--ban DURATION] [--login-grace DURATION] [--max-sessions N]\n"
	"                     [--max-pending N] [--user USER] [-d] [-n] [-v]\n"
	"       lab vpn mux --listen ADDR:PORT [--ssh|--tls|--http|--openvpn|--default HOST:PORT]\n"
	"                   [--tls-sni NAME=HOST:PORT]... [--timeout MS] [--connect-timeout MS]\n"
	"                   [--max-conns N] [--user USER] [-c FILE] [-n] [-v]\n"
	"                                 one TCP port for all of them, as sslh\n"
	"\n"
	"probe makes a WireGuard handshake with a peer from a UDP socket (no tunnel\n"
	"device), and with --ping sends an ICMP echo through it from --from (an\n"
	"address the peer allows for this key) and waits for the reply: a check\n"
	"that a peer is up and takes this key. --flood resends one initiation as\n"
	"fast as it can for SECONDS instead and counts the cookie replies: how a\n"
	"gateway behaves under a handshake flood.\n"
	"\n"
	"peer add gives a new client of the gateway IFACE (default wg0; its file is\n"
	"/etc/wireguard/IFACE.conf unless --conf) keys, a preshared key and addresses\n"
	"in the interface's Address subnets (the same name, the same address), adds\n"
	"it to the file (a [Peer] with \"# Name = NAME\") and to the running interface,\n"
	"registers NAME.wg.HOST.home.arpa in lab dns when that runs, and writes\n"
	"the client's wg-quick file to DIR/IFACE-NAME.conf (DIR: clients/ beside the\n"
	"gateway's file), printed with its QR code (--qr, the default on a terminal).\n"
	"The client routes the VPN subnets and the gateway's directly connected\n"
	"prefixes (and each --route) through the tunnel, or everything with --all.\n"
	"Without --endpoint, a \"# Endpoint = HOST:PORT\" line in [Interface] is used.\n"
	"-n prints what would be written and sent, and changes nothing.\n"
	"\n"
	"openvpn is an OpenVPN gateway on the system's openvpn: init makes a CA, the\n"
	"server's certificate, a tls-crypt-v2 server key, a CRL and one server\n"
	"configuration per protocol in D (default /etc/lab/openvpn), and refuses a D\n"
	"that already holds a CA; client writes\n"
	"D/clients/NAME.ovpn with everything inline; revoke re-signs the CRL, which\n"
	"openvpn reads again for each new connection; run starts one openvpn per\n"
	"instance and restarts one that dies, until SIGTERM (SIGHUP is passed on).\n"
	"\n"
	"bastion is an SSH server that only forwards: ssh -J, ssh -W and ssh -L\n"
	"through it reach what --allow admits, for the keys of --authorized-keys\n"
	"(public keys only; lines with options are skipped). No shell, exec,\n"
	"subsystem, agent, X11 or remote forwarding. RULE: [!]HOST[:PORTS], HOST\n"
	"an address, a network (10.0.0.0/8, [fd00::/8]), a name or *.suffix, PORTS\n"
	"* or 22,443,8000-8099 (22 when none); ! denies an address range. A name\n"
	"is resolved by the bastion: a name rule admits its addresses except\n"
	"loopback, link-local, multicast and the bastion's own, which only an\n"
	"address rule admits; deny rules cover names' addresses too. Listens on\n"
	"0.0.0.0:22; the host key (ed25519, made on first start) defaults to\n"
	"/var/lib/lab/vpn/bastion/ssh_host_ed25519_key. After --max-auth-fail\n"
	"(5) failed connections from one address within --ban (10m), its\n"
	"connections are closed at once for --ban, as are those past\n"
	"--max-pending (32) from one address still authenticating, and past\n"
	"--max-sessions (256) in all. -d: foreground (else the log\n"
	"goes to bastion.log beside the host key); -n: print the rules and keys;\n"
	"--user: run as USER once listening (authorized_keys must be readable).\n"
	"--conf FILE holds the same settings as KEY = VALUE lines (allow repeats);\n"
	"options on the command line come after it. SIGHUP reads the file, the\n"
	"rules and authorized_keys again: a bad one leaves the running ones, a key\n"
	"taken away ends its sessions.\n"
	"\n"
	"mux sniffs each connection's first bytes: SSH, TLS (a ClientHello; its\n"
	"server name picks a --tls-sni backend, exact names before *.SUFFIX, else\n"
	"--tls), HTTP, OpenVPN over TCP; anything else, or a client silent for\n"
	"--timeout (default 2000 ms: protocols where the server speaks first), goes\n"
	"to --default. Backends are names or addresses ([V6]:PORT), resolved at\n"
	"start; HOST:PORT,proxy-v1 (or -v2) sends that backend a PROXY protocol\n"
	"header first. -c FILE: the same keys in a file (ssh = HOST:PORT, in [mux]\n"
	"or before any section). -n prints what they resolved to. Root is given up\n"
	"for --user (nobody) once the port is bound. SIGHUP reads the options and\n"
	"files again (new connections use them; a mistake keeps what runs). One log\n"
	"line per connection.\n";

static void
print_key(const uint8_t k[32])
{
	char b[45];

	wg_key_encode(k, b);
	printf("%s\n", b);
}

static void
read_key(const char *file, uint8_t k[32], const char *what)
{
	struct buf b = BUF_INIT;
	char *s;

	if (fs_read_file(file, &b, 4096) < 0)
		die_errno("%s: %s", what, file);
	s = (char *)buf_cstr(&b);
	s[strcspn(s, "\r\n")] = '\0';
	if (wg_key_decode(s, k) < 0)
		die("%s: %s: not a WireGuard key (44 characters of base64)", what, file);
	memset(b.data, 0, b.len);
	buf_free(&b);
}

/* An IPv4 ICMP echo request from src to dst. */
static size_t
echo_request(uint8_t *p, struct in_addr src, struct in_addr dst, uint16_t id, uint16_t seq)
{
	size_t n = 20 + 8 + 32;
	uint16_t c;
	int i;

	memset(p, 0, n);
	p[0] = 0x45;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	p[8] = 64;	/* ttl */
	p[9] = 1;	/* icmp */
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	c = hash_inet_fold(hash_inet_sum(p, 20, 0));
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[20] = 8;	/* echo request */
	p[24] = (uint8_t)(id >> 8);
	p[25] = (uint8_t)id;
	p[26] = (uint8_t)(seq >> 8);
	p[27] = (uint8_t)seq;
	for (i = 0; i < 32; i++)
		p[28 + i] = (uint8_t)('a' + i % 26);
	c = hash_inet_fold(hash_inet_sum(p + 20, n - 20, 0));
	p[22] = (uint8_t)(c >> 8);
	p[23] = (uint8_t)c;
	return n;
}

static int
cmd_probe(int argc, char **argv)
{
	const char *keyf = NULL, *peer = NULL, *endpoint = NULL, *pskf = NULL, *ping = NULL, *from = NULL;
	struct wg_identity me;
	struct wg_handshake hs;
	struct wg_session ses;
	struct sockaddr_in ep;
	uint8_t peer_pub[32], psk[32], msg[2048];
	struct in_addr src, dst;
	int k, fd, timeout_ms = 5000, tries, flood = 0;
	uint32_t index;
	uint64_t t0;
	char host[64], *colon;

	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if (k + 1 >= argc)
			die_usage("%s needs a value", a);
		if (!strcmp(a, "--key"))
			keyf = argv[++k];
		else if (!strcmp(a, "--peer"))
			peer = argv[++k];
		else if (!strcmp(a, "--endpoint"))
			endpoint = argv[++k];
		else if (!strcmp(a, "--psk"))
			pskf = argv[++k];
		else if (!strcmp(a, "--ping"))
			ping = argv[++k];
		else if (!strcmp(a, "--from"))
			from = argv[++k];
		else if (!strcmp(a, "--timeout"))
			timeout_ms = atoi(argv[++k]) * 1000;
		else if (!strcmp(a, "--flood")) {
			if ((flood = atoi(argv[++k])) <= 0)
				die_usage("--flood %s: seconds, 1 or more", argv[k]);
		}
		else
			die_usage("probe: unknown option %s", a);
	}
	if (!keyf || !peer || !endpoint)
		die_usage("probe --key FILE --peer PUBKEY --endpoint IP:PORT");
	if (!ping != !from)
		die_usage("probe: --ping ADDR and --from ADDR go together");
	read_key(keyf, me.priv, "--key");
	if (x25519_public(me.pub, me.priv) < 0)
		die("--key %s: gives no public key", keyf);
	if (wg_key_decode(peer, peer_pub) < 0)
		die_usage("--peer %s: not a WireGuard public key", peer);
	memset(psk, 0, sizeof(psk));
	if (pskf)
		read_key(pskf, psk, "--psk");
	str_copy(host, endpoint, sizeof(host));
	colon = strrchr(host, ':');
	memset(&ep, 0, sizeof(ep));
	ep.sin_family = AF_INET;
	if (!colon || (*colon = '\0', inet_pton(AF_INET, host, &ep.sin_addr) != 1) || atoi(colon + 1) < 1 ||
	    atoi(colon + 1) > 65535)
		die_usage("--endpoint %s: expected IPv4:PORT", endpoint);
	ep.sin_port = htons((uint16_t)atoi(colon + 1));
	if (ping && (inet_pton(AF_INET, ping, &dst) != 1 || inet_pton(AF_INET, from, &src) != 1))
		die_usage("--ping and --from: IPv4 addresses");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ep, sizeof(ep)) < 0)
		die_errno("%s", endpoint);
	rand_bytes(&index, sizeof(index));
	if (flood) {
		uint64_t sent = 0, cookies = 0, end = mono_ms() + (uint64_t)flood * 1000;

		if (wg_initiation(&hs, &me, peer_pub, psk, index, msg) < 0)
			die("--peer %s: a low-order key, no handshake possible", peer);
		while (mono_ms() < end) {
			uint8_t in[256];
			ssize_t n;
			int i;

			for (i = 0; i < 64; i++)
				if (send(fd, msg, WG_INIT_LEN, MSG_DONTWAIT) == WG_INIT_LEN)
					sent++;
			while ((n = recv(fd, in, sizeof(in), MSG_DONTWAIT)) > 0)
				if (n == WG_COOKIE_LEN && in[0] == 3)
					cookies++;
			usleep(2000);
		}
		printf("%llu initiations sent in %d s, %llu cookie replies\n", (unsigned long long)sent, flood,
		       (unsigned long long)cookies);
		close(fd);
		return 0;
	}
	t0 = mono_us();
	for (tries = 0;; tries++) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (tries * 1000 >= timeout_ms)
			die("%s: no handshake response (a wrong key or preshared key, or nothing there)",
			    endpoint);
		if (wg_initiation(&hs, &me, peer_pub, psk, index, msg) < 0)
			die("--peer %s: a low-order key, no handshake possible", peer);
		if (send(fd, msg, WG_INIT_LEN, 0) < 0 && errno != ECONNREFUSED)
			die_errno("%s: send", endpoint);
		if (poll(&p, 1, 1000) <= 0)
			continue;	/* WireGuard retries after 5 s; a probe sooner */
		n = recv(fd, msg, sizeof(msg), 0);
		if (n > 0 && wg_consume_response(&hs, &me, msg, (size_t)n, &ses) == 0)
			break;
	}
	printf("handshake with %s: %.1f ms\n", endpoint, (double)(mono_us() - t0) / 1000);
	if (ping) {
		uint8_t pkt[128];
		size_t plen = echo_request(pkt, src, dst, (uint16_t)getpid(), 1), mlen;
		uint64_t t1 = mono_us();

		mlen = wg_seal(&ses, pkt, plen, msg);
		if (send(fd, msg, mlen, 0) < 0)
			die_errno("%s: send", endpoint);
		for (;;) {
			struct pollfd p = { fd, POLLIN, 0 };
			uint64_t ctr;
			ssize_t n;
			long l;
			int left = timeout_ms - (int)((mono_us() - t1) / 1000);

			if (left <= 0 || poll(&p, 1, left) <= 0)
				die("%s: no echo reply from %s through the tunnel", endpoint, ping);
			n = recv(fd, msg, sizeof(msg), 0);
			if (n <= 0)
				continue;
			l = wg_open(&ses, msg, (size_t)n, &ctr);
			if (l < 28)
				continue;	/* a keepalive, or not ours */
			{
				const uint8_t *ip = msg + WG_DATA_HEAD;

				if ((ip[0] >> 4) == 4 && ip[9] == 1 && ip[20] == 0 && !memcmp(ip + 12, &dst, 4) &&
				    ip[24] == (uint8_t)(getpid() >> 8) && ip[25] == (uint8_t)getpid())
					break;
			}
		}
		printf("echo reply from %s through the tunnel: %.1f ms\n", ping,
		       (double)(mono_us() - t1) / 1000);
	}
	close(fd);
	return 0;
}

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
cmd_run(int argc, char **argv)
{
	struct wg_dev *d;
	char err[600];

	if (argc != 2)
		die_usage("run CONF");
	d = wg_dev_open(argv[1], err, sizeof(err));
	if (!d)
		die("%s", err);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);	/* a wg that hangs up early is its business */
	fprintf(stderr, "%s: up (%zu peers)\n", wg_dev_name(d), wg_dev_peers(d));
	if (wg_dev_run(d, &stop) < 0)
		die_errno("%s", wg_dev_name(d));
	wg_dev_close(d);
	return 0;
}

static int
cmd_keys(int argc, char **argv)
{
	uint8_t k[32], pub[32];

	if (argc != 1)
		die_usage("%s takes no arguments", argv[0]);
	if (!strcmp(argv[0], "genkey") || !strcmp(argv[0], "genpsk")) {
		if (!strcmp(argv[0], "genkey") ? x25519_generate(k) < 0 : rand_bytes(k, 32) < 0)
			die_errno("getrandom");
		print_key(k);
		memset(k, 0, sizeof(k));
		return 0;
	}
	{
		struct buf in = BUF_INIT;
		char *s;

		if (fs_read_fd(0, &in, 4096) < 0)
			die_errno("pubkey: standard input");
		s = (char *)buf_cstr(&in);
		s[strcspn(s, "\r\n")] = '\0';
		if (wg_key_decode(s, k) < 0)
			die("pubkey: standard input is not a WireGuard key (44 characters of base64)");
		if (x25519_public(pub, k) < 0)
			die("pubkey: the key gives no public key");
		print_key(pub);
		memset(k, 0, sizeof(k));
		memset(in.data, 0, in.len);
		buf_free(&in);
		return 0;
	}
}

/* ---- up, down, show: the interface as a daemon, as wg-quick brings one up ---- */

#define RUN_DIR "/run/lab/vpn"

/* CONF|IFACE: a path when it has a slash or ends in .conf */
static void
conf_of(const char *arg, char *path, size_t n, char *iface)
{
	const char *base = strrchr(arg, '/'), *dot;
	size_t len = strlen(arg);

	if (base || (len > 5 && !strcmp(arg + len - 5, ".conf")))
		snprintf(path, n, "%s", arg);
	else
		snprintf(path, n, "/etc/wireguard/%s.conf", arg);
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	len = dot ? (size_t)(dot - base) : strlen(base);
	if (len == 0 || len >= 16 || strspn(base, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_=+.-") < len)
		die_usage("%s: an interface name is 1-15 letters, digits, _=+.-", arg);
	memcpy(iface, base, len);
	iface[len] = '\0';
}

static pid_t
running_pid(const char *iface)
{
	char path[128], proc[64];
	struct buf b = BUF_INIT;
	pid_t pid = 0;

	snprintf(path, sizeof(path), RUN_DIR "/%s.pid", iface);
	if (fs_read_file(path, &b, 64) == 0) {
		pid = (pid_t)atoi(buf_cstr(&b));
		snprintf(proc, sizeof(proc), "/proc/%d", (int)pid);
		if (pid <= 0 || access(proc, F_OK) < 0)
			pid = 0;
	}
	buf_free(&b);
	return pid;
}

/* A PreUp..PostDown command with %i as the interface, through /bin/sh. */
static int
run_scripts(struct wg_dev *d, enum wg_script w)
{
	static const char *names[] = { "PreUp", "PostUp", "PreDown", "PostDown" };
	const char *c;
	int i;

	for (i = 0; (c = wg_dev_script(d, w, i)); i++) {
		struct buf cmd = BUF_INIT;
		const char *q;
		int st;

		for (q = c; *q; q++)
			if (q[0] == '%' && q[1] == 'i') {
				buf_adds(&cmd, wg_dev_name(d));
				q++;
			} else {
				buf_add(&cmd, q, 1);
			}
		log_info("%s: %s: %s", wg_dev_name(d), names[w], buf_cstr(&cmd));
		st = system(buf_cstr(&cmd));
		buf_free(&cmd);
		if (st != 0) {
			log_warnx("%s: %s failed (%s): %s", wg_dev_name(d), names[w],
			     WIFEXITED(st) ? "exit status" : "killed", c);
			return -1;
		}
	}
	return 0;
}

/* DNS = through resolvconf, as wg-quick does; without it, said once. */
static void
set_dns(struct wg_dev *d, int on)
{
	struct buf in = BUF_INIT, cmd = BUF_INIT;
	const char *v;
	int i;
	FILE *f;

	if (!wg_dev_dns(d, 0))
		return;
	if (system("command -v resolvconf >/dev/null 2>&1") != 0) {
		if (on)
			log_warnx("%s: DNS = %s not set: no resolvconf here (install openresolv or systemd-resolved)",
			     wg_dev_name(d), wg_dev_dns(d, 0));
		return;
	}
	if (!on) {
		buf_addf(&cmd, "resolvconf -d tun.%s -f", wg_dev_name(d));
		if (system(buf_cstr(&cmd)) != 0)
			log_warnx("%s: resolvconf -d failed", wg_dev_name(d));
		buf_free(&cmd);
		return;
	}
	for (i = 0; (v = wg_dev_dns(d, i)); i++) {
		struct ipaddr a;

		buf_addf(&in, "%s %s\n", ipaddr_parse(v, AF_UNSPEC, &a) == 0 ? "nameserver" : "search", v);
	}
	buf_addf(&cmd, "resolvconf -a tun.%s -m 0 -x", wg_dev_name(d));
	f = popen(buf_cstr(&cmd), "w");
	if (!f || fwrite(in.data, 1, in.len, f) != in.len || pclose(f) != 0)
		log_warnx("%s: resolvconf -a failed", wg_dev_name(d));
	buf_free(&in);
	buf_free(&cmd);
}

static int
cmd_up(int argc, char **argv)
{
	char conf[4096], iface[16], err[600], pidf[128];
	int fg = 0, k, status = 0;
	const char *arg = NULL;
	struct wg_dev *d;
	pid_t pid;

	for (k = 1; k < argc; k++)
		if (!strcmp(argv[k], "-d"))
			fg = 1;
		else if (argv[k][0] == '-' || arg)
			die_usage("up CONF|IFACE [-d]");
		else
			arg = argv[k];
	if (!arg)
		die_usage("up CONF|IFACE [-d]");
	conf_of(arg, conf, sizeof(conf), iface);
	if ((pid = running_pid(iface)))
		die("%s: already up (pid %d); lab vpn down %s first", iface, (int)pid, iface);
	d = wg_dev_load(conf, err, sizeof(err));
	if (!d)
		die("%s", err);
	if (run_scripts(d, WG_PRE_UP) < 0) {
		wg_dev_close(d);
		exit(1);
	}
	if (wg_dev_up(d, err, sizeof(err)) < 0) {
		wg_dev_close(d);
		die("%s", err);
	}
	set_dns(d, 1);
	if (run_scripts(d, WG_POST_UP) < 0) {
		set_dns(d, 0);
		wg_dev_close(d);	/* the device goes; nothing half up stays */
		exit(1);
	}
	if (fs_mkdir_p(RUN_DIR, 0755) < 0)
		die_errno("%s", RUN_DIR);
	snprintf(pidf, sizeof(pidf), RUN_DIR "/%s.pid", iface);
	if (!fg) {
		char logf[128];

		snprintf(logf, sizeof(logf), RUN_DIR "/%s.log", iface);
		pid = spawn_daemon(logf);
		if (pid < 0)
			die_errno("fork");
		if (pid > 0) {
			char line[32];

			snprintf(line, sizeof(line), "%d\n", (int)pid);
			if (fs_write_atomic(pidf, line, strlen(line), 0644) < 0)
				log_warnx("%s: %s", pidf, strerror(errno));
			printf("%s: up, %zu peers (pid %d, log %s)\n", iface, wg_dev_peers(d), (int)pid, logf);
			return 0;	/* the child owns the device now */
		}
	} else {
		char line[32];

		snprintf(line, sizeof(line), "%d\n", (int)getpid());
		if (fs_write_atomic(pidf, line, strlen(line), 0644) < 0)
			log_warnx("%s: %s", pidf, strerror(errno));
		log_info("%s: up, %zu peers", iface, wg_dev_peers(d));
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (wg_dev_run(d, &stop) < 0) {
		log_warnx("%s: %s", iface, strerror(errno));
		status = 1;
	}
	run_scripts(d, WG_PRE_DOWN);
	set_dns(d, 0);
	wg_dev_down(d);	/* PostDown runs after the device is gone */
	run_scripts(d, WG_POST_DOWN);
	if (wg_dev_cookies_sent(d))
		log_info("%s: %llu cookie replies sent while under load", iface,
			 (unsigned long long)wg_dev_cookies_sent(d));
	wg_dev_close(d);
	unlink(pidf);
	log_info("%s: down", iface);
	return status;
}

static int
cmd_down(int argc, char **argv)
{
	char conf[4096], iface[16];
	pid_t pid;
	int i;

	if (argc != 2)
		die_usage("down CONF|IFACE");
	conf_of(argv[1], conf, sizeof(conf), iface);
	if (!(pid = running_pid(iface)))
		die("%s: not up (no live process in " RUN_DIR "/%s.pid)", iface, iface);
	if (kill(pid, SIGTERM) < 0)
		die_errno("%s: pid %d", iface, (int)pid);
	for (i = 0; i < 200 && running_pid(iface) == pid; i++)
		usleep(50 * 1000);	/* PreDown and PostDown run before it exits */
	if (running_pid(iface) == pid)
		die("%s: pid %d did not stop within 10 s", iface, (int)pid);
	return 0;
}

static void
human_bytes(uint64_t n, char *out, size_t len)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(out, len, "%llu B", (unsigned long long)n);
	else
		snprintf(out, len, "%.2f %s", v, u[i]);
}

static void
ago(int64_t t, char *out, size_t len)
{
	int64_t s = (int64_t)time(NULL) - t, parts[4] = { s / 86400, s / 3600 % 24, s / 60 % 60, s % 60 };
	static const char *unit[] = { "day", "hour", "minute", "second" };
	size_t o = 0;
	int i;

	out[0] = '\0';
	if (s <= 0) {
		snprintf(out, len, "Now");
		return;
	}
	for (i = 0; i < 4; i++)
		if (parts[i] && o < len)
			o += (size_t)snprintf(out + o, len - o, "%s%lld %s%s", o ? ", " : "", (long long)parts[i],
					      unit[i], parts[i] == 1 ? "" : "s");
	if (o < len)
		snprintf(out + o, len - o, " ago");
}

static void
show_text(const char *iface, const struct wg_uapi_dev *w)
{
	char k[45], a[64], b[64];
	size_t i, j;

	printf("interface: %s\n", iface);
	if (w->has_key) {
		wg_key_encode(w->pub, k);
		printf("  public key: %s\n  private key: (hidden)\n", k);
	}
	if (w->listen_port)
		printf("  listening port: %d\n", w->listen_port);
	if (w->fwmark)
		printf("  fwmark: 0x%x\n", w->fwmark);
	for (i = 0; i < w->npeers; i++) {
		const struct wg_uapi_peer *p = &w->peers[i];

		wg_key_encode(p->pub, k);
		printf("\npeer: %s\n", k);
		if (p->has_psk)
			printf("  preshared key: (hidden)\n");
		if (p->endpoint[0])
			printf("  endpoint: %s\n", p->endpoint);
		printf("  allowed ips: ");
		for (j = 0; j < p->nallowed; j++)
			printf("%s%s", j ? ", " : "", p->allowed[j]);
		printf("%s\n", p->nallowed ? "" : "(none)");
		if (p->last_hs_sec) {
			ago(p->last_hs_sec, a, sizeof(a));
			printf("  latest handshake: %s\n", a);
		}
		if (p->rx || p->tx) {
			human_bytes(p->rx, a, sizeof(a));
			human_bytes(p->tx, b, sizeof(b));
			printf("  transfer: %s received, %s sent\n", a, b);
		}
		if (p->keepalive)
			printf("  persistent keepalive: every %d second%s\n", p->keepalive,
			       p->keepalive == 1 ? "" : "s");
	}
}

static void
show_json(struct json_writer *j, const char *iface, const struct wg_uapi_dev *w)
{
	char k[45];
	size_t i, n;

	json_begin_obj(j);
	json_key(j, "interface");
	json_str(j, iface);
	if (w->has_key) {
		wg_key_encode(w->pub, k);
		json_key(j, "public_key");
		json_str(j, k);
	}
	json_key(j, "listen_port");
	json_int(j, w->listen_port);
	json_key(j, "fwmark");
	json_uint(j, w->fwmark);
	json_key(j, "peers");
	json_begin_arr(j);
	for (i = 0; i < w->npeers; i++) {
		const struct wg_uapi_peer *p = &w->peers[i];

		json_begin_obj(j);
		wg_key_encode(p->pub, k);
		json_key(j, "public_key");
		json_str(j, k);
		json_key(j, "preshared_key");
		json_bool(j, p->has_psk);
		json_key(j, "endpoint");
		if (p->endpoint[0])
			json_str(j, p->endpoint);
		else
			json_null(j);
		json_key(j, "allowed_ips");
		json_begin_arr(j);
		for (n = 0; n < p->nallowed; n++)
			json_str(j, p->allowed[n]);
		json_end_arr(j);
		json_key(j, "latest_handshake");
		json_int(j, p->last_hs_sec);
		json_key(j, "rx_bytes");
		json_uint(j, p->rx);
		json_key(j, "tx_bytes");
		json_uint(j, p->tx);
		json_key(j, "persistent_keepalive");
		json_int(j, p->keepalive);
		json_end_obj(j);
	}
	json_end_arr(j);
	json_end_obj(j);
}

static int
cmd_show(int argc, char **argv)
{
	char **names = NULL;
	size_t n = 0, i;
	int json = 0, k, rc = 0, shown = 0;
	const char *one = NULL;
	struct buf out = BUF_INIT;
	struct json_writer j;

	for (k = 1; k < argc; k++)
		if (!strcmp(argv[k], "--json"))
			json = 1;
		else if (argv[k][0] == '-' || one)
			die_usage("show [IFACE] [--json]");
		else
			one = argv[k];
	if (!one && fs_list(WG_UAPI_DIR, &names, &n) < 0 && errno != ENOENT)
		die_errno("%s", WG_UAPI_DIR);
	json_writer_init(&j, &out, 1);
	if (json)
		json_begin_arr(&j);
	for (i = 0; one ? i < 1 : i < n; i++) {
		char iface[64];
		struct wg_uapi_dev w;
		size_t len;

		if (one) {
			snprintf(iface, sizeof(iface), "%s", one);
		} else {
			len = strlen(names[i]);
			if (len < 6 || len - 5 >= sizeof(iface) || strcmp(names[i] + len - 5, ".sock"))
				continue;
			snprintf(iface, sizeof(iface), "%.*s", (int)(len - 5), names[i]);
		}
		if (wg_uapi_get(iface, &w) < 0) {
			if (one)
				die_errno("%s: %s/%s.sock", iface, WG_UAPI_DIR, iface);
			continue;	/* a stale socket of an implementation that died */
		}
		if (json) {
			show_json(&j, iface, &w);
		} else {
			if (shown)
				printf("\n");
			show_text(iface, &w);
		}
		shown++;
		wg_uapi_free(&w);
	}
	if (json) {
		json_end_arr(&j);
		json_writer_finish(&j);
		fwrite(out.data, 1, out.len, stdout);
		printf("\n");
	}
	buf_free(&out);
	fs_list_free(names, n);
	return rc;
}

/* The subcommands; those in other files are declared in vpn.h. */
static const struct {
	const char *name;
	int (*fn)(int, char **);
} subcmds[] = {
	{ "genkey", cmd_keys },
	{ "genpsk", cmd_keys },
	{ "pubkey", cmd_keys },
	{ "probe", cmd_probe },
	{ "run", cmd_run },
	{ "up", cmd_up },
	{ "down", cmd_down },
	{ "show", cmd_show },
	{ "peer", vpn_peer_main },
	{ "qr", vpn_qr_main },
	{ "openvpn", vpn_openvpn_main },
	{ "bastion", vpn_bastion_main },
	{ "mux", vpn_mux_main },
};

int
vpn_main(int argc, char **argv)
{
	char names[256] = "";
	size_t i;

	if (argc < 2) {
		for (i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
				 subcmds[i].name);
		die_usage("a subcommand: %s", names);
	}
	for (i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		if (!strcmp(argv[1], subcmds[i].name))
			return subcmds[i].fn(argc - 1, argv + 1);
	die_usage("unknown subcommand \"%s\"", argv[1]);
}
