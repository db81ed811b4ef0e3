/* The one way library code reports why something failed: a message into
 * the caller's buffer (err may be NULL or errlen 0: no message), and the
 * error code returned unchanged, so "return nv_fail(err, errlen, code,
 * ...)" both explains and fails. */
#ifndef NEUVC_COMMON_ERRMSG_H
#define NEUVC_COMMON_ERRMSG_H

#include <stddef.h>

__attribute__((format(printf, 4, 5)))
int nv_fail(char *err, size_t errlen, int code, const char *fmt, ...);

#endif
