/*
 * lab vpn: WireGuard keys as `wg` writes and reads them. (The userspace
 * WireGuard, peers, bastion and gateway come with the rest of the issue.)
 */
#include <arpa/inet.h>
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
#include "vpn.h"
#include "wg_dev.h"
#include "wg_noise.h"
#include "x25519.h"

const char vpn_usage[] =
	"usage: lab vpn genkey            a private key (base64, as wg genkey)\n"
	"       lab vpn pubkey < PRIVATE  its public key (as wg pubkey)\n"
	"       lab vpn genpsk            a preshared key (as wg genpsk)\n"
	"       lab vpn probe --key FILE --peer PUBKEY --endpoint IP:PORT [--psk FILE]\n"
	"                     [--ping ADDR --from ADDR] [--timeout SECONDS]\n"
	"       lab vpn run CONF          the interface CONF describes (a wg-quick file;\n"
	"                                 its name is the file's), until SIGINT/SIGTERM\n"
	"       lab vpn mux --listen ADDR:PORT [--ssh|--tls|--http|--openvpn|--default HOST:PORT]\n"
	"                   [--tls-sni NAME=HOST:PORT]... [--timeout MS] [--connect-timeout MS]\n"
	"                   [--max-conns N] [--user USER] [-c FILE] [-n] [-v]\n"
	"                                 one TCP port for all of them, as sslh\n"
	"\n"
	"probe makes a WireGuard handshake with a peer from a UDP socket (no tunnel\n"
	"device), and with --ping sends an ICMP echo through it from --from (an\n"
	"address the peer allows for this key) and waits for the reply: a check\n"
	"that a peer is up and takes this key.\n"
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

static uint16_t
csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
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
	c = csum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[20] = 8;	/* echo request */
	p[24] = (uint8_t)(id >> 8);
	p[25] = (uint8_t)id;
	p[26] = (uint8_t)(seq >> 8);
	p[27] = (uint8_t)seq;
	for (i = 0; i < 32; i++)
		p[28 + i] = (uint8_t)('a' + i % 26);
	c = csum(p + 20, n - 20);
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
	int k, fd, timeout_ms = 5000, tries;
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
