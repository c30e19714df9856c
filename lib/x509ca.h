/*
 * A small X.509 certificate authority on mbedTLS: P-256 keys, a
 * self-signed CA (basicConstraints CA:true, keyCertSign + cRLSign), server
 * and client certificates (extendedKeyUsage serverAuth / clientAuth) with
 * subject and authority key identifiers, and CRLs (RFC 5280 section 5),
 * which mbedTLS 2.28 cannot write: their DER is built here and signed with
 * the CA's key. Everything is ECDSA with SHA-256.
 *
 * Functions return 0, or -1 with errno (EINVAL for what mbedTLS refused,
 * details in log_debug).
 */
#ifndef LAB_X509CA_H
#define LAB_X509CA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "buf.h"

#define X509CA_SERIAL_LEN 16

enum x509ca_kind { X509CA_CA, X509CA_SERVER, X509CA_CLIENT };

/* getrandom() in mbedTLS's f_rng shape. */
int x509ca_rng(void *ctx, unsigned char *p, size_t n);

/* A fresh P-256 key into an initialised (empty) context; its PEM (SEC1
 * "EC PRIVATE KEY"). */
int x509ca_key_new(mbedtls_pk_context *pk);
int x509ca_key_pem(mbedtls_pk_context *pk, struct buf *out);

/* A random positive serial of X509CA_SERIAL_LEN bytes. */
int x509ca_serial_new(uint8_t serial[X509CA_SERIAL_LEN]);

struct x509ca_req {
	enum x509ca_kind kind;
	const char *cn;		    /* the subject is CN=cn; [A-Za-z0-9._ -] */
	mbedtls_pk_context *key;    /* the subject's key */
	mbedtls_pk_context *ca_key; /* the issuer's key (= key for the CA) */
	const mbedtls_x509_crt *ca; /* the issuer; NULL for the CA itself */
	time_t not_before, not_after;
	uint8_t serial[X509CA_SERIAL_LEN];
};

/* The certificate, PEM, appended to out. */
int x509ca_issue(const struct x509ca_req *r, struct buf *out);

struct x509ca_revoked {
	uint8_t serial[X509CA_SERIAL_LEN];
	time_t when;
};

/* A v2 CRL of the CA listing revoked (n entries, possibly none), with
 * the authority key identifier and cRLNumber extensions; PEM appended to
 * out. */
int x509ca_crl(mbedtls_pk_context *ca_key, const mbedtls_x509_crt *ca,
	       const struct x509ca_revoked *revoked, size_t n, time_t this_update,
	       time_t next_update, uint64_t number, struct buf *out);

#endif
