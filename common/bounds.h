/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Named bounds.h, not limits.h: a common/limits.h would shadow <limits.h>. */
#pragma once

/*
 * Every bound on input from the other side lives here, once, with its reason.
 * Both sides use them: the agent never sends what the host would refuse.
 */

/* Wire protocol version carried in every Envelope. */
#define VT_PROTOCOL_VERSION 1u

/* magic(4) | length u32 BE | crc32 u32 BE | payload */
#define VT_FRAME_MAGIC_0     0x8Eu
#define VT_FRAME_MAGIC_1     0x56u /* 'V' */
#define VT_FRAME_MAGIC_2     0x54u /* 'T' */
#define VT_FRAME_MAGIC_3     0x31u /* '1' */
#define VT_FRAME_HEADER_SIZE 12u

/* Largest payload accepted; checked before anything is allocated. A full report
 * of a guest with 16 NICs and 32 disks packs to well under half of this. */
#define VT_FRAME_MAX (64u * 1024u)

/* The largest field number protobuf's wire has (2^29 - 1). */
#define VT_PROTOBUF_FIELD_MAX 536870911u

/* protobuf-c allocates per repeated element, so a 64 KiB payload of empty
 * submessages could expand ~100x; unpacking stops past this many bytes. */
#define VT_UNPACK_MEMORY_MAX (8u * 1024u * 1024u)

/* Counts and lengths inside a report. */
#define VT_REPORT_MAX_BLOCK        128u
#define VT_REPORT_MAX_NICS         64u
#define VT_REPORT_MAX_FEATURES     128u /* per NIC; virtio_net has ~70 */
#define VT_REPORT_MAX_MAP_ENTRIES  256u /* meminfo has ~55 lines on 6.x */
#define VT_REPORT_MAX_SWAP_DEVICES 32u  /* MAX_SWAPFILES is 32 minus reserved types */
#define VT_REPORT_MAX_SCHEDULERS   16u  /* per block device */
#define VT_REPORT_MAX_SECTIONS     32u
#define VT_REPORT_MAX_CAPABILITIES 32u
#define VT_REPORT_MAX_QUEUE_IRQS   512u /* per NIC: input + output of 256 queue pairs */
#define VT_REPORT_MAX_CHANGES      64u  /* journal states carried in one report */
#define VT_STRING_MAX              256u /* any single string field */
#define VT_REPEATED_MAX            256u /* any other repeated field */

/* ApplyRequest.confirm_within_s: the longest window before a change reverts. */
#define VT_CONFIRM_WITHIN_MAX_S (7u * 24u * 3600u)

/* Host side: how much one guest may send before it is cut off. */
#define VT_GUEST_FRAMES_PER_SEC  20u /* sustained; reports come every few seconds */
#define VT_GUEST_FRAMES_BURST    40u
#define VT_GUEST_BYTES_PER_SEC   (1024u * 1024u)
#define VT_GUEST_BYTES_BURST     (2u * 1024u * 1024u)
#define VT_GUEST_MAX_REJECTS     16u /* more than this within the window: cut off */
#define VT_GUEST_REJECT_WINDOW_S 60u
#define VT_GUEST_GARBAGE_CHUNK   4096u /* one more reject per this many garbage bytes */
#define VT_GUEST_LOG_INTERVAL_S  60u   /* one log line per reason per guest at most */
