#include "dns_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "hash.h"

int
dns_client_init(struct dns_client *cl, const char *keyfile)
{
	const char *server = getenv("LAB_DNS_SERVER"), *key = getenv("LAB_DNS_KEY");
	struct buf b = BUF_INIT;
	int rc = 0;

	memset(cl, 0, sizeof(*cl));
	cl->timeout_ms = 3000;
	if (dns_addr_parse(server && *server ? server : "127.0.0.1", 53, &cl->server) < 0) {
		snprintf(cl->err, sizeof(cl->err), "$LAB_DNS_SERVER %s: expected ADDRESS[:PORT]",
			 server);
		errno = EINVAL;
		return -1;
	}
	if (key && *key) {
		if (dns_key_parse(key, &cl->key) < 0) {
			snprintf(cl->err, sizeof(cl->err), "$LAB_DNS_KEY: expected hmac-sha256:NAME:SECRET");
			errno = EINVAL;
			return -1;
		}
		cl->have_key = 1;
		return 0;
	}
	if (fs_read_file(keyfile ? keyfile : DNS_CLIENT_KEYFILE, &b, 4096) == 0) {
		char *k = str_trim(b.data ? b.data : (char *)"");

		if (dns_key_parse(k, &cl->key) < 0) {
			snprintf(cl->err, sizeof(cl->err), "%s: expected hmac-sha256:NAME:SECRET",
				 keyfile ? keyfile : DNS_CLIENT_KEYFILE);
			errno = EINVAL;
			rc = -1;
		} else {
			cl->have_key = 1;
		}
	} else if (keyfile || errno != ENOENT) {
		snprintf(cl->err, sizeof(cl->err), "%s: %s", keyfile ? keyfile : DNS_CLIENT_KEYFILE,
			 strerror(errno));
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

static ssize_t
fail(struct dns_client *cl, const char *what, int e)
{
	char s[80];

	snprintf(cl->err, sizeof(cl->err), "%s: %s%s%s", dns_addr_str(&cl->server, s, sizeof(s)),
		 what, e ? ": " : "", e ? strerror(e) : "");
	errno = e ? e : EPROTO;
	return -1;
}

ssize_t
dns_client_exchange(struct dns_client *cl, const uint8_t *q, size_t qlen, uint8_t *ans,
		    size_t cap, int force_tcp)
{
	int fd;
	ssize_t n;

	if (!force_tcp && qlen <= 512) {
		struct pollfd pfd;
		int left = cl->timeout_ms;
		struct timespec t0, t1;

		fd = socket(cl->server.sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return fail(cl, "socket", errno);
		if (connect(fd, (const struct sockaddr *)&cl->server.sa, cl->server.len) < 0 ||
		    send(fd, q, qlen, 0) < 0) {
			int e = errno;

			close(fd);
			return fail(cl, "send", e);
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, left) <= 0) {
				close(fd);
				return fail(cl, "no answer", ETIMEDOUT);
			}
			n = recv(fd, ans, cap, 0);
			if (n < 0 && errno != EINTR) {
				int e = errno;	/* ECONNREFUSED: nothing listens */

				close(fd);
				return fail(cl, "no answer", e);
			}
			if (n >= 12 && ans[0] == q[0] && ans[1] == q[1])
				break;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			left = cl->timeout_ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 +
						      (t1.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0) {
				close(fd);
				return fail(cl, "no answer", ETIMEDOUT);
			}
		}
		close(fd);
		if (!(ans[2] & (DNS_F_TC >> 8)))
			return n;
	}
	{
		struct timeval tv = { 10, 0 };
		uint8_t hdr[2] = { (uint8_t)(qlen >> 8), (uint8_t)qlen };
		size_t want;

		fd = socket(cl->server.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return fail(cl, "socket", errno);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (const struct sockaddr *)&cl->server.sa, cl->server.len) < 0 ||
		    fs_write_full(fd, hdr, 2) < 0 || fs_write_full(fd, q, qlen) < 0) {
			int e = errno;

			close(fd);
			return fail(cl, "tcp", e);
		}
		if (fs_read_full(fd, hdr, 2) != 2) {
			close(fd);
			return fail(cl, "connection closed", 0);
		}
		want = (size_t)(hdr[0] << 8 | hdr[1]);
		if (want > cap || fs_read_full(fd, ans, want) != (ssize_t)want) {
			close(fd);
			return fail(cl, "short answer", 0);
		}
		close(fd);
		return (ssize_t)want;
	}
}

static uint16_t
new_id(void)
{
	uint16_t id;

	rand_bytes(&id, sizeof(id));
	return id;
}

int
dns_client_find_zone(struct dns_client *cl, const struct dns_name *name, struct dns_name *zone)
{
	uint8_t q[512], a[65535];
	struct dns_w w;
	struct dns_msg m;
	ssize_t n;
	size_t i;
	int rc;
	char t[DNS_NAME_TEXT];

	dns_w_init(&w, q, sizeof(q), sizeof(q));
	dns_w_header(&w, new_id(), 0);
	dns_w_question(&w, name, DNS_T_SOA, DNS_C_IN);
	n = dns_client_exchange(cl, q, dns_w_finish(&w), a, sizeof(a), 0);
	if (n < 0)
		return -1;
	if (dns_msg_parse(&m, a, (size_t)n) < 0) {
		fail(cl, "malformed answer to the SOA query", 0);
		return -1;
	}
	for (i = 0; i < m.nrr; i++)
		if (m.rr[i].type == DNS_T_SOA && dns_name_is_sub(name, &m.rr[i].name)) {
			*zone = m.rr[i].name;
			dns_msg_free(&m);
			return 0;
		}
	rc = DNS_RCODE(m.flags);
	dns_msg_free(&m);
	snprintf(cl->err, sizeof(cl->err), "%s: the server is not authoritative for it (%s)",
		 dns_name_to_text(name, t), dns_rcode_name(rc));
	errno = ENOENT;
	return -1;
}

const char *
dns_rcode_name(int r)
{
	static const char *const n[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
					  "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
					  "NOTZONE" };

	return r >= 0 && r < 11 ? n[r] : "unknown";
}

int
dns_client_update(struct dns_client *cl, const struct dns_name *zone,
		  const struct dns_update_rr *rr, size_t nrr, int *rcode)
{
	uint8_t *q, *a, mac[32];
	struct dns_w w;
	struct dns_msg m;
	size_t qlen, i;
	ssize_t n;
	int rc = -1, r;

	*rcode = -1;
	if (!cl->have_key) {
		snprintf(cl->err, sizeof(cl->err), "no TSIG key to sign the update with");
		errno = EPERM;
		return -1;
	}
	q = malloc(65535);
	a = malloc(65535);
	if (!q || !a)
		goto out;
	dns_w_init(&w, q, 65535, 65535);
	dns_w_header(&w, new_id(), DNS_OP_UPDATE << 11);
	dns_w_question(&w, zone, DNS_T_SOA, DNS_C_IN);
	for (i = 0; i < nrr; i++)
		if (dns_w_rr(&w, 2, rr[i].name, rr[i].type, rr[i].class,
			     rr[i].class == DNS_C_IN ? rr[i].ttl : 0, rr[i].rdata, rr[i].rdlen) < 0) {
			snprintf(cl->err, sizeof(cl->err), "update too large");
			errno = EMSGSIZE;
			goto out;
		}
	qlen = dns_w_finish(&w);
	if (dns_tsig_sign(q, &qlen, 65535, &cl->key, (uint64_t)time(NULL), mac) < 0) {
		snprintf(cl->err, sizeof(cl->err), "update too large to sign");
		errno = EMSGSIZE;
		goto out;
	}
	n = dns_client_exchange(cl, q, qlen, a, 65535, 0);
	if (n < 0)
		goto out;
	if (dns_msg_parse(&m, a, (size_t)n) < 0) {
		fail(cl, "malformed answer to the update", 0);
		goto out;
	}
	r = DNS_RCODE(m.flags);
	dns_msg_free(&m);
	if (dns_tsig_verify_response(a, (size_t)n, &cl->key, mac, (uint64_t)time(NULL)) < 0) {
		snprintf(cl->err, sizeof(cl->err),
			 "the answer is not signed with our key (rcode %s): refusing to trust it",
			 dns_rcode_name(r));
		errno = EPROTO;
		goto out;
	}
	*rcode = r;
	if (r) {
		snprintf(cl->err, sizeof(cl->err), "%s", dns_rcode_name(r));
		errno = EPERM;
		goto out;
	}
	rc = 0;
out:
	free(q);
	free(a);
	return rc;
}
