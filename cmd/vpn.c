/*
 * lab vpn: WireGuard keys as `wg` writes and reads them. (The userspace
 * WireGuard, peers, bastion and gateway come with the rest of the issue.)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "fs.h"
#include "hash.h"
#include "x25519.h"

const char vpn_usage[] =
	"usage: lab vpn genkey            a private key (base64, as wg genkey)\n"
	"       lab vpn pubkey < PRIVATE  its public key (as wg pubkey)\n"
	"       lab vpn genpsk            a preshared key (as wg genpsk)\n";

static void
print_key(const uint8_t k[32])
{
	char b[64];

	base64_encode(k, 32, b);
	printf("%s\n", b);
}

int
vpn_main(int argc, char **argv)
{
	uint8_t k[32], pub[32];

	if (argc != 2)
		die_usage("genkey, pubkey or genpsk");
	if (!strcmp(argv[1], "genkey") || !strcmp(argv[1], "genpsk")) {
		if (!strcmp(argv[1], "genkey") ? x25519_generate(k) < 0 : rand_bytes(k, 32) < 0)
			die_errno("getrandom");
		print_key(k);
		memset(k, 0, sizeof(k));
		return 0;
	}
	if (!strcmp(argv[1], "pubkey")) {
		struct buf in = BUF_INIT;
		char *s;

		if (fs_read_fd(0, &in, 4096) < 0)
			die_errno("pubkey: standard input");
		s = (char *)buf_cstr(&in);
		s[strcspn(s, "\r\n")] = '\0';
		if (strlen(s) != 44 || base64_decode(s, k, sizeof(k)) != 32)
			die("pubkey: standard input is not a WireGuard key (44 characters of base64)");
		if (x25519_public(pub, k) < 0)
			die("pubkey: the key gives no public key");
		print_key(pub);
		memset(k, 0, sizeof(k));
		memset(in.data, 0, in.len);
		buf_free(&in);
		return 0;
	}
	die_usage("unknown subcommand \"%s\"", argv[1]);
}
