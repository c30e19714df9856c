/* lib/ovpn's text formats and tls-crypt-v2 keys. The known answer: a
 * client key that openvpn 2.6.14 (`openvpn --tls-crypt-v2 s.key --genkey
 * tls-crypt-v2-client`) wrapped with a server key lab made; lab unwraps it
 * and, wrapping the same Kc and metadata again, writes the same PEM byte
 * for byte (the wrap is deterministic: the IV is the tag). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "ovpn.h"
#include "tap.h"

static const char server_pem[] =
    "-----BEGIN OpenVPN tls-crypt-v2 server key-----\n"
    "+HxXoMODzD4wO2slDgf0qBwnjgGXLEPQxjSYhfohuA5G0CNDNAD32VFj/vBJ+vva\n"
    "AX0SO5Racd1VvJbzT3AteXdc61PEHwhWX4Au4Ghnca+jLWbNDqiIOjR0c7krYWX7\n"
    "uvN6a+LY4TSUvWFMo+XFO+492+DLMfzjS+xoEQ/jceY=\n"
    "-----END OpenVPN tls-crypt-v2 server key-----\n";

static const char client_pem[] =
    "-----BEGIN OpenVPN tls-crypt-v2 client key-----\n"
    "TttJUBgvbEjmzu+2800NlzsIfmxio/RihossN0gVZXvBzWa0AlmFZQ4O0MhsaWxN\n"
    "ZrR0TD3lqqsamh0e9oEOoUun30L0jXsmU5RaC9AIQsn4RaigVppxPFyBkD820t5X\n"
    "nI0K05e/++5GnybdSnfL24CwKgykJ90umKjVMF/rtHmMXQflwC3e8Bs09Z1NkJ8f\n"
    "x7f+TLQhYyVIw5lO6EDfztiM+KNc/Zfpi97TLkod3YY+n2QcnmGntVVgNff6nAWo\n"
    "AoVzWGdRnvqr8s6Q53p1br5bNmdKX02e0LrWFerpHqWHJs4ieeDLECy8MmeIGKyd\n"
    "LkH8SaZ5CAGiQzDnbVVXiFcVF2G6ELax49ls9uPAW4ZbCZDyBXpye7pERLmIaDdt\n"
    "/TLVsDmYgc09sDhkM4mBnbDude8Q/7slFN+/Y+P5N7DblTjndfPZY33NnrJ17b3y\n"
    "JfZyhdZtqE2uMjR2qBZcbD4m8LeWiPOyfrnQn0awRY0qcBwJlJBErsWvsE4ZNuEW\n"
    "vGbEmuWY998Um/S2Vc1iaT9SKjqV3shJfqsCmRrBiQ5UGHjJS4bDoD4kF8BzQugk\n"
    "FDIExZg6oSyNbl/yr3/VwAQkNntOhArX2XekukRAA7e9eYUvt3nNAMhhbLhN0jFh\n"
    "Oz95ja09UAqAFBBY0Y8uqFqceyLpP9vrtIDYB2I4BShjlUgrsDMXuWLf+P6I8xAp\n"
    "oS2bkMXBtK3VDR9KkkKWSldex6d06SLTbgEr\n"
    "-----END OpenVPN tls-crypt-v2 client key-----\n";

int
main(void)
{
	uint8_t srv[OVPN_TC2_SERVER_LEN], raw[2048], kc[OVPN_TC2_KC_LEN], meta[OVPN_TC2_MAX_WKC];
	uint8_t kc2[OVPN_TC2_KC_LEN], meta2[OVPN_TC2_MAX_WKC];
	size_t n, metalen, metalen2;
	struct buf b = BUF_INIT;
	struct ovpn_client *v = NULL;
	char err[200], addr[64];

	is_int(ovpn_tc2_server_parse(server_pem, srv), 0, "server key: parses (128 bytes)");
	ovpn_tc2_server_pem(srv, &b);
	is_str(buf_cstr(&b), server_pem, "server key: written back the same");
	buf_reset(&b);

	is_int(ovpn_pem_decode(client_pem, "OpenVPN tls-crypt-v2 client key", raw, sizeof(raw), &n),
	       0, "openvpn's client key: PEM decodes");
	is_int(n, 256 + 32 + 256 + 9 + 2, "Kc || T || (Kc || timestamp metadata) || len");
	is_int(raw[n - 2] << 8 | raw[n - 1], n - 256, "len is WKc's length");
	is_int(ovpn_tc2_unwrap(srv, raw + 256, n - 256, kc, meta, &metalen), 0,
	       "lab unwraps openvpn's WKc with the server key");
	ok(!memcmp(kc, raw, 256), "the wrapped Kc is the key's Kc");
	is_int(metalen, 9, "metadata: 9 bytes");
	is_int(meta[0], 1, "metadata type 1 (timestamp)");
	ovpn_tc2_client_pem(srv, kc, meta, metalen, &b);
	is_str(buf_cstr(&b), client_pem, "lab wraps Kc and metadata exactly as openvpn did");
	buf_reset(&b);

	raw[256 + 40] ^= 1;
	ok(ovpn_tc2_unwrap(srv, raw + 256, n - 256, kc2, meta2, &metalen2) < 0 && errno == EBADMSG,
	   "a flipped bit in WKc fails the tag");
	raw[256 + 40] ^= 1;
	srv[64] ^= 1;
	ok(ovpn_tc2_unwrap(srv, raw + 256, n - 256, kc2, meta2, &metalen2) < 0,
	   "another server's Ka fails");
	srv[64] ^= 1;
	srv[0] ^= 1;
	ok(ovpn_tc2_unwrap(srv, raw + 256, n - 256, kc2, meta2, &metalen2) < 0,
	   "another server's Ke fails");
	srv[0] ^= 1;
	ok(ovpn_tc2_unwrap(srv, raw + 256, n - 257, kc2, meta2, &metalen2) < 0,
	   "a length that disagrees fails");
	ok(ovpn_tc2_unwrap(srv, raw + 256, 10, kc2, meta2, &metalen2) < 0, "a short WKc fails");

	/* round trip of a key of lab's own, with user metadata */
	{
		uint8_t k[OVPN_TC2_KC_LEN], m[5] = {0, 'a', 'b', 'c', 'd'};

		rand_bytes(k, sizeof(k));
		ovpn_tc2_client_pem(srv, k, m, sizeof(m), &b);
		ok(ovpn_pem_decode(buf_cstr(&b), "OpenVPN tls-crypt-v2 client key", raw,
				   sizeof(raw), &n) == 0 &&
		       ovpn_tc2_unwrap(srv, raw + 256, n - 256, kc2, meta2, &metalen2) == 0 &&
		       !memcmp(kc2, k, 256) && metalen2 == 5 && !memcmp(meta2, m, 5),
		   "lab's own client key unwraps to its Kc and metadata");
		buf_reset(&b);
	}

	ok(ovpn_pem_decode("-----BEGIN X-----\nQUJD\n", "X", raw, sizeof(raw), &n) < 0,
	   "PEM without its END line");
	ok(ovpn_pem_decode("-----BEGIN X-----\nQUJ\n-----END X-----\n", "X", raw, sizeof(raw), &n) <
	       0,
	   "PEM with a broken base64 body");

	ok(ovpn_name_ok("alice") && ovpn_name_ok("a.b_c-9") && !ovpn_name_ok("") &&
	       !ovpn_name_ok("-x") && !ovpn_name_ok(".x") && !ovpn_name_ok("a/b") &&
	       !ovpn_name_ok("a b") && !ovpn_name_ok("server") &&
	       !ovpn_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	   "client names");

	{
		static const char idx[] = "# comment\n"
					  "alice\t00112233445566778899aabbccddeeff\t10\t20\t0\n"
					  "bob\tffeeddccbbaa99887766554433221100\t11\t21\t15\n";

		is_int(ovpn_index_parse(idx, strlen(idx), &v, &n, err, sizeof(err)), 0,
		       "index parses");
		ok(n == 2 && !strcmp(v[0].name, "alice") && v[0].not_after == 20 && !v[0].revoked &&
		       !strcmp(v[1].serial, "ffeeddccbbaa99887766554433221100") &&
		       v[1].revoked == 15,
		   "index entries");
		free(v);
		ok(ovpn_index_parse("alice\tzz\t1\t2\t0\n", 16, &v, &n, err, sizeof(err)) < 0 &&
		       !strcmp(err, "line 1: expected NAME SERIAL NOT_BEFORE NOT_AFTER REVOKED"),
		   "a bad index line is named");
	}
	{
		static const char st[] = "TITLE,OpenVPN 2.6.14\n"
					 "HEADER,CLIENT_LIST,Common Name,Real Address,Virtual "
					 "Address,Virtual IPv6 Address\n"
					 "CLIENT_LIST,alicex,10.99.0.2:1,10.8.0.9,,\n"
					 "CLIENT_LIST,alice,10.99.0.2:40000,10.8.0.2,,\n"
					 "END\n";

		ok(ovpn_status_find(st, "alice", addr, sizeof(addr)) == 1 &&
		       !strcmp(addr, "10.8.0.2"),
		   "status: alice connected at 10.8.0.2");
		ok(ovpn_status_find(st, "bob", addr, sizeof(addr)) == 0, "status: bob not there");
		ok(ovpn_status_find(st, "Common Name", addr, sizeof(addr)) == 0,
		   "status: the header is not a client");
	}
	buf_free(&b);
	return done_testing();
}
