/*
 * Fuzz the DNS message path: any bytes as a request to a server holding a
 * small zone (with a key, so signed updates are parsed too). The reply
 * must parse back, and fit the buffer.
 */
#include "../../lib/dns_msg.c"

#include <stdlib.h>

#include "dns_server.h"
#include "dns_zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_server srv;

static void
setup(void)
{
	static const char zone[] =
		"$TTL 60\n@ SOA ns h 1 2 3 4 5\n NS ns\nns A 10.0.0.1\nwww A 10.0.0.2\n AAAA fd00::2\n"
		"c CNAME www\nm MX 10 www\n*.w TXT \"x\"\nsub NS ns.sub\nns.sub A 10.0.0.3\n";
	struct dns_name o;
	struct conf_err err;
	struct dns_zone *z;

	dns_name_from_text(&o, "f.test.", NULL);
	z = dns_zone_new(&o);
	dns_zone_parse(z, "f", zone, sizeof(zone) - 1, &err);
	z->dynamic = 1;
	srv.zones = z;
	srv.edns_size = 1232;
	srv.keys = calloc(1, sizeof(*srv.keys));
	dns_key_parse("hmac-sha256:k:aGVsbG8=", srv.keys);
	srv.nkeys = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536];
	struct dns_msg m;
	size_t outlen = 0;
	int r;

	if (!srv.zones)
		setup();
	if (dns_msg_parse(&m, data, size) == 0)
		dns_msg_free(&m);
	r = dns_server_handle(&srv, data, size, size & 1 ? DNS_REQ_TCP : 0, out, sizeof(out), &outlen);
	if (r == DNS_ANSWER) {
		if (outlen > sizeof(out) || outlen < 12)
			abort();
		/* what we send must be a well-formed message */
		if (dns_msg_parse(&m, out, outlen) < 0)
			abort();
		dns_msg_free(&m);
	}
	return 0;
}
