/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's heap policy. A report is hundreds of small allocations made
 * when it arrives and freed when the next one from that guest replaces it;
 * with glibc's defaults every free that leaves more than 128 KiB at the top
 * of the heap shrinks it (brk, and a TLB shootdown) and the next report grows
 * it again: bench-daemon at 1,000 guests spent 13 % of the daemon's CPU in
 * sysmalloc and systrim. The heap keeps its top instead, and its free pages
 * go back to the system once a second, after a batch commits.
 */
#include "daemon-private.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Free memory kept at the top of the heap before free() gives it back. */
#define VT_HEAP_TRIM_THRESHOLD (64 * 1024 * 1024)
/* Grown by this much beyond a request, so growth is rare. */
#define VT_HEAP_TOP_PAD (1024 * 1024)

void
vt_daemon_heap_init(void)
{
#ifdef __GLIBC__
	mallopt(M_TRIM_THRESHOLD, VT_HEAP_TRIM_THRESHOLD);
	mallopt(M_TOP_PAD, VT_HEAP_TOP_PAD);
#endif
}

void
vt_daemon_heap_trim(VtDaemon *d)
{
#ifdef __GLIBC__
	if (g_get_monotonic_time() - d->trimmed_us >= G_USEC_PER_SEC) {
		d->trimmed_us = g_get_monotonic_time();
		malloc_trim(0);
	}
#else
	(void)d;
#endif
}
