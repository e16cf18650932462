/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "error.h"

#include <errno.h>
#include <string.h>

GQuark
vt_error_quark(void)
{
	return g_quark_from_static_string("vt-error-quark");
}

VtError
vt_error_code_from_errno(int errsv)
{
	switch (errsv) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return VT_ERROR_NOT_FOUND;
	case EOPNOTSUPP:
#if EOPNOTSUPP != ENOTSUP
	case ENOTSUP:
#endif
	case ENOTTY:
	case ENOSYS:
		return VT_ERROR_NOT_SUPPORTED;
	case EPERM:
	case EACCES:
	case EROFS:
		return VT_ERROR_PERMISSION;
	case EINVAL:
	case ERANGE:
		return VT_ERROR_INVALID;
	case E2BIG:
	case EFBIG:
	case EMSGSIZE:
		return VT_ERROR_TOO_LARGE;
	case ECONNREFUSED:
	case ENOTCONN:
	case EPIPE:
	case ECONNRESET:
	case EAGAIN:
		return VT_ERROR_UNAVAILABLE;
	default:
		return VT_ERROR_IO;
	}
}

void
vt_error_set_errno(GError **error, int errsv, const char *format, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	if (error == NULL)
		return;
	va_start(ap, format);
	msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_set_error(error, VT_ERROR, vt_error_code_from_errno(errsv), "%s: %s", msg,
		    g_strerror(errsv));
}
