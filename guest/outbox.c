/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "outbox.h"

typedef struct {
	GBytes *frame;
	gboolean is_report;
} VtOutboxEntry;

struct VtOutbox {
	GQueue entries; /* of VtOutboxEntry */
	gsize head_off; /* bytes of the head frame already written */
	guint n_control;
};

static void
entry_free(gpointer data)
{
	VtOutboxEntry *e = data;

	g_bytes_unref(e->frame);
	g_free(e);
}

VtOutbox *
vt_outbox_new(void)
{
	VtOutbox *box = g_new0(VtOutbox, 1);

	g_queue_init(&box->entries);
	return box;
}

void
vt_outbox_clear(VtOutbox *box)
{
	g_queue_clear_full(&box->entries, entry_free);
	box->head_off = 0;
	box->n_control = 0;
}

void
vt_outbox_free(VtOutbox *box)
{
	if (box == NULL)
		return;
	vt_outbox_clear(box);
	g_free(box);
}

static void
push(VtOutbox *box, GBytes *frame, gboolean is_report)
{
	VtOutboxEntry *e = g_new0(VtOutboxEntry, 1);

	e->frame = g_bytes_ref(frame);
	e->is_report = is_report;
	g_queue_push_tail(&box->entries, e);
}

gboolean
vt_outbox_push_control(VtOutbox *box, GBytes *frame)
{
	if (box->n_control >= VT_OUTBOX_MAX_CONTROL)
		return FALSE;
	push(box, frame, FALSE);
	box->n_control++;
	return TRUE;
}

/* The queued report that has not started, if any. */
static GList *
unstarted_report(VtOutbox *box)
{
	for (GList *l = box->entries.head; l != NULL; l = l->next) {
		VtOutboxEntry *e = l->data;

		if (!e->is_report)
			continue;
		if (l == box->entries.head && box->head_off > 0)
			continue;
		return l;
	}
	return NULL;
}

gboolean
vt_outbox_push_report(VtOutbox *box, GBytes *frame)
{
	GList *l = unstarted_report(box);

	if (l != NULL) {
		VtOutboxEntry *e = l->data;

		g_bytes_unref(e->frame);
		e->frame = g_bytes_ref(frame);
		return TRUE;
	}
	push(box, frame, TRUE);
	return FALSE;
}

gboolean
vt_outbox_report_waiting(VtOutbox *box)
{
	return unstarted_report(box) != NULL;
}

void
vt_outbox_drop_report(VtOutbox *box)
{
	GList *l = unstarted_report(box);

	if (l != NULL) {
		entry_free(l->data);
		g_queue_delete_link(&box->entries, l);
	}
}

const guint8 *
vt_outbox_peek(VtOutbox *box, gsize *len)
{
	VtOutboxEntry *e = g_queue_peek_head(&box->entries);
	const guint8 *data;
	gsize size;

	*len = 0;
	if (e == NULL)
		return NULL;
	data = g_bytes_get_data(e->frame, &size);
	*len = size - box->head_off;
	return data + box->head_off;
}

void
vt_outbox_consume(VtOutbox *box, gsize n)
{
	while (n > 0) {
		VtOutboxEntry *e = g_queue_peek_head(&box->entries);
		gsize left;

		if (e == NULL)
			return;
		left = g_bytes_get_size(e->frame) - box->head_off;
		if (n < left) {
			box->head_off += n;
			return;
		}
		n -= left;
		box->head_off = 0;
		if (!e->is_report)
			box->n_control--;
		entry_free(g_queue_pop_head(&box->entries));
	}
}

gboolean
vt_outbox_is_empty(const VtOutbox *box)
{
	return g_queue_is_empty((GQueue *)&box->entries);
}

guint
vt_outbox_frames(const VtOutbox *box)
{
	return box->entries.length;
}

gboolean
vt_outbox_in_progress(const VtOutbox *box)
{
	return box->head_off > 0;
}
