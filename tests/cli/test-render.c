/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What virt-tune prints, fed what a hostile guest could put in its report:
 * no control character reaches the output except the line breaks the layout
 * makes, and what is printed still reads as before.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "json.h"
#include "render.h"

/* Set the window title, clear the screen, a C1 CSI, CR and BS. */
#define HOSTILE                                                                                    \
	"\x1b]0;owned\x07\x1b[2J\xc2\x9b"                                                          \
	"31mevil\r\b"

typedef struct {
	char *data;
	size_t len;
	FILE *out;
} Capture;

static void
capture_start(Capture *c)
{
	c->data = NULL;
	c->len = 0;
	c->out = open_memstream(&c->data, &c->len);
	g_assert_nonnull(c->out);
}

/* The output so far; freed with the capture. */
static const char *
capture_end(Capture *c)
{
	g_assert_cmpint(fclose(c->out), ==, 0);
	c->out = NULL;
	g_assert_true(g_utf8_validate(c->data, (gssize)c->len, NULL));
	return c->data;
}

/* No control character but @allowed (line breaks, CSV's "\r\n"). */
static void
assert_clean(const char *text, const char *allowed)
{
	for (const char *p = text; *p; p = g_utf8_next_char(p)) {
		gunichar ch = g_utf8_get_char(p);
		if (g_unichar_iscntrl(ch) && (ch > 0x7f || strchr(allowed, (int)ch) == NULL))
			g_error("U+%04X at %ld in «%s»", ch, (long)(p - text), text);
	}
}

static JsonNode *
parse(const char *json)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	g_assert_true(json_parser_load_from_data(parser, json, -1, &error));
	g_assert_no_error(error);
	return json_node_copy(json_parser_get_root(parser));
}

static const char rows_json[] =
	"[{\"domain\": \"g0\", \"hostname\": \"web" HOSTILE "\", \"vcpus\": 4},"
	" {\"domain\": \"g1\", \"hostname\": \"two\\nlines, \\\"quoted\\\"\", \"vcpus\": 2}]";

static const VtColumn columns[] = {
	{"domain", "DOMAIN", VT_COL_TEXT, NULL},
	{"hostname", "HOSTNAME", VT_COL_TEXT, NULL},
	{"vcpus", "VCPU", VT_COL_INT, NULL},
};

static void
test_table(void)
{
	g_autoptr(JsonNode) rows = parse(rows_json);
	Capture c;
	const char *out;

	capture_start(&c);
	vt_render_rows(c.out, VT_FORMAT_TABLE, rows, columns, G_N_ELEMENTS(columns), FALSE);
	out = capture_end(&c);
	assert_clean(out, "\n");
	g_assert_nonnull(strstr(out, "web\\x1b]0;owned\\x07\\x1b[2J\\u009b31mevil"));
	free(c.data);
}

static void
test_csv(void)
{
	g_autoptr(JsonNode) rows = parse(rows_json);
	Capture c;
	const char *out;

	capture_start(&c);
	vt_render_rows(c.out, VT_FORMAT_CSV, rows, columns, G_N_ELEMENTS(columns), FALSE);
	out = capture_end(&c);
	assert_clean(out, "\r\n");
	/* RFC 4180: a field with a line break or a quote is quoted, the quote doubled */
	g_assert_nonnull(strstr(out, "\"two\nlines, \"\"quoted\"\"\""));
	/* the CR the guest sent is gone: only the "\r\n" that end records remain */
	for (const char *p = strchr(out, '\r'); p != NULL; p = strchr(p + 1, '\r'))
		g_assert_cmpint(p[1], ==, '\n');
	free(c.data);
}

static void
test_fields(void)
{
	const VtField fields[] = {
		{"hostname", "web" HOSTILE},
		{"note", NULL},
		{NULL, "a line of its own"},
	};
	Capture c;
	const char *out;

	capture_start(&c);
	vt_render_fields(c.out, "g0" HOSTILE, "  ", 10, fields, G_N_ELEMENTS(fields));
	out = capture_end(&c);
	assert_clean(out, "\n");
	g_assert_true(g_str_has_prefix(out, "g0\\x1b]0;owned"));
	g_assert_nonnull(strstr(out, "\n  note       -\n  a line of its own\n"));
	free(c.data);
}

static const char recs_json[] =
	"{\"recommendations\": ["
	" {\"domain\": \"g0\", \"id\": \"nic.queues:eth0" HOSTILE "\", \"severity\": \"warning\","
	"  \"target\": \"guest\", \"command\": \"ethtool -L eth0" HOSTILE " combined 4\"},"
	" {\"domain\": \"g1\", \"id\": \"blk.cache:vdb\", \"severity\": \"critical\","
	"  \"target\": \"host\", \"command\": \"<driver cache='none'/>\\n<second/>\"}],"
	" \"skipped\": [{\"rule\": \"nic.model\", \"reason\": \"no domain XML" HOSTILE "\"}]}";

static void
test_recommendations(gconstpointer data)
{
	VtRecsLayout layout = GPOINTER_TO_INT(data);
	g_autoptr(JsonNode) result = parse(recs_json);
	g_auto(GStrv) lines = NULL;
	Capture c;
	const char *out;

	capture_start(&c);
	vt_render_recommendations(c.out, json_node_get_object(result), layout, TRUE);
	out = capture_end(&c);
	lines = g_strsplit(out, "\n", -1);
	if (layout == VT_RECS_FLEET) {
		/* colour is the one escape sequence, and only around a severity */
		g_autofree char *plain = NULL;
		g_autoptr(GRegex) sgr = g_regex_new("\x1b\\[(3[136]|0)m", 0, 0, NULL);
		plain = g_regex_replace_literal(sgr, out, -1, 0, "", 0, NULL);
		assert_clean(plain, "\n");
		g_assert_cmpstr(lines[0], ==, "DOMAIN           SEVERITY TARGET ID");
		g_assert_cmpstr(lines[5], ==, "                 <second/>");
		g_assert_null(strstr(out, "Not evaluated"));
	} else {
		assert_clean(out, "\n");
		g_assert_cmpstr(lines[0], ==, "SEVERITY TARGET ID / CHANGE");
		g_assert_cmpstr(lines[5], ==, "                <second/>");
		g_assert_nonnull(strstr(out, "\nNot evaluated:\n  nic.model: no domain XML"));
		for (guint i = 0; lines[i] != NULL; i++)
			g_assert_cmpint(g_utf8_strlen(lines[i], -1), <=, VT_TABLE_WIDTH);
	}
	free(c.data);
}

static void
test_text(void)
{
	Capture c;
	const char *out;

	/* invalid UTF-8 shown byte by byte, and a control character in it caught */
	capture_start(&c);
	vt_render_text(c.out, "bad \xff\x1b[2J\nsecond line\n");
	out = capture_end(&c);
	assert_clean(out, "\n");
	g_assert_cmpstr(out, ==, "bad \\xff\\x1b[2J\nsecond line\n");
	free(c.data);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/render/table", test_table);
	g_test_add_func("/render/csv", test_csv);
	g_test_add_func("/render/fields", test_fields);
	g_test_add_data_func("/render/recommendations/fleet", GINT_TO_POINTER(VT_RECS_FLEET),
			     test_recommendations);
	g_test_add_data_func("/render/recommendations/analysis", GINT_TO_POINTER(VT_RECS_ANALYSIS),
			     test_recommendations);
	g_test_add_func("/render/text", test_text);
	return g_test_run();
}
