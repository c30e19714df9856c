#include <errno.h>
#include <stdlib.h>

#include "dns.h"
#include "dns_server.h"
#include "dns_zone.h"
#include "tap.h"

static void
test_names(void)
{
	struct dns_name n, o, p;
	char t[DNS_NAME_TEXT];
	char long_label[70], long_name[400];
	int i;

	ok(dns_name_from_text(&o, "home.arpa.", NULL) == 0, "absolute name parses");
	ok(dns_name_from_text(&n, "Web.br0", &o) == 0, "relative name gets the origin");
	is_str(dns_name_to_text(&n, t), "Web.br0.home.arpa.", "and prints with the final dot");
	is_int(dns_name_labels(&n), 4, "four labels");
	ok(dns_name_is_sub(&n, &o) && !dns_name_is_sub(&o, &n), "is_sub");
	dns_name_from_text(&p, "web.BR0.home.arpa.", NULL);
	ok(dns_name_equal(&n, &p), "names compare without case");
	ok(dns_name_from_text(&n, "a\\.b.c.", NULL) == 0 && dns_name_labels(&n) == 2,
	   "an escaped dot stays in its label");
	is_str(dns_name_to_text(&n, t), "a\\.b.c.", "and prints escaped");
	ok(dns_name_from_text(&n, "\\065\\066.", NULL) == 0 && !strcmp(dns_name_to_text(&n, t), "AB."),
	   "decimal escapes");
	ok(dns_name_from_text(&n, "a..b.", NULL) < 0, "empty label refused");
	memset(long_label, 'x', 64);
	long_label[64] = '\0';
	ok(dns_name_from_text(&n, long_label, &o) < 0, "64-byte label refused");
	long_label[63] = '\0';
	ok(dns_name_from_text(&n, long_label, &o) == 0, "63-byte label fine");
	for (i = 0; i < 5; i++)
		memcpy(long_name + i * 64, long_label, 63), long_name[i * 64 + 63] = '.';
	long_name[5 * 64] = '\0';
	ok(dns_name_from_text(&n, long_name, NULL) < 0, "a name over 255 bytes refused");
	ok(dns_name_from_text(&n, "@", &o) == 0 && dns_name_equal(&n, &o), "@ is the origin");
}

static void
test_unpack(void)
{
	/* header (12) + 3www0 at 12 + pointer tests */
	uint8_t m[64] = { 0 };
	struct dns_name n;
	size_t off;

	memcpy(m + 12, "\003www\007example\000", 13);
	m[25] = 0xc0;
	m[26] = 12;	/* pointer back to www.example */
	off = 25;
	ok(dns_name_unpack(m, 27, &off, &n) == 0 && off == 27 && n.len == 13, "a pointer back");
	m[27] = 0xc0;
	m[28] = 27;	/* pointer to itself */
	off = 27;
	ok(dns_name_unpack(m, 29, &off, &n) < 0 && errno == EBADMSG, "a pointer to itself refused");
	m[29] = 0xc0;
	m[30] = 31;	/* forward pointer */
	off = 29;
	ok(dns_name_unpack(m, 33, &off, &n) < 0, "a forward pointer refused");
	m[31] = 70;	/* label length over 63 */
	off = 31;
	ok(dns_name_unpack(m, 40, &off, &n) < 0, "label length over 63 refused");
	m[33] = 5;	/* runs past the end */
	off = 33;
	ok(dns_name_unpack(m, 36, &off, &n) < 0, "a label past the end refused");
}

static void
test_msg(void)
{
	uint8_t buf[512], big[65536];
	struct dns_w w;
	struct dns_msg m;
	struct dns_name n;
	uint8_t a[4] = { 10, 0, 0, 1 };
	size_t len;

	dns_name_from_text(&n, "www.example.com.", NULL);
	dns_w_init(&w, buf, sizeof(buf), sizeof(buf));
	dns_w_header(&w, 0x1234, DNS_F_QR | DNS_F_AA);
	dns_w_question(&w, &n, DNS_T_A, DNS_C_IN);
	dns_w_rr(&w, 1, &n, DNS_T_A, DNS_C_IN, 300, a, 4);
	dns_w_opt(&w, 1232, 0);
	len = dns_w_finish(&w);
	/* 12 + 17+4 question + (2 pointer + 10 + 4) answer + 11 OPT */
	is_int(len, 12 + 21 + 16 + 11, "the answer's owner is compressed to the question");
	ok(dns_msg_parse(&m, buf, len) == 0, "our message parses");
	ok(m.id == 0x1234 && m.count[1] == 1 && m.edns && m.edns_size == 1232, "header, counts, EDNS");
	ok(dns_name_equal(&m.qname, &n) && m.qtype == DNS_T_A, "question");
	dns_msg_free(&m);

	ok(dns_msg_parse(&m, buf, len - 1) < 0, "a truncated message is refused");
	memcpy(big, buf, len);
	big[len] = 0;
	ok(dns_msg_parse(&m, big, len + 1) < 0, "trailing garbage is refused");
	memcpy(big, buf, len);
	big[6] = 0xff;
	big[7] = 0xff;	/* 65535 answers claimed */
	ok(dns_msg_parse(&m, big, len) < 0 && errno == EBADMSG, "absurd counts refused before allocating");
	memcpy(big, buf, len);
	big[5] = 2;	/* two questions */
	ok(dns_msg_parse(&m, big, len) < 0, "more than one question refused");

	/* truncation: a soft limit stops at a whole record and sets TC */
	dns_w_init(&w, buf, sizeof(buf), 60);
	dns_w_header(&w, 1, DNS_F_QR);
	dns_w_question(&w, &n, DNS_T_A, DNS_C_IN);
	dns_w_rr(&w, 1, &n, DNS_T_A, DNS_C_IN, 300, a, 4);
	ok(dns_w_rr(&w, 1, &n, DNS_T_A, DNS_C_IN, 300, a, 4) < 0 && w.truncated, "past the limit: truncated");
	len = dns_w_finish(&w);
	ok((buf[2] & 0x02) && buf[7] == 1 && len == 49, "TC set, only whole records kept");
}

static void
test_rdata(void)
{
	struct dns_name o;
	uint8_t rd[512];
	size_t len;
	char e[128], *w[8];
	char l1[] = "10 mail", l2[] = "ns hostmaster 1 1h 10m 1w 60", l3[] = "\"a b\" c";
	struct buf out = BUF_INIT;

	dns_name_from_text(&o, "example.com.", NULL);
	ok(dns_text_split(l1, w, 8) == 2 && dns_rdata_from_text(DNS_T_MX, w, 2, &o, rd, sizeof(rd),
								 &len, e, sizeof(e)) == 0, "MX text");
	dns_rdata_to_text(DNS_T_MX, rd, (uint16_t)len, &out);
	is_str(buf_cstr(&out), "10 mail.example.com.", "MX back to text");
	buf_reset(&out);
	ok(dns_text_split(l2, w, 8) == 7 && dns_rdata_from_text(DNS_T_SOA, w, 7, &o, rd, sizeof(rd),
								 &len, e, sizeof(e)) == 0, "SOA with units");
	dns_rdata_to_text(DNS_T_SOA, rd, (uint16_t)len, &out);
	is_str(buf_cstr(&out), "ns.example.com. hostmaster.example.com. 1 3600 600 604800 60", "SOA text");
	buf_reset(&out);
	ok(dns_text_split(l3, w, 8) == 2 && dns_rdata_from_text(DNS_T_TXT, w, 2, &o, rd, sizeof(rd),
								 &len, e, sizeof(e)) == 0, "TXT strings");
	dns_rdata_to_text(DNS_T_TXT, rd, (uint16_t)len, &out);
	is_str(buf_cstr(&out), "\"a b\" \"c\"", "TXT back");
	buf_reset(&out);
	{
		char *bad[] = { "300.1.1.1" };

		ok(dns_rdata_from_text(DNS_T_A, bad, 1, &o, rd, sizeof(rd), &len, e, sizeof(e)) < 0 &&
		   !strcmp(e, "A: bad data \"300.1.1.1\""), "bad A refused with a reason");
	}
	{
		char *gen[] = { "\\#", "2", "abcd" };

		ok(dns_rdata_from_text(99, gen, 3, &o, rd, sizeof(rd), &len, e, sizeof(e)) == 0 && len == 2,
		   "RFC 3597 generic data");
		dns_rdata_to_text(99, rd, (uint16_t)len, &out);
		is_str(buf_cstr(&out), "\\# 2 abcd", "and back");
	}
	buf_free(&out);
}

static void
test_zone(void)
{
	static const char text[] =
		"$ORIGIN z.test.\n$TTL 60\n@ SOA ns h ( 1 2 3 4\n 5 ) ; comment\n NS ns\n"
		"a A 192.0.2.1\n  AAAA 2001:db8::1\nc CNAME a\nx.y.deep TXT \"in ( quotes ; x\"\n";
	struct dns_name o, n;
	struct dns_zone *z;
	struct conf_err err;
	struct buf out = BUF_INIT;
	uint8_t ip[4] = { 192, 0, 2, 9 };

	dns_name_from_text(&o, "z.test.", NULL);
	z = dns_zone_new(&o);
	ok(dns_zone_parse(z, "t.zone", text, strlen(text), &err) == 0, "zone file with parens, comments, quotes");
	is_int(z->nrecords, 6, "six records");
	is_int(dns_zone_serial(z), 1, "serial");
	dns_name_from_text(&n, "deep.z.test.", NULL);
	ok(dns_zone_find(z, &n) && dns_node_exists(dns_zone_find(z, &n)) && !dns_zone_find(z, &n)->sets,
	   "empty non-terminal exists without data");
	dns_name_from_text(&n, "c.z.test.", NULL);
	ok(dns_zone_add(z, &n, DNS_T_A, 60, ip, 4) < 0 && errno == EEXIST, "no data beside a CNAME");
	dns_name_from_text(&n, "x.y.deep.z.test.", NULL);
	is_int(dns_zone_del(z, &n, DNS_T_ANY, NULL, 0), 1, "delete a name");
	dns_name_from_text(&n, "deep.z.test.", NULL);
	ok(!dns_zone_find(z, &n), "its empty ancestors go with it");
	dns_zone_bump_serial(z);
	ok(dns_zone_serial(z) > 1, "serial moves");
	dns_zone_print(z, &out);
	ok(strstr(buf_cstr(&out), "a.z.test. 60 IN AAAA 2001:db8::1") != NULL, "printed in master format");
	buf_free(&out);
	dns_zone_free(z);

	z = dns_zone_new(&o);
	ok(dns_zone_parse(z, "t.zone", "a A 1.2.3\n", 10, &err) < 0 && err.line == 1 &&
	   !strcmp(err.msg, "A: bad data \"1.2.3\""), "a bad record names its line");
	dns_zone_free(z);
	z = dns_zone_new(&o);
	ok(dns_zone_parse(z, "t.zone", "\n\nout.other. A 1.2.3.4\n", 22, &err) < 0 && err.line == 3 &&
	   !strcmp(err.msg, "out.other. is outside the zone"), "a record outside the zone");
	dns_zone_free(z);
	z = dns_zone_new(&o);
	ok(dns_zone_parse(z, "t.zone", "a ( A\n", 6, &err) < 0 && !strcmp(err.msg, "unbalanced '('"),
	   "unbalanced parenthesis");
	dns_zone_free(z);
}

static void
test_tsig(void)
{
	struct dns_key k;
	char enc[64];
	uint8_t raw[5] = { 'h', 'e', 'l', 'l', 'o' }, back[16];

	base64_encode(raw, 5, enc);
	is_str(enc, "aGVsbG8=", "base64 encode (RFC 4648)");
	ok(base64_decode("aGVsbG8=", back, sizeof(back)) == 5 && !memcmp(back, raw, 5), "base64 decode");
	ok(base64_decode("aGV*bG8=", back, sizeof(back)) < 0, "bad base64 refused");
	ok(dns_key_parse("hmac-sha256:k1:aGVsbG8=", &k) == 0 && k.len == 5, "key text");
	ok(dns_key_parse("k1", &k) < 0, "a key without secret refused");
	{
		uint8_t q[512], mac[32];
		struct dns_w w;
		struct dns_name n;
		size_t len;

		dns_name_from_text(&n, "z.test.", NULL);
		dns_w_init(&w, q, sizeof(q), sizeof(q));
		dns_w_header(&w, 7, DNS_OP_UPDATE << 11);
		dns_w_question(&w, &n, DNS_T_SOA, DNS_C_IN);
		len = dns_w_finish(&w);
		ok(dns_tsig_sign(q, &len, sizeof(q), &k, 1000000, mac) == 0, "sign a request");
		{
			struct dns_server s;
			struct dns_msg m;
			const struct dns_key *kk;
			uint8_t mac2[32];

			memset(&s, 0, sizeof(s));
			s.keys = &k;
			s.nkeys = 1;
			ok(dns_msg_parse(&m, q, len) == 0 && m.tsig_index == 0, "the TSIG record is found");
			is_int(dns_tsig_check(&s, &m, &kk, mac2, 1000000), 0, "and verifies");
			is_int(dns_tsig_check(&s, &m, &kk, mac2, 1000000 + 301), DNS_R_BADTIME, "outside the fudge: BADTIME");
			q[13] ^= 1;	/* change a byte of the zone name */
			dns_msg_free(&m);
			dns_msg_parse(&m, q, len);
			is_int(dns_tsig_check(&s, &m, &kk, mac2, 1000000), DNS_R_BADSIG, "a changed message: BADSIG");
			dns_msg_free(&m);
		}
	}
}

int
main(void)
{
	test_names();
	test_unpack();
	test_msg();
	test_rdata();
	test_zone();
	test_tsig();
	return done_testing();
}
