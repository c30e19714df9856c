/*
 * An SSH client for lab deploy, over libssh (mbedTLS): one connection per
 * machine, host keys checked against known_hosts (an unknown host is
 * refused unless accept_new; a changed key always), public-key
 * authentication from an identity file, the agent, or ~/.ssh defaults,
 * and exec channels read and written like pipes.
 */
#ifndef LAB_SSHC_H
#define LAB_SSHC_H

#include <stddef.h>
#include <sys/types.h>

struct sshc_target {
	const char *host;
	int port;
	const char *user;
	const char *identity;		/* NULL: agent, then ~/.ssh defaults */
	const char *known_hosts;	/* NULL: ~/.ssh/known_hosts */
	int accept_new;			/* trust (and record) a host seen the first time */
	int timeout_s;
};

struct sshc;
struct sshc_chan;

/* Call once before threads use SSH. */
int sshc_init(void);
struct sshc *sshc_connect(const struct sshc_target *t, char *err, size_t errlen);
void sshc_close(struct sshc *c);

struct sshc_chan *sshc_exec(struct sshc *c, const char *cmd, char *err, size_t errlen);
ssize_t sshc_read(void *chan, void *p, size_t n);	/* 0 at EOF */
int sshc_write(void *chan, const void *p, size_t n);
int sshc_send_eof(struct sshc_chan *ch);
/* Waits for the channel's end: the command's exit status, or -1. */
int sshc_exit_status(struct sshc_chan *ch);
/* What the command wrote to stderr (up to 4 KiB), for messages. */
const char *sshc_stderr(struct sshc_chan *ch);
void sshc_chan_close(struct sshc_chan *ch);

/* Quote a string for a POSIX shell. */
void sshc_quote(char *out, size_t size, const char *s);

#endif
