/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "arena.h"
#include "virttune.pb-c.h"

G_BEGIN_DECLS

/* Short names for the generated types. */
typedef Virttune__V1__Envelope VtEnvelope;
typedef Virttune__V1__Hello VtHello;
typedef Virttune__V1__PolicySummary VtPolicySummary;
typedef Virttune__V1__Report VtReport;
typedef Virttune__V1__Identity VtIdentity;
typedef Virttune__V1__Swap VtSwap;
typedef Virttune__V1__SwapDevice VtSwapDevice;
typedef Virttune__V1__Block VtBlock;
typedef Virttune__V1__BlockStats VtBlockStats;
typedef Virttune__V1__Nic VtNic;
typedef Virttune__V1__Channels VtChannels;
typedef Virttune__V1__Rings VtRings;
typedef Virttune__V1__Feature VtFeature;
typedef Virttune__V1__NicStats VtNicStats;
typedef Virttune__V1__Cpu VtCpu;
typedef Virttune__V1__Pressure VtPressure;
typedef Virttune__V1__PressureLine VtPressureLine;
typedef Virttune__V1__Softnet VtSoftnet;
typedef Virttune__V1__QueueInterrupts VtQueueInterrupts;
typedef Virttune__V1__Section VtSection;
typedef Virttune__V1__ReportRequest VtReportRequest;
typedef Virttune__V1__ApplyRequest VtApplyRequest;
typedef Virttune__V1__Action VtAction;
typedef Virttune__V1__SetChannels VtSetChannels;
typedef Virttune__V1__SetFeature VtSetFeature;
typedef Virttune__V1__SetRing VtSetRing;
typedef Virttune__V1__SetScheduler VtSetScheduler;
typedef Virttune__V1__SetQueueParam VtSetQueueParam;
typedef Virttune__V1__SetSysctl VtSetSysctl;
typedef Virttune__V1__ApplyResult VtApplyResult;
typedef Virttune__V1__RollbackRequest VtRollbackRequest;
typedef Virttune__V1__ConfirmRequest VtConfirmRequest;
typedef Virttune__V1__ChangeState VtChangeState;
typedef Virttune__V1__Error VtWireError;
typedef Virttune__V1__Report__MeminfoEntry VtReportMeminfoEntry;
typedef Virttune__V1__Report__SysctlEntry VtReportSysctlEntry;
typedef Virttune__V1__Report__VmstatEntry VtReportVmstatEntry;

/* Frees a message from vt_message_unpack() or vt_json_to_message(). */
void vt_message_free(ProtobufCMessage *msg);

static inline void
vt_envelope_free(VtEnvelope *env)
{
	vt_message_free((ProtobufCMessage *)env);
}
static inline void
vt_report_free(VtReport *report)
{
	vt_message_free((ProtobufCMessage *)report);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtEnvelope, vt_envelope_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtReport, vt_report_free)

/*
 * Unpack @len bytes as a @desc message. Unpacking stops with an error when it
 * would allocate more than VT_UNPACK_MEMORY_MAX bytes, so a small hostile
 * payload cannot expand into a large allocation.
 */
ProtobufCMessage *vt_message_unpack(const ProtobufCMessageDescriptor *desc, const guint8 *data,
				    gsize len, GError **error);
VtEnvelope *vt_envelope_unpack(const guint8 *data, gsize len, GError **error);
/* The same, every part of the message allocated in @arena (free the arena, not
 * the message); VT_UNPACK_MEMORY_MAX is the arena's own limit. */
ProtobufCMessage *vt_message_unpack_in(const ProtobufCMessageDescriptor *desc, const guint8 *data,
				       gsize len, VtArena *arena, GError **error);
/* A deep copy of @msg, allocated as vt_message_unpack() allocates. */
ProtobufCMessage *vt_message_copy(const ProtobufCMessage *msg, GError **error);

/* The number of @desc's field @name, which the schema has (asserted). */
guint32 vt_message_field_id(const ProtobufCMessageDescriptor *desc, const char *name);

/* Protobuf's base-128 varint of @v: its size, and written at @out (at most
 * 10 bytes), for what writes wire by hand (a pre-encoded run of fields). */
guint vt_varint_size(guint64 v);
gsize vt_varint_write(guint64 v, guint8 *out);

/* Pack @msg; a result over VT_FRAME_MAX is an error when @bounded. */
GBytes *vt_message_pack(const ProtobufCMessage *msg, gboolean bounded, GError **error);

/* Pack @env into one frame appended to @out (nothing appended on error). */
gboolean vt_envelope_append_frame(GByteArray *out, const VtEnvelope *env, GError **error);

/* Report lookups: a meminfo value (bytes or count), a sysctl's text, a vmstat
 * counter. FALSE / NULL when the report (which may be NULL) lacks it. */
gboolean vt_report_meminfo(const VtReport *report, const char *key, guint64 *value);
const char *vt_report_sysctl(const VtReport *report, const char *key);
gboolean vt_report_vmstat(const VtReport *report, const char *key, guint64 *value);

/* Bytes one element of a field of @type takes in a generated struct. */
gsize vt_protobuf_type_size(ProtobufCType type);

/* The oneof case's field name ("report", "hello", …), or "empty". */
const char *vt_envelope_body_name(const VtEnvelope *env);

/* The ApplyResult.Status value's name ("applied", "refused", …), or "unknown":
 * what the host stores in its audit trail and shows. */
const char *vt_apply_result_status_name(int status);

G_END_DECLS
