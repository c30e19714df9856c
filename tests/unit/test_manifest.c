/* Manifests: the text both ends of a deploy agree on, parsing untrusted
 * copies of it, differences, scanning a tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "manifest.h"
#include "tap.h"

int
main(void)
{
	struct manifest a, b, p;
	struct buf t = BUF_INIT;
	struct mf_change *ch;
	size_t n;
	uint8_t h[32], h2[32];
	char err[200], dir[] = "/tmp/lab-mf-XXXXXX", cmd[512];

	mf_init(&a);
	hash_sha256("hello\n", 6, h);
	ok(mf_add(&a, "etc/motd", MF_FILE, 0644, 6, h, NULL) == 0, "add a file");
	ok(mf_add(&a, "etc", MF_DIR, 0755, 0, NULL, NULL) == 0, "add a dir");
	hash_sha256("../x y", 6, h2);
	ok(mf_add(&a, "etc/a b\\c", MF_LINK, 0, 6, h2, "../x y") == 0, "add a link with odd bytes");
	ok(mf_add(&a, "../x", MF_FILE, 0644, 0, h, NULL) < 0, "a path with .. is refused");
	ok(mf_add(&a, "/etc/x", MF_FILE, 0644, 0, h, NULL) < 0, "an absolute path is refused");
	ok(mf_add(&a, "etc//x", MF_FILE, 0644, 0, h, NULL) < 0, "an empty component is refused");
	ok(mf_sort(&a, err, sizeof(err)) == 0, "sort");
	mf_serialize(&a, &t);
	is_str(buf_cstr(&t),
	       "d 0755 0 - etc\n"
	       "l 0777 6 46c740c677b096f58d923616a89881f78464d33b78e60f6afe5c778bead771ae etc/a\\040b\\134c ../x\\040y\n"
	       "f 0644 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 etc/motd\n",
	       "serialized, sorted, escaped");
	is_int(mf_parse(&p, t.data, t.len, err, sizeof(err)), 0, "parses back");
	is_int(p.n, 3, "three entries");
	ok(p.n == 3 && !strcmp(p.v[1].path, "etc/a b\\c") && !strcmp(p.v[1].target, "../x y"),
	   "escapes undone");
	mf_hash(&a, h);
	mf_hash(&p, h2);
	is_mem(h, h2, 32, "the same hash on both sides");
	mf_free(&p);
	{
		static const char *bad[] = {
			"f 0644 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 ../x\n",
			"f 0644 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 a\n"
			"f 0644 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 a\n",
			"f 0644 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 b\n"
			"f 0644 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 a\n",
			"f 9644 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 a\n",
			"f 0644 6 zz91b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 a\n",
			"d 0755 0 - a",
			"l 0644 1 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 a b\n",
			"f 0644 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 a\\000\n",
			"d 0755 0 - a extra field\n",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			ok(mf_parse(&p, bad[i], strlen(bad[i]), err, sizeof(err)) < 0,
			   "bad manifest %zu refused (%s)", i, err);
	}
	mf_init(&b);
	hash_sha256("hello!\n", 7, h);
	mf_add(&b, "etc", MF_DIR, 0700, 0, NULL, NULL);
	mf_add(&b, "etc/motd", MF_FILE, 0644, 7, h, NULL);
	mf_add(&b, "etc/new", MF_FILE, 0600, 7, h, NULL);
	mf_sort(&b, NULL, 0);
	ok(mf_diff(&a, &b, &ch, &n) == 0 && n == 4, "four changes");
	ok(n == 4 && ch[0].kind == MF_MODE && !strcmp(ch[0].new->path, "etc"), "a mode change");
	ok(n == 4 && ch[1].kind == MF_REMOVE && !strcmp(ch[1].old->path, "etc/a b\\c"), "a removal");
	ok(n == 4 && ch[2].kind == MF_MODIFY && !strcmp(ch[2].new->path, "etc/motd"), "a modification");
	ok(n == 4 && ch[3].kind == MF_ADD && !strcmp(ch[3].new->path, "etc/new"), "an addition");
	free(ch);

	ok(mkdtemp(dir) != NULL, "scratch dir");
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p etc/sub && printf 'hello\\n' > etc/motd && chmod 600 etc/motd && ln -s motd etc/link",
		 dir);
	ok(system(cmd) == 0, "a tree");
	mf_free(&p);
	ok(mf_scan(&p, dir, err, sizeof(err)) == 0, "scan");
	buf_reset(&t);
	mf_serialize(&p, &t);
	is_str(buf_cstr(&t),
	       "d 0755 0 - etc\n"
	       "l 0777 4 5faab372d8fe1b009a0c4945bc68d38a90ff15acd62bc66d033be56714c03d9a etc/link motd\n"
	       "f 0600 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 etc/motd\n"
	       "d 0755 0 - etc/sub\n",
	       "the scan of the tree");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
	mf_free(&a);
	mf_free(&b);
	mf_free(&p);
	buf_free(&t);
	return done_testing();
}
