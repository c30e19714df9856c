/*
 * The deploying side of lab deploy: a session with one machine's receiver
 * (over SSH, or a local process for host "local"), which installs or
 * upgrades lab on the target first when its binary is missing or not ours.
 */
#ifndef LAB_DEPLOY_CLIENT_H
#define LAB_DEPLOY_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "deploy.h"
#include "deploy_proto.h"
#include "manifest.h"
#include "sshc.h"

struct ds_opts {
	const char *known_hosts;
	int accept_new;
	int local;		/* this machine, without SSH */
	int timeout_s;
};

struct dsession {
	const struct inv_machine *m;
	struct sshc *ssh;
	struct sshc_chan *ch;
	pid_t pid;		/* local receiver */
	int fd_in, fd_out;	/* its stdout, stdin */
	struct dp_io io;
	uint64_t gen;
	uint8_t manifest[32];	/* the target's current manifest */
	int upgraded, installed;
	void (*log)(void *arg, const char *line);
	void *arg;
	char err[600];
};

struct ds_result {
	int ok;
	uint64_t gen;
	size_t sent, bytes;	/* contents sent, compressed bytes */
	size_t written, removed, modes;
	char units[512];
	char error[600];
};

int ds_open(struct dsession *s, const struct inv_machine *m, const struct ds_opts *o);
int ds_probe(struct dsession *s, struct buf *json);
int ds_manifest(struct dsession *s, struct manifest *out);
int ds_fetch(struct dsession *s, const uint8_t hash[32], struct buf *out);
/* Send what the target lacks of b's tree and apply it. */
int ds_apply(struct dsession *s, const struct build *b, int rollback_on_failure,
	     struct ds_result *r);
int ds_rollback(struct dsession *s, uint64_t gen, struct ds_result *r);
int ds_exec(struct dsession *s, char *const argv[], struct buf *out, int *code);
void ds_close(struct dsession *s);

#endif
