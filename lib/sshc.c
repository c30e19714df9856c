#include "sshc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#include "buf.h"
#include "log.h"

struct sshc {
	ssh_session s;
};

struct sshc_chan {
	ssh_channel ch;
	struct sshc *c;
	char errbuf[4096];
	size_t errlen;
};

int
sshc_init(void)
{
	return ssh_init() == SSH_OK ? 0 : -1;
}

static void
seterr(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
}

/* Host key against known_hosts. */
static int
verify_host(ssh_session s, const struct sshc_target *t, char *err, size_t errlen)
{
	enum ssh_known_hosts_e st = ssh_session_is_known_server(s);
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL, line[256];

	if (st == SSH_KNOWN_HOSTS_OK)
		return 0;
	if (ssh_get_server_publickey(s, &key) == SSH_OK &&
	    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0)
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	snprintf(line, sizeof(line), "%s", fp ? fp : "?");
	if (fp)
		ssh_string_free_char(fp);
	if (hash)
		ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	switch (st) {
	case SSH_KNOWN_HOSTS_CHANGED:
		seterr(err, errlen, "the host key changed (%s): refusing to connect", line, NULL);
		return -1;
	case SSH_KNOWN_HOSTS_OTHER:
		seterr(err, errlen, "known_hosts has another type of key for it (now %s): refusing",
		       line, NULL);
		return -1;
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		if (!t->accept_new) {
			seterr(err, errlen, "unknown host key %s (--accept-new trusts it)", line, NULL);
			return -1;
		}
		if (ssh_session_update_known_hosts(s) != SSH_OK) {
			seterr(err, errlen, "cannot record the host key: %s", ssh_get_error(s), NULL);
			return -1;
		}
		return 0;
	default:
		seterr(err, errlen, "cannot check the host key: %s", ssh_get_error(s), NULL);
		return -1;
	}
}

static int
authenticate(ssh_session s, const struct sshc_target *t, char *err, size_t errlen)
{
	int rc;

	if (t->identity && *t->identity) {
		ssh_key key = NULL;

		if (ssh_pki_import_privkey_file(t->identity, NULL, NULL, NULL, &key) != SSH_OK) {
			seterr(err, errlen, "%s: cannot read the private key (unencrypted ed25519, ecdsa or rsa)",
			       t->identity, NULL);
			return -1;
		}
		rc = ssh_userauth_publickey(s, NULL, key);
		ssh_key_free(key);
	} else {
		rc = SSH_AUTH_DENIED;
		if (getenv("SSH_AUTH_SOCK"))
			rc = ssh_userauth_agent(s, NULL);
		if (rc != SSH_AUTH_SUCCESS)
			rc = ssh_userauth_publickey_auto(s, NULL, NULL);
	}
	if (rc != SSH_AUTH_SUCCESS) {
		seterr(err, errlen, "authentication failed for %s%s", t->user ? t->user : "root",
		       rc == SSH_AUTH_ERROR ? " (error)" : " (key refused)");
		return -1;
	}
	return 0;
}

struct sshc *
sshc_connect(const struct sshc_target *t, char *err, size_t errlen)
{
	struct sshc *c = calloc(1, sizeof(*c));
	long timeout = t->timeout_s > 0 ? t->timeout_s : 10;
	int port = t->port > 0 ? t->port : 22, one = 1;

	if (!c) {
		seterr(err, errlen, "out of memory", NULL, NULL);
		return NULL;
	}
	c->s = ssh_new();
	if (!c->s) {
		free(c);
		seterr(err, errlen, "out of memory", NULL, NULL);
		return NULL;
	}
	ssh_options_set(c->s, SSH_OPTIONS_HOST, t->host);
	ssh_options_set(c->s, SSH_OPTIONS_PORT, &port);
	ssh_options_set(c->s, SSH_OPTIONS_USER, t->user ? t->user : "root");
	ssh_options_set(c->s, SSH_OPTIONS_TIMEOUT, &timeout);
	ssh_options_set(c->s, SSH_OPTIONS_NODELAY, &one);
	if (t->known_hosts)
		ssh_options_set(c->s, SSH_OPTIONS_KNOWNHOSTS, t->known_hosts);
	if (ssh_connect(c->s) != SSH_OK) {
		seterr(err, errlen, "%s", ssh_get_error(c->s), NULL);
		goto fail;
	}
	if (verify_host(c->s, t, err, errlen) < 0 || authenticate(c->s, t, err, errlen) < 0)
		goto fail;
	return c;
fail:
	ssh_disconnect(c->s);
	ssh_free(c->s);
	free(c);
	return NULL;
}

void
sshc_close(struct sshc *c)
{
	if (!c)
		return;
	ssh_disconnect(c->s);
	ssh_free(c->s);
	free(c);
}

struct sshc_chan *
sshc_exec(struct sshc *c, const char *cmd, char *err, size_t errlen)
{
	struct sshc_chan *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->c = c;
	ch->ch = ssh_channel_new(c->s);
	if (!ch->ch || ssh_channel_open_session(ch->ch) != SSH_OK ||
	    ssh_channel_request_exec(ch->ch, cmd) != SSH_OK) {
		seterr(err, errlen, "%s", ssh_get_error(c->s), NULL);
		if (ch->ch)
			ssh_channel_free(ch->ch);
		free(ch);
		return NULL;
	}
	return ch;
}

/* Keep what arrives on stderr, for the message when things fail. */
static void
drain_stderr(struct sshc_chan *ch)
{
	char tmp[1024];
	int n;

	while ((n = ssh_channel_read_nonblocking(ch->ch, tmp, sizeof(tmp), 1)) > 0) {
		size_t k = (size_t)n;

		if (k > sizeof(ch->errbuf) - 1 - ch->errlen)
			k = sizeof(ch->errbuf) - 1 - ch->errlen;
		memcpy(ch->errbuf + ch->errlen, tmp, k);
		ch->errlen += k;
		ch->errbuf[ch->errlen] = '\0';
	}
}

ssize_t
sshc_read(void *arg, void *p, size_t n)
{
	struct sshc_chan *ch = arg;
	int k;

	for (;;) {
		k = ssh_channel_read_timeout(ch->ch, p, (uint32_t)(n > 0x7fffffff ? 0x7fffffff : n), 0,
					     1000);
		drain_stderr(ch);
		if (k > 0)
			return k;
		if (k == SSH_ERROR) {
			errno = EIO;
			return -1;
		}
		if (ssh_channel_is_eof(ch->ch) || !ssh_channel_is_open(ch->ch))
			return 0;
		/* k == 0: a timeout, or stderr only: go on waiting */
	}
}

int
sshc_write(void *arg, const void *p, size_t n)
{
	struct sshc_chan *ch = arg;
	const char *c = p;

	while (n) {
		int k = ssh_channel_write(ch->ch, c, (uint32_t)(n > 65536 ? 65536 : n));

		if (k == SSH_ERROR || k <= 0) {
			errno = EPIPE;
			return -1;
		}
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

int
sshc_send_eof(struct sshc_chan *ch)
{
	return ssh_channel_send_eof(ch->ch) == SSH_OK ? 0 : -1;
}

int
sshc_exit_status(struct sshc_chan *ch)
{
	char tmp[1024];

	while (ssh_channel_read_timeout(ch->ch, tmp, sizeof(tmp), 0, 5000) > 0)
		;
	drain_stderr(ch);
	return ssh_channel_get_exit_status(ch->ch);
}

const char *
sshc_stderr(struct sshc_chan *ch)
{
	return ch->errbuf;
}

void
sshc_chan_close(struct sshc_chan *ch)
{
	if (!ch)
		return;
	ssh_channel_close(ch->ch);
	ssh_channel_free(ch->ch);
	free(ch);
}

void
sshc_quote(char *out, size_t size, const char *s)
{
	size_t o = 0;

	if (size < 3) {
		if (size)
			out[0] = '\0';
		return;
	}
	out[o++] = '\'';
	for (; *s && o + 5 < size; s++) {
		if (*s == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else {
			out[o++] = *s;
		}
	}
	out[o++] = '\'';
	out[o] = '\0';
}
