/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Facts from a libvirt domain XML document (virDomainGetXMLDesc or a saved
 * `virsh dumpxml`). Only what the rules and the daemon use is kept; unknown
 * elements are skipped. Strings are NULL when the XML does not say.
 */

/* Bounds on a document we did not write: a hostile or broken XML must not
 * cost more than this. Real domains are a few KiB, 200 disks is far beyond
 * what QEMU can attach to one PCI topology without bridges. */
#define VT_DOMAIN_XML_MAX       (4u * 1024u * 1024u)
#define VT_DOMAIN_XML_MAX_DEPTH 32u
#define VT_DOMAIN_MAX_ELEMENTS  65536u
#define VT_DOMAIN_MAX_DISKS     256u
#define VT_DOMAIN_MAX_IFACES    64u
#define VT_DOMAIN_MAX_CHANNELS  64u
#define VT_DOMAIN_MAX_TEXT      4096u /* text content of one element */

/* The virtio-serial port name the agent listens on. */
#define VT_AGENT_CHANNEL_NAME "org.virttune.agent.0"

/* <address type='pci' domain bus slot function/> or type='drive' controller bus target unit */
typedef struct {
	char *type; /* "pci", "drive", "ccw", …; NULL when absent */
	guint domain, bus, slot, function;
	guint controller, target, unit;
} VtDeviceAddress;

typedef struct {
	char *type;        /* disk@type: file, block, network, volume */
	char *device;      /* disk@device: disk, cdrom, floppy, lun */
	char *bus;         /* target@bus: virtio, scsi, sata, ide, usb, … */
	char *target_dev;  /* target@dev: vda, sda, … (the guest may name it otherwise) */
	char *driver_name; /* driver@name: qemu */
	char *format;      /* driver@type: raw, qcow2 */
	char *cache;       /* driver@cache: none, writeback, writethrough, directsync, unsafe */
	char *io;          /* driver@io: native, threads, io_uring */
	char *serial;
	char *source; /* file, dev, name (network) or pool/volume */
	gboolean readonly;
	gboolean shareable;
	VtDeviceAddress address;
	guint iothread;       /* driver@iothread; 0 when the disk has none */
	guint backing_depth;  /* <backingStore type=…> layers under the top image (live XML) */
	char *backing_format; /* backingStore/format@type of the first layer */
} VtDiskFacts;

typedef struct {
	char *type;        /* network, bridge, ethernet, user, direct, … */
	char *mac;         /* lower case, as libvirt writes it */
	char *model;       /* model@type: virtio, e1000, rtl8139, … */
	char *driver_name; /* driver@name: vhost, qemu */
	guint queues;      /* driver@queues; 0 when absent */
	char *target_dev;  /* target@dev: vnet0, tap0 */
	char *source;      /* source@bridge, @network or @dev */
	VtDeviceAddress address;
	guint mtu; /* mtu@size; 0 when absent */
} VtIfaceFacts;

typedef struct {
	char *type;         /* channel@type: unix, pty, … */
	char *source_mode;  /* bind, connect */
	char *source_path;  /* source@path (live XML fills it in when libvirt picked one) */
	char *target_type;  /* virtio, guestfwd */
	char *target_name;  /* org.virttune.agent.0, org.qemu.guest_agent.0 */
	char *target_state; /* connected, disconnected; NULL in inactive XML */
} VtChannelFacts;

typedef struct {
	char *type; /* scsi, virtio-serial, pci, usb, … */
	guint index;
	char *model; /* virtio-scsi, lsilogic, … */
} VtControllerFacts;

typedef struct {
	char *name;
	char *uuid;
	char *type; /* domain@type: kvm, qemu */
	guint vcpus_max;
	guint vcpus_current; /* vcpu@current, or vcpus_max when absent */
	char *cpu_mode;   /* cpu@mode: host-passthrough, host-model, custom, maximum; NULL when no
			     <cpu> */
	char *cpu_model;  /* cpu/model text for custom */
	guint numa_cells; /* cpu/numa/cell count */
	guint vcpupins;   /* cputune/vcpupin count */
	gboolean has_emulatorpin;
	gboolean has_numatune;
	char *numatune_mode; /* numatune/memory@mode: strict, preferred, interleave, restrictive */
	char *numatune_nodeset; /* numatune/memory@nodeset; NULL with placement='auto' */
	char *vcpupin_cpusets;  /* every vcpupin@cpuset, joined with ',' (a cpuset itself) */
	char *emulatorpin_cpuset;
	guint iothreads;              /* <iothreads>N</iothreads> */
	guint64 memory_bytes;         /* <memory> (the maximum at boot) */
	guint64 current_memory_bytes; /* <currentMemory>, or memory_bytes when absent */
	gboolean hugepages;           /* memoryBacking/hugepages */
	char *balloon_model;          /* memballoon@model: virtio, none; NULL when absent */
	guint balloon_period;         /* memballoon/stats@period, seconds; 0 when absent */
	GPtrArray *disks;             /* VtDiskFacts */
	GPtrArray *ifaces;            /* VtIfaceFacts */
	GPtrArray *channels;          /* VtChannelFacts */
	GPtrArray *controllers;       /* VtControllerFacts */
} VtDomainFacts;

/*
 * Parse @len bytes of domain XML (-1: NUL-terminated). Errors (VT_ERROR_INVALID,
 * VT_ERROR_TOO_LARGE) name the element or attribute at fault. GMarkup is used
 * rather than libxml2: it expands no entities and loads no DTDs, so a hostile
 * document cannot make it fetch or amplify anything, it streams (each bound is
 * checked before the next element is built) and it adds no dependency.
 */
VtDomainFacts *vt_domain_facts_parse(const char *xml, gssize len, GError **error);
VtDomainFacts *vt_domain_facts_new(void); /* empty */
VtDomainFacts *vt_domain_facts_load(const char *path, GError **error);
void vt_domain_facts_free(VtDomainFacts *facts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtDomainFacts, vt_domain_facts_free)

/* The virttune agent's channel, or NULL when the domain has none. */
const VtChannelFacts *vt_domain_facts_agent_channel(const VtDomainFacts *facts);
/* TRUE when the agent's channel is there and libvirt says the guest opened it. */
gboolean vt_domain_facts_agent_connected(const VtDomainFacts *facts);

const VtControllerFacts *vt_domain_facts_controller(const VtDomainFacts *facts, const char *type,
						    guint index);

/* Parse a libvirt memory amount with its unit attribute (default KiB) into bytes. */
gboolean vt_parse_memory_amount(const char *text, const char *unit, guint64 *bytes, GError **error);

G_END_DECLS
