/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The connection to the host: reaching it (again), reading into the frame
 * decoder, writing the outbox, and giving up on a host that stopped reading. */
#define G_LOG_DOMAIN "virt-tune-agent"

#include "agent-private.h"

#include <string.h>

#include <glib-unix.h>

#include "error.h"

static gboolean on_io(int fd, GIOCondition cond, gpointer data);
static gboolean on_stall(gpointer data);

void
vt_agent_fail(VtAgent *a, const char *format, ...)
{
	va_list ap;

	if (a->down_reason != NULL)
		return;
	va_start(ap, format);
	a->down_reason = g_strdup_vprintf(format, ap);
	va_end(ap);
}

static void
update_watch(VtAgent *a)
{
	GIOCondition want = G_IO_IN | G_IO_HUP | G_IO_ERR;

	if (!vt_outbox_is_empty(a->outbox))
		want |= G_IO_OUT;
	if (a->watch != 0 && want != a->watch_cond)
		g_clear_handle_id(&a->watch, g_source_remove);
	if (a->watch == 0) {
		a->watch = g_unix_fd_add(vt_port_fd(a->port), want, on_io, a);
		a->watch_cond = want;
	}

	if (vt_outbox_is_empty(a->outbox)) {
		g_clear_handle_id(&a->stall_timer, g_source_remove);
	} else if (a->stall_timer == 0) {
		a->stall_mark = a->bytes_written;
		a->stall_timer = g_timeout_add_seconds(VT_AGENT_WRITE_STALL_S, on_stall, a);
	}
}

void
vt_agent_flush(VtAgent *a)
{
	while (a->down_reason == NULL && !vt_outbox_is_empty(a->outbox)) {
		g_autoptr(GError) error = NULL;
		gsize len, n;
		const guint8 *data = vt_outbox_peek(a->outbox, &len);
		VtPortIo io = vt_port_write(a->port, data, len, &n, &error);

		if (io == VT_PORT_IO_AGAIN)
			break;
		if (io == VT_PORT_IO_CLOSED) {
			vt_agent_fail(a, "the host closed the connection");
			return;
		}
		if (io == VT_PORT_IO_ERROR) {
			vt_agent_fail(a, "%s", error->message);
			return;
		}
		vt_outbox_consume(a->outbox, n);
		a->bytes_written += n;
	}
	update_watch(a);
}

static gboolean
on_retry(gpointer data)
{
	VtAgent *a = data;

	a->retry_timer = 0;
	vt_agent_connect(a);
	return G_SOURCE_REMOVE;
}

static void
schedule_retry(VtAgent *a)
{
	if (a->retry_timer != 0)
		return;
	a->retry_timer = g_timeout_add(a->retry_ms, on_retry, a);
	a->retry_ms = MIN(a->retry_ms * 2, VT_AGENT_RETRY_MAX_MS);
}

static void
log_absent(VtAgent *a, const GError *error)
{
	const char *path = vt_port_path(a->port);
	g_autofree char *note = NULL;
	const char *hint;

	if (!vt_log_limit_allow(&a->absent_log))
		return;
	note = vt_log_limit_note(&a->absent_log);
	if (g_error_matches(error, VT_ERROR, VT_ERROR_NOT_FOUND) &&
	    strcmp(path, VT_AGENT_DEFAULT_PORT) != 0)
		hint = "is the host side listening on it?";
	else if (g_error_matches(error, VT_ERROR, VT_ERROR_NOT_FOUND))
		hint = "is the channel org.virttune.agent.0 (<channel type='unix'> with <target "
		       "type='virtio' name='org.virttune.agent.0'/>) in the domain XML, and is "
		       "virtio_console loaded?";
	else if (vt_port_kind(a->port) == VT_PORT_KIND_CHARDEV &&
		 g_error_matches(error, VT_ERROR, VT_ERROR_UNAVAILABLE))
		hint = "is virt-tuned running on the host, and is the channel "
		       "org.virttune.agent.0 in the domain XML?";
	else if (g_error_matches(error, VT_ERROR, VT_ERROR_UNAVAILABLE))
		hint = "is the host side listening?";
	else
		hint = "only one program may have the port open; is another agent running?";
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", path, "MESSAGE",
			 "%s; %s Retrying every %u s at most%s", error->message, hint,
			 VT_AGENT_RETRY_MAX_MS / 1000, note);
	a->absent_logged = TRUE;
}

static void
go_up(VtAgent *a)
{
	a->up = TRUE;
	a->in_session = FALSE;
	a->tx_seq = 0;
	vt_frame_decoder_reset(a->decoder);
	vt_outbox_clear(a->outbox);
	update_watch(a);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "PORT", vt_port_path(a->port), "MESSAGE",
			 "%s %s is open; waiting for the host's Hello",
			 vt_port_kind_name(vt_port_kind(a->port)), vt_port_path(a->port));
}

static void
go_down(VtAgent *a)
{
	g_autofree char *reason = g_steal_pointer(&a->down_reason);

	g_clear_handle_id(&a->watch, g_source_remove);
	g_clear_handle_id(&a->stall_timer, g_source_remove);
	g_clear_handle_id(&a->report_timer, g_source_remove);
	vt_frame_decoder_reset(a->decoder);
	vt_outbox_clear(a->outbox);
	vt_port_disconnect(a->port);
	if (a->in_session && vt_log_limit_allow(&a->down_log)) {
		g_autofree char *note = vt_log_limit_note(&a->down_log);
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", vt_port_path(a->port),
				 "MESSAGE", "host gone from %s (%s); waiting for it to come back%s",
				 vt_port_path(a->port), reason ? reason : "?", note);
	}
	a->up = FALSE;
	a->in_session = FALSE;
	a->absent_since_us = g_get_monotonic_time();
	schedule_retry(a);
}

void
vt_agent_connect(VtAgent *a)
{
	g_autoptr(GError) error = NULL;

	if (!vt_port_connect(a->port, &error)) {
		log_absent(a, error);
		schedule_retry(a);
		return;
	}
	go_up(a);
}

void
vt_agent_settle(VtAgent *a)
{
	if (a->down_reason != NULL)
		go_down(a);
}

static void
read_input(VtAgent *a, GIOCondition cond)
{
	guint8 buf[VT_AGENT_READ_CHUNK];

	for (guint i = 0; i < VT_AGENT_READS_PER_WAKEUP && a->down_reason == NULL; i++) {
		g_autoptr(GError) error = NULL;
		gsize n;
		VtPortIo io = vt_port_read(a->port, buf, sizeof(buf), &n, &error);

		switch (io) {
		case VT_PORT_IO_OK:
			vt_frame_decoder_feed(a->decoder, buf, n);
			continue;
		case VT_PORT_IO_AGAIN:
			/* HUP with nothing to read: the peer is gone all the same */
			if (cond & (G_IO_HUP | G_IO_ERR))
				vt_agent_fail(a, "hang-up");
			return;
		case VT_PORT_IO_CLOSED:
			vt_agent_fail(a, "end of stream");
			return;
		case VT_PORT_IO_ERROR:
			vt_agent_fail(a, "%s", error->message);
			return;
		}
	}
}

static gboolean
on_io(int fd, GIOCondition cond, gpointer data)
{
	VtAgent *a = data;

	if (cond & G_IO_OUT)
		vt_agent_flush(a);
	if (a->down_reason == NULL && (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
		read_input(a, cond);
	vt_agent_settle(a);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_stall(gpointer data)
{
	VtAgent *a = data;

	if (a->bytes_written != a->stall_mark) {
		a->stall_mark = a->bytes_written;
		return G_SOURCE_CONTINUE;
	}
	a->stall_timer = 0;
	if (vt_log_limit_allow(&a->stall_log)) {
		g_autofree char *note = vt_log_limit_note(&a->stall_log);
		g_log_structured(
			G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "PORT", vt_port_path(a->port), "MESSAGE",
			"the host has not read from %s for %u s; dropping what was queued%s",
			vt_port_path(a->port), VT_AGENT_WRITE_STALL_S, note);
	}
	if (vt_port_kind(a->port) == VT_PORT_KIND_SOCKET) {
		vt_agent_fail(a, "the host stopped reading");
	} else {
		/* A virtio port stays ours; the host's decoder resynchronises on
		 * the next frame's magic. */
		vt_outbox_clear(a->outbox);
		update_watch(a);
	}
	vt_agent_settle(a);
	return G_SOURCE_REMOVE;
}
