#include "x509ca.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>

#include "hash.h"
#include "log.h"

int
x509ca_rng(void *ctx, unsigned char *p, size_t n)
{
	(void)ctx;
	return rand_bytes(p, n) < 0 ? MBEDTLS_ERR_ECP_RANDOM_FAILED : 0;
}

/* An mbedTLS error to errno; the code for -v. */
static int
fail(const char *what, int ret)
{
	log_debug("x509ca: %s: mbedTLS error -0x%04x", what, (unsigned)-ret);
	errno = ret == MBEDTLS_ERR_ECP_RANDOM_FAILED ? EIO : EINVAL;
	return -1;
}

int
x509ca_key_new(mbedtls_pk_context *pk)
{
	int ret;

	if ((ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0)
		return fail("key setup", ret);
	if ((ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), x509ca_rng,
				       NULL)) != 0)
		return fail("P-256 key", ret);
	return 0;
}

int
x509ca_key_pem(mbedtls_pk_context *pk, struct buf *out)
{
	unsigned char pem[1024];
	int ret;

	if ((ret = mbedtls_pk_write_key_pem(pk, pem, sizeof(pem))) != 0)
		return fail("key PEM", ret);
	buf_adds(out, (char *)pem);
	mbedtls_platform_zeroize(pem, sizeof(pem));
	return buf_err(out);
}

int
x509ca_serial_new(uint8_t serial[X509CA_SERIAL_LEN])
{
	if (rand_bytes(serial, X509CA_SERIAL_LEN) < 0)
		return -1;
	/* positive, and always X509CA_SERIAL_LEN bytes long in DER */
	serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
	return 0;
}

/* "YYYYMMDDhhmmss", as mbedtls_x509write_crt_set_validity wants it. */
static void
validity_time(time_t t, char out[16])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

/* The SHA-1 of the public key's point, as mbedTLS's key identifiers. */
static int
key_id(mbedtls_pk_context *pk, uint8_t id[20])
{
	unsigned char b[200], *c = b + sizeof(b);
	int len = mbedtls_pk_write_pubkey(&c, b, pk);

	if (len < 0)
		return fail("public key", len);
	if (mbedtls_sha1_ret(c, (size_t)len, id) != 0)
		return fail("sha1", MBEDTLS_ERR_ASN1_INVALID_DATA);
	return 0;
}

static int sign_wrap(const unsigned char *tbs, size_t len, mbedtls_pk_context *key,
		     const char *label, struct buf *out);
static int write_sigalg(unsigned char **p, unsigned char *start);

/*
 * mbedTLS 2.28 writes ecdsa-with-SHA256 with NULL parameters, which RFC
 * 5758 (3.2) says must be absent. So its TBSCertificate is taken apart,
 * the signature field written again without them, and the result signed
 * anew.
 */
static int
resign(const unsigned char *der, size_t len, mbedtls_pk_context *key, struct buf *out)
{
	unsigned char *p = (unsigned char *)der, *end = p + len, *body, *tbs_end, *alg, *alg_end;
	unsigned char *nb = NULL, *q;
	size_t l, total = 0;
	int r, rc = -1;

	if (mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
	    mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		goto bad;
	body = p;
	tbs_end = p + l;
	/* version [0], serialNumber, then signature AlgorithmIdentifier */
	if (mbedtls_asn1_get_tag(&p, tbs_end, &l,
				 MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0))
		goto bad;
	p += l;
	if (mbedtls_asn1_get_tag(&p, tbs_end, &l, MBEDTLS_ASN1_INTEGER))
		goto bad;
	p += l;
	alg = p;
	if (mbedtls_asn1_get_tag(&p, tbs_end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		goto bad;
	alg_end = p + l;
	if (mbedtls_asn1_get_tag(&p, alg_end, &l, MBEDTLS_ASN1_OID) ||
	    l != MBEDTLS_OID_SIZE(MBEDTLS_OID_ECDSA_SHA256) ||
	    memcmp(p, MBEDTLS_OID_ECDSA_SHA256, l))
		goto bad;
	p += l;
	if (p != alg_end && (alg_end - p != 2 || p[0] != MBEDTLS_ASN1_NULL || p[1] != 0))
		goto bad;
	nb = malloc(len + 16);
	if (!nb)
		return -1;
	q = nb + len + 16;
	if ((r = mbedtls_asn1_write_raw_buffer(&q, nb, alg_end, (size_t)(tbs_end - alg_end))) < 0)
		goto asn1;
	total += (size_t)r;
	if ((r = write_sigalg(&q, nb)) < 0)
		goto asn1;
	total += (size_t)r;
	if ((r = mbedtls_asn1_write_raw_buffer(&q, nb, body, (size_t)(alg - body))) < 0)
		goto asn1;
	total += (size_t)r;
	if ((r = mbedtls_asn1_write_len(&q, nb, total)) < 0)
		goto asn1;
	total += (size_t)r;
	if ((r = mbedtls_asn1_write_tag(&q, nb, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) <
	    0)
		goto asn1;
	total += (size_t)r;
	rc = sign_wrap(q, total, key, "CERTIFICATE", out);
	free(nb);
	return rc;
asn1:
	free(nb);
	return fail("certificate", r);
bad:
	log_debug("x509ca: mbedTLS wrote a certificate of an unexpected shape");
	errno = EINVAL;
	return -1;
}

int
x509ca_issue(const struct x509ca_req *r, struct buf *out)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	char nb[16], na[16], name[300];
	unsigned char eku[16], *der = NULL;
	const char *oid;
	size_t ekulen = 0;
	int ret, rc = -1;

	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	if (strchr(r->cn, ',') || strchr(r->cn, '=') || strchr(r->cn, '\\')) {
		errno = EINVAL;
		goto out;
	}
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, r->key);
	mbedtls_x509write_crt_set_issuer_key(&w, r->ca_key);
	snprintf(name, sizeof(name), "CN=%s", r->cn);
	if ((ret = mbedtls_x509write_crt_set_subject_name(&w, name)) != 0) {
		fail("subject", ret);
		goto out;
	}
	if (r->ca) {
		if (mbedtls_x509_dn_gets(name, sizeof(name), &r->ca->subject) < 0) {
			errno = EINVAL;
			goto out;
		}
	}
	if ((ret = mbedtls_x509write_crt_set_issuer_name(&w, name)) != 0) {
		fail("issuer", ret);
		goto out;
	}
	if ((ret = mbedtls_mpi_read_binary(&serial, r->serial, X509CA_SERIAL_LEN)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_serial(&w, &serial)) != 0) {
		fail("serial", ret);
		goto out;
	}
	validity_time(r->not_before, nb);
	validity_time(r->not_after, na);
	if ((ret = mbedtls_x509write_crt_set_validity(&w, nb, na)) != 0) {
		fail("validity", ret);
		goto out;
	}
	if ((ret = mbedtls_x509write_crt_set_basic_constraints(
		 &w, r->kind == X509CA_CA, r->kind == X509CA_CA ? 0 : -1)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_authority_key_identifier(&w)) != 0) {
		fail("extensions", ret);
		goto out;
	}
	ret = mbedtls_x509write_crt_set_key_usage(
	    &w, r->kind == X509CA_CA ? MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN
				     : MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
	if (ret != 0) {
		fail("key usage", ret);
		goto out;
	}
	if (r->kind != X509CA_CA) {
		/* ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId */
		oid = r->kind == X509CA_SERVER ? MBEDTLS_OID_SERVER_AUTH : MBEDTLS_OID_CLIENT_AUTH;
		eku[0] = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
		eku[1] = (unsigned char)(2 + MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH));
		eku[2] = MBEDTLS_ASN1_OID;
		eku[3] = (unsigned char)MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH);
		memcpy(eku + 4, oid, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH));
		ekulen = 4 + MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH);
		if ((ret = mbedtls_x509write_crt_set_extension(
			 &w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
			 MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0, eku, ekulen)) != 0) {
			fail("extended key usage", ret);
			goto out;
		}
	}
	der = malloc(4096);
	if (!der)
		goto out;
	if ((ret = mbedtls_x509write_crt_der(&w, der, 4096, x509ca_rng, NULL)) < 0) {
		fail("certificate", ret);
		goto out;
	}
	rc = resign(der + 4096 - ret, (size_t)ret, r->ca_key, out);
out:
	free(der);
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	return rc;
}

/* ---- CRL: RFC 5280 section 5.1, written back to front ---- */

#define CHK(f)                                                                                     \
	do {                                                                                       \
		int r_ = (f);                                                                      \
		if (r_ < 0)                                                                        \
			return r_;                                                                 \
		len += (size_t)r_;                                                                 \
	} while (0)

/* UTCTime through 2049, GeneralizedTime after (RFC 5280 5.1.2.4). */
static int
write_time(unsigned char **p, unsigned char *start, time_t t)
{
	struct tm tm;
	char s[20];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y%m%d%H%M%SZ", &tm);
	if (tm.tm_year + 1900 < 2050)
		return mbedtls_asn1_write_tagged_string(p, start, MBEDTLS_ASN1_UTC_TIME, s + 2, 13);
	return mbedtls_asn1_write_tagged_string(p, start, MBEDTLS_ASN1_GENERALIZED_TIME, s, 15);
}

/* AlgorithmIdentifier ecdsa-with-SHA256, parameters absent (RFC 5758). */
static int
write_sigalg(unsigned char **p, unsigned char *start)
{
	size_t len = 0;

	CHK(mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_ECDSA_SHA256,
				   MBEDTLS_OID_SIZE(MBEDTLS_OID_ECDSA_SHA256)));
	CHK(mbedtls_asn1_write_len(p, start, len));
	CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return (int)len;
}

/*
 * SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING signature } -- the shape of
 * a Certificate and of a CertificateList -- signed with key; its PEM
 * (-----BEGIN label-----) appended to out.
 */
static int
sign_wrap(const unsigned char *tbs, size_t len, mbedtls_pk_context *key, const char *label,
	  struct buf *out)
{
	size_t cap = len + 256, pemcap = 2 * cap + 128, pemlen, siglen = 0, total = 0;
	unsigned char *b = malloc(cap), *pem = malloc(pemcap), *q;
	unsigned char hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	char begin[64], end[64];
	int r, rc = -1;

	if (!b || !pem)
		goto out;
	if ((r = mbedtls_sha256_ret(tbs, len, hash, 0)) != 0 ||
	    (r = mbedtls_pk_sign(key, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, &siglen,
				 x509ca_rng, NULL)) != 0) {
		fail("signature", r);
		goto out;
	}
	q = b + cap;
	if ((r = mbedtls_asn1_write_bitstring(&q, b, sig, siglen * 8)) < 0)
		goto asn1;
	total += (size_t)r;
	if ((r = write_sigalg(&q, b)) < 0)
		goto asn1;
	total += (size_t)r;
	if ((r = mbedtls_asn1_write_raw_buffer(&q, b, tbs, len)) < 0)
		goto asn1;
	total += (size_t)r;
	if ((r = mbedtls_asn1_write_len(&q, b, total)) < 0)
		goto asn1;
	total += (size_t)r;
	if ((r = mbedtls_asn1_write_tag(&q, b, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) <
	    0)
		goto asn1;
	total += (size_t)r;
	snprintf(begin, sizeof(begin), "-----BEGIN %s-----\n", label);
	snprintf(end, sizeof(end), "-----END %s-----\n", label);
	if ((r = mbedtls_pem_write_buffer(begin, end, q, total, pem, pemcap, &pemlen)) != 0)
		goto asn1;
	buf_adds(out, (char *)pem);
	rc = buf_err(out);
	goto out;
asn1:
	fail(label, r);
out:
	free(b);
	free(pem);
	return rc;
}

static int
write_serial(unsigned char **p, unsigned char *start, const uint8_t s[X509CA_SERIAL_LEN])
{
	mbedtls_mpi m;
	int ret;

	mbedtls_mpi_init(&m);
	ret = mbedtls_mpi_read_binary(&m, s, X509CA_SERIAL_LEN);
	if (ret == 0)
		ret = mbedtls_asn1_write_mpi(p, start, &m);
	mbedtls_mpi_free(&m);
	return ret;
}

/* Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING } */
static int
write_ext(unsigned char **p, unsigned char *start, const char *oid, size_t oidlen,
	  const unsigned char *val, size_t vlen)
{
	size_t len = 0;

	CHK(mbedtls_asn1_write_raw_buffer(p, start, val, vlen));
	CHK(mbedtls_asn1_write_len(p, start, vlen));
	CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_OCTET_STRING));
	CHK(mbedtls_asn1_write_oid(p, start, oid, oidlen));
	CHK(mbedtls_asn1_write_len(p, start, len));
	CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return (int)len;
}

static int
write_tbs(unsigned char **p, unsigned char *start, const uint8_t keyid[20],
	  const mbedtls_x509_crt *ca, const struct x509ca_revoked *rv, size_t n, time_t this_update,
	  time_t next_update, uint64_t number)
{
	unsigned char v[40];
	size_t len = 0, i;

	/* crlExtensions [0] EXPLICIT Extensions: authorityKeyIdentifier, cRLNumber */
	{
		size_t before = len, vl;
		unsigned char t[9];
		int k = 9;

		/* CRLNumber ::= INTEGER: big-endian, minimal, 0x00 first if the top bit is set */
		do {
			t[--k] = (unsigned char)number;
			number >>= 8;
		} while (number && k > 1);
		if (t[k] & 0x80)
			t[--k] = 0;
		vl = (size_t)(9 - k);
		v[0] = MBEDTLS_ASN1_INTEGER;
		v[1] = (unsigned char)vl;
		memcpy(v + 2, t + k, vl);
		CHK(write_ext(p, start, MBEDTLS_OID_CRL_NUMBER,
			      MBEDTLS_OID_SIZE(MBEDTLS_OID_CRL_NUMBER), v, vl + 2));
		/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
		 */
		v[0] = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
		v[1] = 22;
		v[2] = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0;
		v[3] = 20;
		memcpy(v + 4, keyid, 20);
		CHK(write_ext(p, start, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
			      MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER), v, 24));
		CHK(mbedtls_asn1_write_len(p, start, len - before));
		CHK(mbedtls_asn1_write_tag(p, start,
					   MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
		CHK(mbedtls_asn1_write_len(p, start, len - before));
		CHK(mbedtls_asn1_write_tag(
		    p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0));
	}
	/* revokedCertificates, absent when empty (5.1.2.6) */
	if (n) {
		size_t before = len;

		for (i = n; i-- > 0;) {
			size_t e = len;

			CHK(write_time(p, start, rv[i].when));
			CHK(write_serial(p, start, rv[i].serial));
			CHK(mbedtls_asn1_write_len(p, start, len - e));
			CHK(mbedtls_asn1_write_tag(
			    p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
		}
		CHK(mbedtls_asn1_write_len(p, start, len - before));
		CHK(mbedtls_asn1_write_tag(p, start,
					   MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	}
	CHK(write_time(p, start, next_update));
	CHK(write_time(p, start, this_update));
	/* the issuer exactly as the CA certificate names its subject */
	CHK(mbedtls_asn1_write_raw_buffer(p, start, ca->subject_raw.p, ca->subject_raw.len));
	CHK(write_sigalg(p, start));
	CHK(mbedtls_asn1_write_int(p, start, 1)); /* v2 */
	CHK(mbedtls_asn1_write_len(p, start, len));
	CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return (int)len;
}

int
x509ca_crl(mbedtls_pk_context *ca_key, const mbedtls_x509_crt *ca,
	   const struct x509ca_revoked *revoked, size_t n, time_t this_update, time_t next_update,
	   uint64_t number, struct buf *out)
{
	size_t cap = 512 + n * 64;
	unsigned char *a, *p;
	uint8_t keyid[20];
	int ret, rc;

	if (key_id(ca_key, keyid) < 0)
		return -1;
	a = malloc(cap);
	if (!a)
		return -1;
	p = a + cap;
	ret = write_tbs(&p, a, keyid, ca, revoked, n, this_update, next_update, number);
	if (ret < 0) {
		free(a);
		return fail("CRL", ret);
	}
	rc = sign_wrap(p, (size_t)ret, ca_key, "X509 CRL", out);
	free(a);
	return rc;
}
