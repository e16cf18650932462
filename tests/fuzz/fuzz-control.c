/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a local client writes to the control socket: each line parsed as a
 * request, then read through the argument helpers' rules.
 */
#include <string.h>

#include "control.h"
#include "fuzz.h"

static void
one_line(const char *line, gsize len)
{
	g_autoptr(GError) error = NULL;
	JsonNode *root = vt_control_parse_request(line, len, &error);
	JsonObject *obj;

	if (root == NULL) {
		g_assert(error != NULL);
		return;
	}
	obj = json_node_get_object(root);
	if (json_object_get_string_member(obj, "command") == NULL ||
	    json_object_get_object_member(obj, "args") == NULL)
		g_error("a parsed request lacks its command or args");
	json_node_unref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *end = p + size;

	vt_fuzz_setup();
	/* as the socket splits them: newline-terminated lines, empty ones skipped */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		gsize len = (gsize)((nl ? nl : end) - p);
		g_autofree char *line = g_strndup(p, len);

		if (len > 0 && len <= VT_CONTROL_MAX_LINE)
			one_line(line, strlen(line));
		p += len + 1;
	}
	return 0;
}
