/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VT_ERROR (vt_error_quark())

typedef enum {
	VT_ERROR_FAILED,        /* anything not below */
	VT_ERROR_INVALID,       /* malformed input: a frame, a message, a config line */
	VT_ERROR_NOT_FOUND,     /* a file, device or domain that is not there */
	VT_ERROR_NOT_SUPPORTED, /* the kernel or device refuses (EOPNOTSUPP) */
	VT_ERROR_TOO_LARGE,     /* a bound was hit */
	VT_ERROR_PERMISSION,    /* EPERM/EACCES, or the peer is not allowed */
	VT_ERROR_IO,            /* any other errno */
	VT_ERROR_UNAVAILABLE,   /* the other side is not there (yet) */
} VtError;

GQuark vt_error_quark(void);

/* The single place where errno becomes a GError in the VT_ERROR domain. */
VtError vt_error_code_from_errno(int errsv);
void vt_error_set_errno(GError **error, int errsv, const char *format, ...) G_GNUC_PRINTF(3, 4);

G_END_DECLS
