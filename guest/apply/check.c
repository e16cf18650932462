/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the kinds' checks share: verdicts, name rules, reading a choice. */
#include "apply-private.h"

#include <errno.h>
#include <string.h>

#include "kernel/sysattr.h"

void
vt_apply_check_clear(VtApplyCheck *c)
{
	g_clear_pointer(&c->before, g_free);
	g_clear_pointer(&c->target, g_free);
}

gboolean
vt_apply_verdict(VtApplyCheck *c, int status, const char *reason, int errnum)
{
	c->status = status;
	c->reason = reason;
	c->errnum = errnum;
	return FALSE;
}

gboolean
vt_apply_read_verdict(VtApplyCheck *c, int err)
{
	if (err == -ENODEV || err == -ENOENT || err == -ENXIO)
		return vt_apply_verdict(c, ST_INVALID, "no_device", -err);
	if (err == -EOPNOTSUPP || err == -ENOTTY)
		return vt_apply_verdict(c, ST_INVALID, "not_supported", -err);
	return vt_apply_verdict(c, ST_FAILED, "kernel", -err);
}

/* Interfaces allow more in principle; no real one needs more. */
gboolean
vt_apply_plain_name(const char *name, gsize max)
{
	gsize len;

	if (name == NULL)
		return FALSE;
	len = strlen(name);
	if (len == 0 || len > max || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isalnum(name[i]) && strchr("._-:+@", name[i]) == NULL)
			return FALSE;
	return TRUE;
}

int
vt_apply_read_choice(VtApplier *ap, const char *path, char **active, char ***words)
{
	g_autofree char *text = NULL;
	VtChoice choice;
	int r = vt_sysattr_read(ap->root_fd, path, &text);

	*active = NULL;
	if (r < 0)
		return r;
	vt_parse_choice(text, &choice);
	if (choice.active >= 0)
		*active = g_strdup(choice.words[choice.active]);
	else if (choice.n == 1) /* a bare "b", as a fake tree holds after a write */
		*active = g_strdup(choice.words[0]);
	if (words != NULL) {
		*words = g_new0(char *, choice.n + 1);
		for (guint i = 0; i < choice.n; i++)
			(*words)[i] = g_strdup(choice.words[i]);
	}
	return 0;
}
