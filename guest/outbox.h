/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Frames waiting for a non-blocking port, in order. Reports are snapshots, so
 * at most one waits: a newer report replaces the queued one unless that one
 * has started going out (a frame in progress is always finished, or the host
 * would have to resynchronise). Control frames (Hello answers, errors) are
 * small and kept in order, up to a bound.
 */
typedef struct VtOutbox VtOutbox;

/* Control frames queued at once beyond which more are dropped: a host that
 * floods bad requests gets some errors back, not unbounded memory. */
#define VT_OUTBOX_MAX_CONTROL 16u

VtOutbox *vt_outbox_new(void);
void vt_outbox_free(VtOutbox *box);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtOutbox, vt_outbox_free)

/* FALSE (and nothing queued) when VT_OUTBOX_MAX_CONTROL are waiting. */
gboolean vt_outbox_push_control(VtOutbox *box, GBytes *frame);

/* TRUE when it replaced a report that had not started. */
gboolean vt_outbox_push_report(VtOutbox *box, GBytes *frame);

/* Is a report queued that has not started? (A request for one is then
 * answered by it.) */
gboolean vt_outbox_report_waiting(VtOutbox *box);

/* Drop a report that has not started (a new session will send a fresh one). */
void vt_outbox_drop_report(VtOutbox *box);

/* The bytes to write next, all from one frame; NULL when empty. */
const guint8 *vt_outbox_peek(VtOutbox *box, gsize *len);
void vt_outbox_consume(VtOutbox *box, gsize n);

gboolean vt_outbox_is_empty(const VtOutbox *box);
guint vt_outbox_frames(const VtOutbox *box);
/* Has a frame been partly written? */
gboolean vt_outbox_in_progress(const VtOutbox *box);

/* Drop everything, a frame in progress included (the stream was cut). */
void vt_outbox_clear(VtOutbox *box);

G_END_DECLS
