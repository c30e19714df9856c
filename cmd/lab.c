/*
 * lab: one static executable, many commands.
 *
 *	lab <command> [args]	lab-<command> [args] (a symlink to lab)
 *	lab --list		the commands, one per line
 *	lab --version		lab's version and those of its libraries
 *	lab help [command]	usage
 */
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <mbedtls/version.h>
#include <libssh/libssh.h>

#include "buf.h"
#include "cmd.h"
#include "pins.h"
#include "version.h"

const struct command lab_commands[] = {
#define CMD(name, flags, summary) { #name, name##_main, name##_usage, flags, summary },
#include "commands.h"
#undef CMD
	{ NULL, NULL, NULL, 0, NULL },
};
const size_t lab_ncommands = sizeof(lab_commands) / sizeof(lab_commands[0]) - 1;

static const char lab_usage[] =
	"usage: lab <command> [args...]     (or lab-<command> [args...])\n"
	"       lab --list | --version | help [command]\n"
	"\n"
	"lab is a cloud-at-home toolbox in one static binary. Commands:\n";

static void
usage(FILE *f)
{
	size_t i;

	fputs(lab_usage, f);
	for (i = 0; i < lab_ncommands; i++)
		fprintf(f, "  %-8s %s\n", lab_commands[i].name, lab_commands[i].summary);
	if (lab_ncommands == 0)
		fputs("  (none in this build)\n", f);
	fputs("\n'lab help <command>' or 'lab <command> -h' shows a command's usage.\n", f);
}

static void
version(void)
{
	char mbed[64];

	mbedtls_version_get_string_full(mbed);
	printf("lab %s\n", LAB_VERSION);
	printf("  musl      (Debian musl %s, static)\n", PIN_MUSL);
	printf("  BearSSL   %s (Debian bearssl %s)\n", PIN_BEARSSL_UPSTREAM, PIN_BEARSSL);
	printf("  mbed TLS  %s (Debian mbedtls %s)\n", mbed + strlen("mbed TLS "), PIN_MBEDTLS);
	printf("  libssh    %s (Debian libssh %s)\n", ssh_version(0), PIN_LIBSSH);
	printf("  zlib      %s (Debian zlib %s)\n", zlibVersion(), PIN_ZLIB);
	printf("  netlink   lab's own (libmnl/libnftnl sources are not obtainable here)\n");
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int
run(const struct command *c, int argc, char **argv)
{
	static char prog[64];

	snprintf(prog, sizeof(prog), "lab %s", c->name);
	cmd_prog = prog;
	log_init(prog, 0);
	if (argc > 1 && cmd_is_help(argv[1])) {
		cmd_usage(c);
		return EXIT_OK;
	}
	return c->main(argc, argv);
}

int
main(int argc, char **argv)
{
	const char *self = argc > 0 && argv[0] ? base_name(argv[0]) : "lab";
	const struct command *c;

	log_init("lab", 0);
	/* Personality from the name: lab-vpn up wg0 == lab vpn up wg0. */
	if (str_has_prefix(self, "lab-") && self[4]) {
		c = cmd_find(self + 4);
		if (!c) {
			log_warnx("unknown command '%s' (called as %s; see 'lab --list')", self + 4, self);
			return EXIT_UNKNOWN;
		}
		return run(c, argc, argv);
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cmd_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			c = cmd_find(argv[2]);
			if (!c) {
				log_warnx("unknown command '%s' (see 'lab --list')", argv[2]);
				return EXIT_UNKNOWN;
			}
			cmd_usage(c);
			return EXIT_OK;
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--list") == 0) {
		size_t i;

		for (i = 0; i < lab_ncommands; i++)
			printf("%-8s %s\n", lab_commands[i].name, lab_commands[i].summary);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		version();
		return EXIT_OK;
	}
	if (argv[1][0] == '-') {
		log_warnx("unknown option '%s' (see 'lab -h')", argv[1]);
		return EXIT_USAGE;
	}
	c = cmd_find(argv[1]);
	if (!c) {
		log_warnx("unknown command '%s' (see 'lab --list')", argv[1]);
		return EXIT_UNKNOWN;
	}
	return run(c, argc - 1, argv + 1);
}
