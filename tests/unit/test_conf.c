#include <errno.h>
#include <stdlib.h>

#include "conf.h"
#include "tap.h"

static int
parse(struct conf *c, const char *text, int flags, struct conf_err *err)
{
	return conf_parse(c, "t.conf", text, strlen(text), flags, err);
}

static void
test_parse(void)
{
	static const char text[] =
		"# a comment\n"
		"global = 1\n"
		"; another\n"
		"[Interface]\n"
		"PrivateKey = abc=\n"
		"  Address =  10.0.0.1/24  \n"
		"\n"
		"[Peer]\n"
		"AllowedIPs = 10.0.0.2/32\n"
		"AllowedIPs = 10.0.0.3/32\n"
		"[dhcp br0]\n"
		"Range = \"  spaced \\\"q\\\"  \"\n"
		"Crlf = yes\r\n";
	struct conf c;
	struct conf_err err;
	const struct conf_section *s;
	struct buf out = BUF_INIT;
	int b;

	ok(parse(&c, text, 0, &err) == 0, "a well-formed file parses");
	is_int(c.nsect, 4, "four sections, the global one included");
	is_str(c.sect[0].name, "", "keys before a header go to section \"\"");
	s = conf_section_find(&c, "interface", NULL);
	ok(s != NULL, "section names compare without case");
	is_str(conf_get(s, "privatekey"), "abc=", "value keeps its '='");
	is_str(conf_get(s, "Address"), "10.0.0.1/24", "values are trimmed");
	s = conf_section_find(&c, "Peer", NULL);
	is_str(conf_get(s, "AllowedIPs"), "10.0.0.3/32", "last value of a repeated key wins");
	is_int(s->nkv, 2, "both values are kept");
	s = conf_section_find(&c, "dhcp", "br0");
	ok(s && !strcmp(s->arg, "br0"), "section argument");
	is_str(conf_get(s, "Range"), "  spaced \"q\"  ", "quoted value with escapes");
	is_str(conf_get(s, "Crlf"), "yes", "CRLF line ends");
	ok(conf_get_bool(&c, s, "Crlf", 0, &b, &err) == 0 && b == 1, "bool getter");
	is_int(conf_get_kv(s, "Crlf")->line, 13, "line numbers are kept");
	conf_print(&c, &out);
	is_str(buf_cstr(&out),
	       "global = 1\n\n[Interface]\nPrivateKey = abc=\nAddress = 10.0.0.1/24\n\n[Peer]\n"
	       "AllowedIPs = 10.0.0.2/32\nAllowedIPs = 10.0.0.3/32\n\n[dhcp br0]\n"
	       "Range = \"  spaced \\\"q\\\"  \"\nCrlf = yes\n",
	       "normal form");
	{
		struct conf c2;
		struct buf out2 = BUF_INIT;

		ok(parse(&c2, buf_cstr(&out), 0, &err) == 0, "normal form parses again");
		conf_print(&c2, &out2);
		is_str(buf_cstr(&out2), buf_cstr(&out), "and prints the same");
		conf_free(&c2);
		buf_free(&out2);
	}
	buf_free(&out);
	conf_free(&c);

	ok(parse(&c, "[Peer]\nEndpoint = h:1 # home\n", CONF_INLINE_COMMENTS, &err) == 0,
	   "inline comments with the flag");
	is_str(conf_get(&c.sect[0], "Endpoint"), "h:1", "comment stripped");
	conf_free(&c);
	ok(parse(&c, "[Peer]\nEndpoint = h:1 # home\n", 0, &err) == 0, "without the flag");
	is_str(conf_get(&c.sect[0], "Endpoint"), "h:1 # home", "'#' is part of the value");
	conf_free(&c);
	ok(parse(&c, "", 0, &err) == 0 && c.nsect == 0, "an empty file is fine");
	conf_free(&c);
}

static void
bad(const char *text, int line, const char *msg, const char *what)
{
	struct conf c;
	struct conf_err err;
	char got[800];

	memset(&err, 0, sizeof(err));
	if (parse(&c, text, 0, &err) == 0) {
		conf_free(&c);
		ok(0, "%s: refused", what);
		return;
	}
	snprintf(got, sizeof(got), "%s:%d: %s", err.file, err.line, err.msg);
	{
		char want[800];

		snprintf(want, sizeof(want), "t.conf:%d: %s", line, msg);
		is_str(got, want, "%s", what);
	}
}

static void
test_errors(void)
{
	char big[9000];

	bad("[a]\nno equals here\n", 2, "expected \"key = value\"", "line without '='");
	bad("[unterminated\n", 1, "unterminated section header", "unterminated header");
	bad("[]\n", 1, "empty section name", "empty header");
	bad("[a]junk\n", 1, "text after section header", "text after header");
	bad("[b@d]\n", 1, "bad section name \"b@d\"", "bad section name");
	bad("x\n = 1\n", 1, "expected \"key = value\"", "bare word");
	bad("[a]\n = 1\n", 2, "empty key", "empty key");
	bad("[a]\nk y = 1\n", 2, "bad key \"k y\"", "key with a space");
	bad("[a]\nk = \"open\n", 2, "bad quoted value for k", "unterminated quote");
	bad("[a]\nk = \"x\" y\n", 2, "bad quoted value for k", "text after a quoted value");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bad(big, 1, "line longer than 8192 bytes", "overlong line");
	{
		struct conf c;
		struct conf_err err;

		ok(conf_parse(&c, "t.conf", "a = 1\n\0b = 2\n", 13, 0, &err) < 0 &&
		   err.line == 2 && !strcmp(err.msg, "NUL byte in line"),
		   "NUL byte refused with its line");
		ok(conf_load(&c, "/nonexistent/lab.conf", 0, &err) < 0 && errno == ENOENT &&
		   !strcmp(err.msg, "No such file or directory"),
		   "missing file: errno and message");
	}
}

static const struct conf_key_spec iface_keys[] = {
	{ "PrivateKey", CONF_STR, CONF_REQUIRED, 0, 0 },
	{ "ListenPort", CONF_INT, 0, 1, 65535 },
	{ "MTU", CONF_INT, 0, 576, 9000 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec peer_keys[] = {
	{ "PublicKey", CONF_STR, CONF_REQUIRED, 0, 0 },
	{ "AllowedIPs", CONF_STR, CONF_MULTI, 0, 0 },
	{ "PersistentKeepalive", CONF_MSEC, 0, 0, 0 },
	{ "Enabled", CONF_BOOL, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec dhcp_keys[] = {
	{ "Lease", CONF_MSEC, 0, 0, 0 },
	{ "Max", CONF_SIZE, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_section_spec schema[] = {
	{ "Interface", CONF_REQUIRED | CONF_NOARG, iface_keys },
	{ "Peer", CONF_MULTI | CONF_NOARG, peer_keys },
	{ "dhcp", CONF_ARG, dhcp_keys },
	{ NULL, 0, NULL },
};

static void
check(const char *text, const char *want, const char *what)
{
	struct conf c;
	struct conf_err err;
	char got[800];

	if (parse(&c, text, 0, &err) < 0) {
		ok(0, "%s: parses", what);
		return;
	}
	if (conf_validate(&c, schema, &err) == 0)
		snprintf(got, sizeof(got), "valid");
	else
		snprintf(got, sizeof(got), "%d: %s", err.line, err.msg);
	conf_free(&c);
	is_str(got, want, "schema: %s", what);
}

static void
test_schema(void)
{
	check("[Interface]\nPrivateKey = k\nListenPort = 51820\n[Peer]\nPublicKey = p\n"
	      "AllowedIPs = a\nAllowedIPs = b\n[Peer]\nPublicKey = q\n[dhcp br0]\nLease = 1h\n",
	      "valid", "a good file");
	check("[Interface]\nPrivateKey = k\nListenPort = 70000\n",
	      "3: ListenPort: expected a number from 1 to 65535, not \"70000\"", "int range");
	check("[Interface]\nPrivateKey = k\nColor = red\n", "3: unknown key \"Color\" in [Interface]",
	      "unknown key");
	check("[Interface]\nPrivateKey = k\n[Nope]\n", "3: unknown section [Nope]", "unknown section");
	check("[Interface]\nListenPort = 1\n", "1: [Interface] needs PrivateKey", "required key");
	check("[Peer]\nPublicKey = p\n", "0: missing section [Interface]", "required section");
	check("[Interface]\nPrivateKey = k\nPrivateKey = j\n",
	      "3: PrivateKey repeated (first at line 2)", "repeated single key");
	check("[Interface]\nPrivateKey = k\n[Interface]\nPrivateKey = j\n",
	      "3: [Interface] repeated (first at line 1)", "repeated single section");
	check("[Interface]\nPrivateKey = k\n[dhcp]\n", "3: [dhcp] needs an argument", "missing arg");
	check("[Interface x]\nPrivateKey = k\n", "1: [Interface] takes no argument", "extra arg");
	check("[Interface]\nPrivateKey = k\n[Peer]\nPublicKey = p\nEnabled = maybe\n",
	      "5: Enabled: expected yes or no, not \"maybe\"", "bool");
	check("[Interface]\nPrivateKey = k\n[Peer]\nPublicKey = p\nPersistentKeepalive = soon\n",
	      "5: PersistentKeepalive: expected a duration (30s, 500ms, 5m), not \"soon\"", "duration");
	check("[Interface]\nPrivateKey = k\n[dhcp a]\nMax = 3Q\n",
	      "4: Max: expected a size (512, 64K, 2G), not \"3Q\"", "size");
	check("stray = 1\n[Interface]\nPrivateKey = k\n", "1: key \"stray\" outside of any section",
	      "key outside sections");
}

int
main(void)
{
	test_parse();
	test_errors();
	test_schema();
	return done_testing();
}
