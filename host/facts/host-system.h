/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "domain.h"

G_BEGIN_DECLS

/*
 * The hypervisor host itself, read by virt-tuned from /proc and /sys under a
 * sysroot (NULL or "/" for the live host; tests pass a fixture tree): the
 * CPUs online, memory and swap, the sysctls tuned's virtual-host profile sets,
 * transparent hugepages, KSM, and the block device (and its I/O scheduler)
 * under each guest image. Every figure has a has_* flag; a file that cannot be
 * read is named in @missing, never fatal.
 */

#define VT_HOST_NAME_MAX    32u /* DISK_NAME_LEN */
#define VT_HOST_TEXT_MAX    (64u * 1024u)
#define VT_HOST_MAX_IMAGES  1024u
#define VT_HOST_MAX_MISSING 32u

/* The sysctls compared with tuned's virtual-host profile, in this order. */
typedef enum {
	VT_HOST_SWAPPINESS,
	VT_HOST_DIRTY_RATIO,
	VT_HOST_DIRTY_BACKGROUND_RATIO,
	VT_HOST_DIRTY_BYTES,
	VT_HOST_DIRTY_BACKGROUND_BYTES,
	VT_HOST_SYSCTL_N,
} VtHostSysctl;

typedef struct {
	gboolean has_cpus;
	guint cpus_online; /* /sys/devices/system/cpu/online */
	gboolean has_cores;
	guint cores; /* physical cores: distinct thread_siblings_list of the online CPUs */
	gboolean has_mem_total, has_mem_available, has_swap;
	guint64 mem_total_bytes, mem_available_bytes; /* /proc/meminfo */
	guint64 swap_total_bytes, swap_free_bytes;
	gboolean has_swap_counters; /* /proc/vmstat pswpin/pswpout, pages since boot */
	guint64 pswpin, pswpout;
	gboolean has_oom_kills;
	guint64 oom_kills; /* /proc/vmstat oom_kill */
	gboolean has_sysctl[VT_HOST_SYSCTL_N];
	guint64 sysctl[VT_HOST_SYSCTL_N];
	char thp[16]; /* the [selected] word of transparent_hugepage/enabled; "" unknown */
	gboolean has_ksm;
	guint ksm_run; /* /sys/kernel/mm/ksm/run: 0 off, 1 on, 2 unmerge */
	gboolean has_ksm_sharing;
	guint64 ksm_pages_sharing;
	GPtrArray *missing; /* char*: "proc/meminfo: No such file or directory" */
} VtHostSystem;

/* The block device behind a device number: the partition and its whole disk. */
typedef struct {
	guint major, minor;
	char name[VT_HOST_NAME_MAX]; /* sda1, nvme0n1p2, dm-0 */
	char disk[VT_HOST_NAME_MAX]; /* the whole disk whose queue it uses: sda */
	gboolean partition;
	char scheduler[VT_HOST_NAME_MAX]; /* "" when the queue has none to show */
	char schedulers[128];             /* every choice, space separated */
	gboolean has_rotational, rotational;
} VtHostBlockDev;

/* One guest image and the host device under it. */
typedef struct {
	char *domain;
	char *disk; /* the XML target dev: vda */
	char *path; /* the image file or block device */
	gboolean resolved;
	VtHostBlockDev dev;
	char *why; /* when not resolved: "on a filesystem without a block device (0:45)" */
} VtHostImage;

VtHostSystem *vt_host_system_read(const char *sysroot);
void vt_host_system_free(VtHostSystem *sys);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtHostSystem, vt_host_system_free)

const char *vt_host_sysctl_name(VtHostSysctl key); /* "vm.swappiness" */

/* The device MAJOR:MINOR through @sysroot's /sys/dev/block; FALSE with @error
 * naming what was missing. */
gboolean vt_host_blockdev_lookup(const char *sysroot, guint major, guint minor, VtHostBlockDev *out,
				 GError **error);

/* The device under the file or block device @path (stat() of the live
 * filesystem, sysfs under @sysroot). */
gboolean vt_host_blockdev_of_path(const char *sysroot, const char *path, VtHostBlockDev *out,
				  GError **error);

/* Appends one VtHostImage per file or block disk of @facts (cdroms, network
 * and read-only disks are left out) to @images, up to VT_HOST_MAX_IMAGES. */
void vt_host_images_add(GPtrArray *images, const char *sysroot, const char *domain,
			const VtDomainFacts *facts);
/* A GPtrArray that frees its VtHostImage elements. */
GPtrArray *vt_host_images_new(void);
/* An image with its device given (tests, fixtures). */
VtHostImage *vt_host_image_new(const char *domain, const char *disk, const char *path);

G_END_DECLS
