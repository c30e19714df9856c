/* The sniffer of lab vpn mux on bytes captured from the real clients
 * (openssl s_client, curl, OpenSSH, OpenVPN 2.6 on Debian 12), whole, in
 * every prefix, re-split into TLS records, and damaged. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mux.h"
#include "tap.h"

/* openssl s_client -connect 127.0.0.1:PORT -servername a.test (OpenSSL 3.0, Debian 12) */
static const char hello_openssl[] =
	"16030101330100012f03031e15921a0995b0d6d46c9181116f3560b3d17f6d0f9ea19edb45df481815423120ff63e33f"
	"8e34af2491303a10c4c8a483415909d66da5e43b76a60d26abf5b865003e130213031301c02cc030009fcca9cca8ccaa"
	"c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000a8"
	"0000000b0009000006612e74657374000b000403000102000a00160014001d0017001e00190018010001010102010301"
	"04002300000016000000170000000d002a0028040305030603080708080809080a080b08040805080604010501060103"
	"0303010302040205020602002b0009080304030303020301002d00020101003300260024001d00205c24a1c95b5daa5c"
	"10f807fc14f4cb017fc7ef03e4e02a9952fd7c5a63761339";

/* curl --resolve b.test:PORT:127.0.0.1 https://b.test:PORT/ (curl 7.88.1) */
static const char hello_curl[] =
	"1603010200010001fc0303ff99f97bdd0547906a210a4018ae2721b6116766ecee8337b71084cd9d70ee702079d4efd3"
	"b904ec67e982f539f9956c4f14ac067b612f334d8f49b04233831776003e130213031301c02cc030009fcca9cca8ccaa"
	"c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff01000175"
	"0000000b0009000006622e74657374000b000403000102000a00160014001d0017001e00190018010001010102010301"
	"040010000e000c02683208687474702f312e31001600000017000000310000000d002a00280403050306030807080808"
	"09080a080b080408050806040105010601030303010302040205020602002b0009080304030303020301002d00020101"
	"003300260024001d00208b64ae57f3b9170a2673098b9909dbfad2faabd11f46bcdc4850e2fb1a9d4711001500b70000"
	"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000000000";

/* ssh -p PORT 127.0.0.1 (OpenSSH 9.2p1, Debian 12) */
static const char banner_ssh[] =
	"5353482d322e302d4f70656e5353485f392e3270312044656269616e2d322b64656231327531300d0a";

/* curl http://127.0.0.1:PORT/x */
static const char request_http[] =
	"474554202f7820485454502f312e310d0a486f73743a203132372e302e302e313a31383030340d0a557365722d416765"
	"6e743a206375726c2f372e38382e310d0a4163636570743a202a2f2a0d0a0d0a";

/* openvpn --client --proto tcp-client (2.6.14): P_CONTROL_HARD_RESET_CLIENT_V2 */
static const char reset_openvpn_v2[] =
	"000e38901c7c9874cc54330000000000";

/* the same with --tls-crypt-v2: P_CONTROL_HARD_RESET_CLIENT_V3 */
static const char reset_openvpn_v3[] =
	"016150ec3e932245c1a05d0f0000016b06f1c2dd1e0e146326b793f54153a31cee2aca2830ad30057bf6ed14ae71afb4"
	"42a1f77d4b87fb27f3b3817922c2957102d2083065b812be014a1ca6aa382a7fb2c97c597b730fa5ba17aca314335e11"
	"28da98ebb8dcd8aa1aad5e18dab8ecd3764382478ec2b77d4e63e7249cac5bc86e67e92072fc5de1c9565e1adefc18fd"
	"f9539ea9f155b01875a464c030c23d930e3469344d6675eeb18a544a7066753ee97b4ff7db13a879db217f63e6b0cfd7"
	"5b59cc36a248fa9a20f9762e7270794676264fddb1d7258442e977456c2f5b49a5a9e96f683c75cc900136197817865c"
	"5135a549edcff7a8d5a43bd9a515b832bea8c9940060cd20019227d41ba304378cda39451731861d082012fb9f2d5220"
	"79f3657b619e699f9872c340256bf94d28df3c39a0ed55f889706436a6ddd794125a36549ad88c121f89be1b86793928"
	"499bf1f95fc5c1ac5edcb65d3cdb5c4ca6012b";

static uint8_t *
unhex(const char *s, size_t *n)
{
	uint8_t *p = malloc(strlen(s) / 2 + 1);
	int k = hex_decode(s, p, strlen(s) / 2 + 1);

	*n = k < 0 ? 0 : (size_t)k;
	return p;
}

static int
sniff(const uint8_t *p, size_t n, int final, char *sni)
{
	struct mux_sniff s;
	int r = mux_sniff(p, n, final, &s);

	if (sni)
		strcpy(sni, s.sni);
	return r;
}

/* Every proper prefix: "need more", or already the right protocol; with
 * final set, the right protocol or unknown. Returns 0 if all held. */
static int
prefixes(const uint8_t *p, size_t n, int proto)
{
	size_t k;

	for (k = 0; k < n; k++) {
		int r = sniff(p, k, 0, NULL), f = sniff(p, k, 1, NULL);

		if (r != MUX_NEED && r != proto)
			return (int)k + 1;
		if (k > 0 && f != proto && f != MUX_UNKNOWN)
			return (int)k + 1;
	}
	return 0;
}

/* The handshake message of a one-record ClientHello, re-framed into
 * records of at most `size` bytes. */
static uint8_t *
reframe(const uint8_t *p, size_t n, size_t size, size_t *outn)
{
	size_t body = n - 5, off = 0, o = 0;
	uint8_t *out = malloc(body + (body / size + 1) * 5);

	while (off < body) {
		size_t k = body - off < size ? body - off : size;

		out[o++] = 0x16;
		out[o++] = 3;
		out[o++] = 1;
		out[o++] = (uint8_t)(k >> 8);
		out[o++] = (uint8_t)k;
		memcpy(out + o, p + 5 + off, k);
		o += k;
		off += k;
	}
	*outn = o;
	return out;
}

/* Offset of the server_name extension's list length in a ClientHello of
 * one record, found by walking it. */
static size_t
sni_offset(const uint8_t *p)
{
	size_t o = 5 + 4 + 2 + 32, end;

	o += 1 + p[o];				/* session id */
	o += 2 + (size_t)(p[o] << 8 | p[o + 1]);	/* cipher suites */
	o += 1 + p[o];				/* compression */
	end = o + 2 + (size_t)(p[o] << 8 | p[o + 1]);
	o += 2;
	while (o < end) {
		size_t type = (size_t)(p[o] << 8 | p[o + 1]), len = (size_t)(p[o + 2] << 8 | p[o + 3]);

		if (type == 0)
			return o + 4;
		o += 4 + len;
	}
	return 0;
}

int
main(void)
{
	char sni[MUX_SNI_MAX + 1];
	size_t n, m, so;
	uint8_t *p, *q;
	struct mux_conf c;
	struct mux_sni_route routes[4];
	int r;

	/* --- TLS --- */
	p = unhex(hello_openssl, &n);
	is_int(n, 312, "openssl's ClientHello decoded");
	is_int(sniff(p, n, 0, sni), MUX_TLS, "openssl s_client: TLS");
	is_str(sni, "a.test", "openssl s_client: its -servername");
	is_int(prefixes(p, n, MUX_TLS), 0, "openssl's ClientHello: every prefix needs more or says TLS");
	is_int(sniff(p, n - 1, 0, sni), MUX_NEED, "one byte short: need more");
	is_int(sniff(p, n - 1, 1, sni), MUX_TLS, "one byte short and no more coming: TLS");
	is_str(sni, "", "without a server name");
	is_int(sniff(p, 5, 1, sni), MUX_UNKNOWN, "a record header alone, then silence: unknown");
	q = reframe(p, n, 100, &m);
	is_int(sniff(q, m, 0, sni), MUX_TLS, "the ClientHello in records of 100 bytes");
	is_str(sni, "a.test", "its server name, joined across records");
	is_int(prefixes(q, m, MUX_TLS), 0, "and every prefix of that");
	free(q);
	q = reframe(p, n, 1, &m);
	is_int(sniff(q, m, 0, sni), MUX_TLS, "the ClientHello one byte per record");
	is_str(sni, "a.test", "its server name");
	free(q);
	/* damage: the server_name list longer than its extension */
	so = sni_offset(p);
	ok(so > 0, "server_name found in openssl's hello");
	q = malloc(n);
	memcpy(q, p, n);
	q[so] = 0xff;
	is_int(sniff(q, n, 0, sni), MUX_TLS, "a server_name list longer than its extension: still TLS");
	is_str(sni, "", "but no name taken from it");
	memcpy(q, p, n);
	q[so + 2] = 1;	/* name type 1: not host_name */
	is_int(sniff(q, n, 0, sni), MUX_TLS, "a name of another type: TLS");
	is_str(sni, "", "no host_name");
	memcpy(q, p, n);
	q[so + 5] = '/';	/* "/.test" */
	sniff(q, n, 0, sni);
	is_str(sni, "", "a host name with a '/' is not taken");
	memcpy(q, p, n);
	q[so + 5] = 'A';
	sniff(q, n, 0, sni);
	is_str(sni, "a.test", "an upper-case name is lowercased");
	memcpy(q, p, n);
	q[5] = 2;	/* ServerHello */
	is_int(sniff(q, n, 0, sni), MUX_UNKNOWN, "a handshake that is not a ClientHello: unknown");
	memcpy(q, p, n);
	q[0] = 0x17;
	is_int(sniff(q, n, 0, sni), MUX_UNKNOWN, "application data first: unknown");
	memcpy(q, p, n);
	q[3] = 0x41;	/* record length 16640 > 2^14 */
	is_int(sniff(q, n, 0, sni), MUX_UNKNOWN, "a record longer than 2^14: unknown");
	memcpy(q, p, n);
	q[6] = 0xff;	/* handshake length > what we keep */
	is_int(sniff(q, n, 0, sni), MUX_TLS, "a ClientHello longer than the sniffer keeps: TLS at once");
	is_str(sni, "", "without a name");
	free(q);
	free(p);

	p = unhex(hello_curl, &n);
	is_int(sniff(p, n, 0, sni), MUX_TLS, "curl: TLS");
	is_str(sni, "b.test", "curl: the host of its URL");
	is_int(prefixes(p, n, MUX_TLS), 0, "curl's ClientHello: every prefix");
	q = reframe(p, n, 37, &m);
	is_int(sniff(q, m, 0, sni), MUX_TLS, "curl's in records of 37 bytes");
	is_str(sni, "b.test", "its name");
	/* a record of another type in the middle */
	q[5 + 37] = 0x15;
	is_int(sniff(q, m, 0, sni), MUX_TLS, "an alert record before the hello is whole: TLS");
	is_str(sni, "", "without a name");
	free(q);
	free(p);

	/* --- SSH --- */
	p = unhex(banner_ssh, &n);
	is_int(sniff(p, n, 0, NULL), MUX_SSH, "OpenSSH's banner: SSH");
	is_int(sniff(p, 4, 0, NULL), MUX_SSH, "\"SSH-\" is enough");
	is_int(sniff(p, 3, 0, NULL), MUX_NEED, "\"SSH\" needs more");
	is_int(sniff(p, 3, 1, NULL), MUX_UNKNOWN, "\"SSH\" and silence: unknown");
	is_int(prefixes(p, n, MUX_SSH), 0, "every prefix of the banner");
	free(p);

	/* --- HTTP --- */
	p = unhex(request_http, &n);
	is_int(sniff(p, n, 0, NULL), MUX_HTTP, "curl's request: HTTP");
	is_int(prefixes(p, n, MUX_HTTP), 0, "every prefix of it");
	free(p);
	is_int(sniff((const uint8_t *)"OPTIONS * HTTP/1.1\r\n", 20, 0, NULL), MUX_HTTP, "OPTIONS");
	is_int(sniff((const uint8_t *)"CONNECT a:443 HTTP/1.1\r\n", 24, 0, NULL), MUX_HTTP, "CONNECT");
	is_int(sniff((const uint8_t *)"PRI * HTTP/2.0\r\n", 16, 0, NULL), MUX_HTTP, "HTTP/2 prior knowledge");
	is_int(sniff((const uint8_t *)"P", 1, 0, NULL), MUX_NEED, "\"P\": POST, PUT, PATCH or PRI: need more");
	is_int(sniff((const uint8_t *)"GETX / HTTP/1.0", 15, 0, NULL), MUX_UNKNOWN, "GETX: unknown");
	is_int(sniff((const uint8_t *)"get / HTTP/1.0", 14, 0, NULL), MUX_UNKNOWN, "methods are case-sensitive");

	/* --- OpenVPN --- */
	p = unhex(reset_openvpn_v2, &n);
	is_int(sniff(p, n, 0, NULL), MUX_OPENVPN, "openvpn's hard reset (V2): OpenVPN");
	is_int(sniff(p, 3, 0, NULL), MUX_OPENVPN, "three bytes are enough");
	is_int(prefixes(p, n, MUX_OPENVPN), 0, "every prefix");
	q = malloc(n);
	memcpy(q, p, n);
	q[2] |= 1;
	is_int(sniff(q, n, 0, NULL), MUX_UNKNOWN, "key id 1: not a first packet");
	memcpy(q, p, n);
	q[2] = 4 << 3;
	is_int(sniff(q, n, 0, NULL), MUX_UNKNOWN, "P_CONTROL_V1: not a first packet");
	memcpy(q, p, n);
	q[1] = 13;
	is_int(sniff(q, n, 0, NULL), MUX_UNKNOWN, "a length under 14: unknown");
	free(q);
	free(p);
	p = unhex(reset_openvpn_v3, &n);
	is_int(sniff(p, n, 0, NULL), MUX_OPENVPN, "openvpn --tls-crypt-v2's hard reset (V3): OpenVPN");
	free(p);

	/* --- the rest --- */
	is_int(sniff(NULL, 0, 0, NULL), MUX_NEED, "nothing yet: need more");
	is_int(sniff(NULL, 0, 1, NULL), MUX_NONE, "nothing at all: a server-speaks-first client");
	is_int(sniff((const uint8_t *)"\x00", 1, 0, NULL), MUX_NEED, "a 0 byte: maybe OpenVPN, need more");
	is_int(sniff((const uint8_t *)"\x00", 1, 1, NULL), MUX_UNKNOWN, "a 0 byte, then silence: unknown");
	is_int(sniff((const uint8_t *)"hello\n", 6, 0, NULL), MUX_UNKNOWN, "a line of text: unknown");
	r = sniff((const uint8_t *)"\xff\xfb\x01", 3, 0, NULL);
	is_int(r, MUX_UNKNOWN, "telnet options: unknown");

	/* --- routes by server name --- */
	memset(&c, 0, sizeof(c));
	memset(routes, 0, sizeof(routes));
	routes[0].pattern = "*.example";
	routes[1].pattern = "*.b.example";
	routes[2].pattern = "a.b.example";
	routes[3].pattern = "a.test";
	c.sni = routes;
	c.nsni = 4;
	ok(mux_sni_lookup(&c, "a.test") == &routes[3].be, "an exact name");
	ok(mux_sni_lookup(&c, "A.Test") == &routes[3].be, "without regard to case");
	ok(mux_sni_lookup(&c, "a.b.example") == &routes[2].be, "an exact name before a wildcard");
	ok(mux_sni_lookup(&c, "c.b.example") == &routes[1].be, "the longest wildcard");
	ok(mux_sni_lookup(&c, "x.y.example") == &routes[0].be, "*.example takes deeper names too");
	ok(mux_sni_lookup(&c, "example") == NULL, "*.example does not take example itself");
	ok(mux_sni_lookup(&c, "b.test") == NULL, "no route");
	ok(mux_sni_lookup(&c, "") == NULL, "no name, no route");

	/* --- PROXY protocol headers (HAProxy's proxy-protocol.txt) --- */
	{
		struct sockaddr_storage a, b;
		struct sockaddr_in *a4 = (void *)&a, *b4 = (void *)&b;
		struct sockaddr_in6 *a6 = (void *)&a, *b6 = (void *)&b;
		uint8_t h[MUX_PROXY_MAX + 1];
		int k;

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		a4->sin_family = b4->sin_family = AF_INET;
		inet_pton(AF_INET, "10.88.0.2", &a4->sin_addr);
		inet_pton(AF_INET, "10.88.0.1", &b4->sin_addr);
		a4->sin_port = htons(40123);
		b4->sin_port = htons(443);
		k = mux_proxy_header(1, &a, &b, h);
		h[k < 0 ? 0 : k] = 0;
		is_str((char *)h, "PROXY TCP4 10.88.0.2 10.88.0.1 40123 443\r\n", "v1, IPv4");
		k = mux_proxy_header(2, &a, &b, h);
		is_str(hexof(h, k < 0 ? 0 : (size_t)k),
		       "0d0a0d0a000d0a515549540a" "21" "11" "000c" "0a580002" "0a580001" "9cbb" "01bb",
		       "v2, IPv4: signature, PROXY, TCP4, 12 bytes of addresses and ports");
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		a6->sin6_family = b6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "fd88::2", &a6->sin6_addr);
		inet_pton(AF_INET6, "fd88::1", &b6->sin6_addr);
		a6->sin6_port = htons(65535);
		b6->sin6_port = htons(443);
		k = mux_proxy_header(1, &a, &b, h);
		h[k < 0 ? 0 : k] = 0;
		is_str((char *)h, "PROXY TCP6 fd88::2 fd88::1 65535 443\r\n", "v1, IPv6");
		k = mux_proxy_header(2, &a, &b, h);
		is_str(hexof(h, k < 0 ? 0 : (size_t)k),
		       "0d0a0d0a000d0a515549540a" "21" "21" "0024" "fd880000000000000000000000000002"
		       "fd880000000000000000000000000001" "ffff" "01bb",
		       "v2, IPv6");
		b.ss_family = AF_UNIX;
		k = mux_proxy_header(1, &a, &b, h);
		h[k < 0 ? 0 : k] = 0;
		is_str((char *)h, "PROXY UNKNOWN\r\n", "v1, families that differ: UNKNOWN");
		k = mux_proxy_header(2, &a, &b, h);
		is_str(hexof(h, k < 0 ? 0 : (size_t)k), "0d0a0d0a000d0a515549540a" "20" "00" "0000",
		       "v2, families that differ: LOCAL");
		is_int(mux_proxy_header(3, &a, &b, h), -1, "no version 3");
	}
	return done_testing();
}
