/* lib/x509ca: a CA, a server and two client certificates, and CRLs, read
 * back by mbedTLS's own parsers: the certificates verify against the CA
 * with their key usages; a CRL that lists one client makes exactly that
 * one fail as revoked; an empty CRL parses too. (openssl agrees in
 * tests/cmd/vpn_openvpn.sh.) */
#include <string.h>
#include <time.h>

#include <mbedtls/oid.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include "buf.h"
#include "tap.h"
#include "x509ca.h"

static int
issue(mbedtls_x509_crt *out, enum x509ca_kind kind, const char *cn, mbedtls_pk_context *key,
      mbedtls_pk_context *ca_key, const mbedtls_x509_crt *ca, uint8_t serial[X509CA_SERIAL_LEN])
{
	struct x509ca_req r;
	struct buf pem = BUF_INIT;
	time_t now = time(NULL);
	int ret;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.cn = cn;
	r.key = key;
	r.ca_key = ca_key;
	r.ca = ca;
	r.not_before = now - 3600;
	r.not_after = now + 86400 * 365;
	if (x509ca_key_new(key) < 0 || x509ca_serial_new(r.serial) < 0)
		return -1;
	memcpy(serial, r.serial, X509CA_SERIAL_LEN);
	if (x509ca_issue(&r, &pem) < 0)
		return -1;
	ret = mbedtls_x509_crt_parse(out, (const unsigned char *)buf_cstr(&pem), pem.len + 1);
	buf_free(&pem);
	return ret;
}

/* How often the AlgorithmIdentifier ecdsa-with-SHA256 appears in der,
 * with parameters absent (RFC 5758 3.2) and with a NULL. */
static void
count_alg(const unsigned char *der, size_t n, int *bare, int *null)
{
	static const unsigned char b[] = "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02";
	static const unsigned char z[] = "\x30\x0c\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02\x05\x00";
	size_t i;

	*bare = *null = 0;
	for (i = 0; i + sizeof(z) - 1 <= n; i++) {
		*bare += !memcmp(der + i, b, sizeof(b) - 1);
		*null += !memcmp(der + i, z, sizeof(z) - 1);
	}
}

static int
crl_of(mbedtls_x509_crl *crl, mbedtls_pk_context *ca_key, mbedtls_x509_crt *ca,
       const struct x509ca_revoked *rv, size_t n)
{
	struct buf pem = BUF_INIT;
	time_t now = time(NULL);
	int ret;

	if (x509ca_crl(ca_key, ca, rv, n, now, now + 86400 * 30, 7, &pem) < 0)
		return -1;
	ret = mbedtls_x509_crl_parse(crl, (const unsigned char *)buf_cstr(&pem), pem.len + 1);
	buf_free(&pem);
	return ret;
}

int
main(void)
{
	mbedtls_pk_context cak, sk, ak, bk;
	mbedtls_x509_crt ca, srv, alice, bob;
	mbedtls_x509_crl crl, empty;
	uint8_t s_ca[16], s_srv[16], s_a[16], s_b[16];
	struct x509ca_revoked rv;
	uint32_t flags;
	char dn[200];

	mbedtls_pk_init(&cak);
	mbedtls_pk_init(&sk);
	mbedtls_pk_init(&ak);
	mbedtls_pk_init(&bk);
	mbedtls_x509_crt_init(&ca);
	mbedtls_x509_crt_init(&srv);
	mbedtls_x509_crt_init(&alice);
	mbedtls_x509_crt_init(&bob);
	mbedtls_x509_crl_init(&crl);
	mbedtls_x509_crl_init(&empty);

	is_int(issue(&ca, X509CA_CA, "lab test CA", &cak, &cak, NULL, s_ca), 0,
	       "CA certificate parses");
	ok(ca.ca_istrue == 1 && ca.max_pathlen == 1, "CA: basicConstraints CA:true, pathlen 0");
	ok(mbedtls_x509_crt_check_key_usage(&ca, MBEDTLS_X509_KU_KEY_CERT_SIGN |
						     MBEDTLS_X509_KU_CRL_SIGN) == 0,
	   "CA: keyCertSign and cRLSign");
	ok(ca.serial.len == 16 && !memcmp(ca.serial.p, s_ca, 16), "CA: the random serial as given");
	mbedtls_x509_dn_gets(dn, sizeof(dn), &ca.subject);
	is_str(dn, "CN=lab test CA", "CA: subject");
	is_int(mbedtls_x509_crt_verify(&ca, &ca, NULL, NULL, &flags, NULL, NULL), 0,
	       "CA: verifies as its own trust anchor");

	is_int(issue(&srv, X509CA_SERVER, "server", &sk, &cak, &ca, s_srv), 0,
	       "server certificate parses");
	is_int(mbedtls_x509_crt_verify(&srv, &ca, NULL, NULL, &flags, NULL, NULL), 0,
	       "server: verifies against the CA");
	{
		int bare, null;

		count_alg(srv.raw.p, srv.raw.len, &bare, &null);
		ok(bare == 2 && null == 0,
		   "ecdsa-with-SHA256 without parameters, twice (RFC 5758)");
	}
	ok(srv.ca_istrue == 0, "server: not a CA");
	is_int(mbedtls_x509_crt_check_extended_key_usage(&srv, MBEDTLS_OID_SERVER_AUTH,
							 MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
	       0, "server: extendedKeyUsage serverAuth");
	ok(mbedtls_x509_crt_check_extended_key_usage(
	       &srv, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != 0,
	   "server: not clientAuth");
	mbedtls_x509_dn_gets(dn, sizeof(dn), &srv.issuer);
	is_str(dn, "CN=lab test CA", "server: issuer is the CA");

	is_int(issue(&alice, X509CA_CLIENT, "alice", &ak, &cak, &ca, s_a), 0, "alice parses");
	is_int(issue(&bob, X509CA_CLIENT, "bob", &bk, &cak, &ca, s_b), 0, "bob parses");
	is_int(mbedtls_x509_crt_check_extended_key_usage(&alice, MBEDTLS_OID_CLIENT_AUTH,
							 MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)),
	       0, "client: extendedKeyUsage clientAuth");
	ok(memcmp(s_a, s_b, 16) != 0, "two clients, two serials");
	ok(mbedtls_x509_crt_verify(&alice, &srv, NULL, NULL, &flags, NULL, NULL) != 0,
	   "a client does not verify against the server certificate");

	is_int(crl_of(&empty, &cak, &ca, NULL, 0), 0, "an empty CRL parses");
	ok(empty.entry.serial.len == 0, "and lists nothing");
	is_int(mbedtls_x509_crt_verify(&bob, &ca, &empty, NULL, &flags, NULL, NULL), 0,
	       "bob verifies with the empty CRL");

	memcpy(rv.serial, s_b, 16);
	rv.when = time(NULL);
	is_int(crl_of(&crl, &cak, &ca, &rv, 1), 0, "a CRL revoking bob parses");
	ok(crl.version == 2, "v2 CRL");
	{
		int bare, null;

		count_alg(crl.raw.p, crl.raw.len, &bare, &null);
		ok(bare == 2 && null == 0, "CRL: ecdsa-with-SHA256 without parameters, twice");
	}
	ok(crl.entry.serial.len == 16 && !memcmp(crl.entry.serial.p, s_b, 16),
	   "it lists bob's serial");
	mbedtls_x509_dn_gets(dn, sizeof(dn), &crl.issuer);
	is_str(dn, "CN=lab test CA", "its issuer is the CA");
	is_int(mbedtls_x509_crt_verify(&alice, &ca, &crl, NULL, &flags, NULL, NULL), 0,
	       "alice still verifies with the CRL (its signature checked)");
	ok(mbedtls_x509_crt_verify(&bob, &ca, &crl, NULL, &flags, NULL, NULL) != 0 &&
	       (flags & MBEDTLS_X509_BADCERT_REVOKED),
	   "bob fails as revoked");
	/* a CRL signed by another key is not taken */
	{
		mbedtls_x509_crl bad;

		mbedtls_x509_crl_init(&bad);
		is_int(crl_of(&bad, &sk, &ca, &rv, 1), 0, "a CRL signed with the wrong key parses");
		ok(mbedtls_x509_crt_verify(&alice, &ca, &bad, NULL, &flags, NULL, NULL) != 0 &&
		       (flags & MBEDTLS_X509_BADCRL_NOT_TRUSTED),
		   "but is not trusted");
		mbedtls_x509_crl_free(&bad);
	}

	mbedtls_x509_crl_free(&crl);
	mbedtls_x509_crl_free(&empty);
	mbedtls_x509_crt_free(&ca);
	mbedtls_x509_crt_free(&srv);
	mbedtls_x509_crt_free(&alice);
	mbedtls_x509_crt_free(&bob);
	mbedtls_pk_free(&cak);
	mbedtls_pk_free(&sk);
	mbedtls_pk_free(&ak);
	mbedtls_pk_free(&bk);
	return done_testing();
}
