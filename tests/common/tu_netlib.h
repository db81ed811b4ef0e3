/* Tensor element helpers of the netlib tests and benchmarks, written
 * apart from netlib/ref so that the checks do not lean on the code they
 * check. */
#ifndef NEUVC_TESTS_COMMON_TU_NETLIB_H
#define NEUVC_TESTS_COMMON_TU_NETLIB_H

#include <stddef.h>
#include <stdint.h>

#include "netlib/netlib.h"

/* "u8", "s8", "s16", "s32"; "?" for anything else. */
static inline const char *tu_type_name(nl_type t)
{
    static const char *const n[] = { "u8", "s8", "s16", "s32" };
    return (unsigned)t < 4 ? n[t] : "?";
}

/* Element i of the array base of type t: v (inside t's range) stored,
 * or loaded. */
static inline void tu_put(void *base, nl_type t, size_t i, int32_t v)
{
    switch (t) {
    case NL_U8: ((uint8_t *)base)[i] = (uint8_t)v; break;
    case NL_S8: ((int8_t *)base)[i] = (int8_t)v; break;
    case NL_S16: ((int16_t *)base)[i] = (int16_t)v; break;
    default: ((int32_t *)base)[i] = v; break;
    }
}

static inline int32_t tu_get(const void *base, nl_type t, size_t i)
{
    switch (t) {
    case NL_U8: return ((const uint8_t *)base)[i];
    case NL_S8: return ((const int8_t *)base)[i];
    case NL_S16: return ((const int16_t *)base)[i];
    default: return ((const int32_t *)base)[i];
    }
}

#endif
