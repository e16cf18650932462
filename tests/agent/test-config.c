/* SPDX-License-Identifier: GPL-2.0-or-later */
/* agent.conf parsing: values, warnings, and errors that name file and line. */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "error.h"

#define PATH "/etc/virt-tune/agent.conf"

static VtAgentConfig *
parse(const char *text, GPtrArray *warnings, GError **error)
{
	return vt_agent_config_parse(text, strlen(text), PATH, warnings, error);
}

static void
test_full(void)
{
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAgentConfig) c = parse("# the guest admin's settings\n"
					   "\n"
					   "[agent]\n"
					   "interval = 5\n"
					   "exclude=sr*; vdz ;\n"
					   "sections=meminfo;nics\n"
					   "\n"
					   "[apply]\n"
					   "allow=channels\n",
					   warnings, &error);
	const char *exclude[] = {"sr*", "vdz", NULL};
	const char *sections[] = {"meminfo", "nics", NULL};

	g_assert_no_error(error);
	g_assert_nonnull(c);
	g_assert_cmpuint(c->interval, ==, 5);
	g_assert_true(g_strv_equal((const char *const *)c->exclude, exclude));
	g_assert_true(g_strv_equal((const char *const *)c->sections, sections));
	g_assert_cmpuint(warnings->len, ==, 0);
	g_assert_true(vt_policy_allows(c->policy, VT_POLICY_CHANNELS, NULL));
	g_assert_false(vt_policy_allows(c->policy, VT_POLICY_RINGS, NULL));
}

static void
test_defaults(void)
{
	const char *texts[] = {"", "\n\n# only comments\n", "[agent]\n",
			       "[apply]\npersist=false\n"};

	for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GError) error = NULL;
		g_autoptr(VtAgentConfig) c = parse(texts[i], warnings, &error);

		g_assert_no_error(error);
		g_assert_cmpuint(c->interval, ==, 0);
		g_assert_null(c->exclude);
		g_assert_null(c->sections);
		g_assert_cmpuint(warnings->len, ==, 0);
	}
}

static void
test_crlf_and_empty_exclude(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAgentConfig) c =
		parse("[agent]\r\ninterval=86400\r\nexclude=\r\n", NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(c->interval, ==, 86400);
	g_assert_null(c->exclude);
}

static void
test_duplicate_key_last_wins(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAgentConfig) c = parse("[agent]\ninterval=3\ninterval=4\n", NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(c->interval, ==, 4);
}

static void
test_warnings(void)
{
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAgentConfig) c = parse("[agent]\n"
					   "interval=2\n"
					   "intervall=3\n"
					   "[metrics]\n"
					   "port=1\n",
					   warnings, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(c->interval, ==, 2);
	g_assert_cmpuint(warnings->len, ==, 2);
	g_assert_cmpstr(warnings->pdata[0], ==, PATH ":4: unknown group [metrics], ignoring");
	g_assert_cmpstr(warnings->pdata[1], ==,
			PATH ":3: unknown key 'intervall' in [agent], ignoring");
}

typedef struct {
	const char *text;
	int code;
	const char *message; /* exact */
} BadCase;

static const BadCase bad_cases[] = {
	{"[agent]\ninterval=abc\n", VT_ERROR_INVALID,
	 PATH ":2: interval 'abc' is not a whole number of seconds in 1..86400"},
	{"[agent]\ninterval=0\n", VT_ERROR_INVALID,
	 PATH ":2: interval '0' is not a whole number of seconds in 1..86400"},
	{"[agent]\ninterval=86401\n", VT_ERROR_INVALID,
	 PATH ":2: interval '86401' is not a whole number of seconds in 1..86400"},
	{"[agent]\ninterval=-1\n", VT_ERROR_INVALID,
	 PATH ":2: interval '-1' is not a whole number of seconds in 1..86400"},
	{"[agent]\n\n  interval = 5s\n", VT_ERROR_INVALID,
	 PATH ":3: interval '5s' is not a whole number of seconds in 1..86400"},
	{"[agent]\ninterval=\n", VT_ERROR_INVALID,
	 PATH ":2: interval '' is not a whole number of seconds in 1..86400"},
	{"[agent]\nsections=meminfo;bogus\n", VT_ERROR_INVALID,
	 PATH ":2: unknown section 'bogus' (known: identity, meminfo, swap, vmstat, sysctl, "
	      "block, nics, cpu, pressure, softnet)"},
	{"[agent]\nsections=\n", VT_ERROR_INVALID,
	 PATH ":2: sections is empty; remove the key to collect every section"},
	{"[agent]\nexclude=sr*;;vdb\n", VT_ERROR_INVALID, PATH ":2: exclude: item 2 is empty"},
	{"interval=5\n[agent]\n", VT_ERROR_INVALID,
	 PATH ":1: key before any group; start the file with [agent]"},
	{"[agent\ninterval=5\n", VT_ERROR_INVALID, PATH ":1: a group header must read [name]"},
	{"[]\n", VT_ERROR_INVALID, PATH ":1: a group header must read [name]"},
	{"[agent]\ninterval=5\njust words\n", VT_ERROR_INVALID,
	 PATH ":3: expected key=value, [group] or # comment"},
	{"[agent]\n=5\n", VT_ERROR_INVALID, PATH ":2: expected key=value, [group] or # comment"},
	{"[agent]\ninterval=5\nexclude=\xff\xfe\n", VT_ERROR_INVALID,
	 PATH ":3: not valid UTF-8 (or a NUL byte) at column 9"},
};

static void
test_bad(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(VtAgentConfig) c = parse(bad_cases[i].text, NULL, &error);
		g_autofree char *shown = g_strescape(bad_cases[i].text, NULL);

		g_test_message("case %" G_GSIZE_FORMAT ": %s", i, shown);
		g_assert_null(c);
		g_assert_error(error, VT_ERROR, bad_cases[i].code);
		g_assert_cmpstr(error->message, ==, bad_cases[i].message);
	}
}

static void
test_nul_byte(void)
{
	static const char text[] = "[agent]\ninterval=5\0\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAgentConfig) c =
		vt_agent_config_parse(text, sizeof(text) - 1, PATH, NULL, &error);

	g_assert_null(c);
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
	g_assert_true(g_str_has_prefix(error->message, PATH ":2: "));
}

static void
test_glob_bound(void)
{
	g_autoptr(GString) text = g_string_new("[agent]\nexclude=");
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAgentConfig) ok = NULL;
	g_autoptr(VtAgentConfig) over = NULL;

	for (guint i = 0; i < VT_AGENT_CONFIG_MAX_GLOBS; i++)
		g_string_append_printf(text, "d%u;", i);
	ok = parse(text->str, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_strv_length(ok->exclude), ==, VT_AGENT_CONFIG_MAX_GLOBS);

	g_string_append(text, "one-more");
	over = parse(text->str, NULL, &error);
	g_assert_null(over);
	g_assert_error(error, VT_ERROR, VT_ERROR_TOO_LARGE);
	g_assert_true(g_str_has_prefix(error->message, PATH ":2: exclude has 65 items"));
}

static void
test_size_bound(void)
{
	gsize len = VT_AGENT_CONFIG_MAX_BYTES + 1;
	g_autofree char *text = g_malloc(len);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAgentConfig) c = NULL;

	memset(text, '#', len);
	text[len - 1] = '\n';
	c = vt_agent_config_parse(text, len, PATH, NULL, &error);
	g_assert_null(c);
	g_assert_error(error, VT_ERROR, VT_ERROR_TOO_LARGE);

	/* a comment exactly at the limit is fine */
	g_clear_error(&error);
	c = vt_agent_config_parse(text, len - 1, PATH, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(c);
}

static void
test_load(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vt-config-XXXXXX", &error);
	g_autofree char *path = g_build_filename(dir, "agent.conf", NULL);
	g_autofree char *big = g_build_filename(dir, "big.conf", NULL);
	g_autofree char *filler = g_malloc0(VT_AGENT_CONFIG_MAX_BYTES + 2);
	g_autoptr(VtAgentConfig) c = NULL;
	g_autofree char *expected = NULL;

	g_assert_no_error(error);

	c = vt_agent_config_load(path, NULL, &error);
	g_assert_null(c);
	g_assert_error(error, VT_ERROR, VT_ERROR_NOT_FOUND);
	g_clear_error(&error);

	c = vt_agent_config_load(dir, NULL, &error);
	g_assert_null(c);
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
	g_clear_error(&error);

	g_assert_true(g_file_set_contents(path, "[agent]\ninterval=7\nexclude=loop*\n", -1, NULL));
	c = vt_agent_config_load(path, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(c->interval, ==, 7);
	g_assert_cmpstr(c->exclude[0], ==, "loop*");
	g_clear_pointer(&c, vt_agent_config_free);

	/* the file's own path is named in errors */
	g_assert_true(g_file_set_contents(path, "[agent]\ninterval=x\n", -1, NULL));
	c = vt_agent_config_load(path, NULL, &error);
	g_assert_null(c);
	expected = g_strdup_printf("%s:2: interval 'x'", path);
	g_assert_true(g_str_has_prefix(error->message, expected));
	g_clear_error(&error);

	memset(filler, '#', VT_AGENT_CONFIG_MAX_BYTES + 1);
	g_assert_true(g_file_set_contents(big, filler, -1, NULL));
	c = vt_agent_config_load(big, NULL, &error);
	g_assert_null(c);
	g_assert_error(error, VT_ERROR, VT_ERROR_TOO_LARGE);

	g_unlink(path);
	g_unlink(big);
	g_rmdir(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent/config/full", test_full);
	g_test_add_func("/agent/config/defaults", test_defaults);
	g_test_add_func("/agent/config/crlf-empty-exclude", test_crlf_and_empty_exclude);
	g_test_add_func("/agent/config/duplicate-key", test_duplicate_key_last_wins);
	g_test_add_func("/agent/config/warnings", test_warnings);
	g_test_add_func("/agent/config/bad", test_bad);
	g_test_add_func("/agent/config/nul-byte", test_nul_byte);
	g_test_add_func("/agent/config/glob-bound", test_glob_bound);
	g_test_add_func("/agent/config/size-bound", test_size_bound);
	g_test_add_func("/agent/config/load", test_load);
	return g_test_run();
}
