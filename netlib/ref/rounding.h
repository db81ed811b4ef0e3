/*
 * THE rounding rule of neuvc (netlib.h), written once: every reference
 * kernel calls this, and every SIMD or OpenCL kernel must reproduce it
 * bit for bit.
 *
 *     nl_round_requant(x, m, s, lo, hi)
 *         = clamp((x * m + 2^(s-1)) >> s, lo, hi)     (s >= 1)
 *         = clamp(x * m, lo, hi)                      (s == 0)
 *
 * i.e. x * m / 2^s rounded half up (towards +infinity: 2.5 -> 3,
 * -2.5 -> -2), ">>" the arithmetic (flooring) shift of GCC and Clang.
 *
 * No overflow: callers pass |x| < 3 * 2^30 (an int32 accumulator or
 * sample plus a bias of at most NL_BIAS_MAX = 2^30 - 1; or, from nl_add_ref,
 * |x| < 2 * 2^15 * 2^31 = 2^47 with m = 1), 0 <= m < 2^31 and
 * 0 <= s <= NL_SHIFT_MAX = 62.  Then |x * m| < 3 * 2^61 and
 * x * m + 2^(s-1) < 3 * 2^61 + 2^61 = 2^63: every step fits int64_t.
 */
#ifndef NEUVC_NETLIB_REF_ROUNDING_H
#define NEUVC_NETLIB_REF_ROUNDING_H

#include <stdint.h>

static inline int32_t nl_round_requant(int64_t x, int32_t m, int s, int32_t lo, int32_t hi)
{
    int64_t v = x * m;
    if (s > 0)
        v = (v + ((int64_t)1 << (s - 1))) >> s;
    if (v < lo)
        return lo;
    if (v > hi)
        return hi;
    return (int32_t)v;
}

#endif
