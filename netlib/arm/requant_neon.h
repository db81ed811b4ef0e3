/*
 * THE rounding rule (netlib.h) on NEON, 4 lanes at a time, and stores of
 * int32 lanes as any nl_type.  Shared by the ARM kernels (static inline).
 *
 * nl_arm_requant4(x, m, nsh, lo, hi), x an int32 with |x| < 2^31,
 * 0 <= m < 2^31, nsh = -s with 0 <= s <= 62:
 *   SMULL forms v = x * m exactly in 64 bits (|v| < 2^62);
 *   SRSHL by -s is the rounding right shift (v + 2^(s-1)) >> s, the
 *     architecture adding the rounding constant without overflow, and v
 *     itself for s = 0: THE rounding rule before the clamp;
 *   SQXTN saturates the result to int32: as lo and hi are int32,
 *     clamp(saturate(v), lo, hi) == clamp(v, lo, hi).
 */
#ifndef NEUVC_NETLIB_ARM_REQUANT_NEON_H
#define NEUVC_NETLIB_ARM_REQUANT_NEON_H

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "netlib/netlib.h"

static inline __attribute__((always_inline)) int32x4_t
nl_arm_requant4(int32x4_t x, int32x4_t m, int64x2_t nsh_lo, int64x2_t nsh_hi, int32x4_t lo,
                int32x4_t hi)
{
    int64x2_t a = vmull_s32(vget_low_s32(x), vget_low_s32(m));
    int64x2_t b = vmull_high_s32(x, m);
    a = vrshlq_s64(a, nsh_lo);
    b = vrshlq_s64(b, nsh_hi);
    int32x4_t r = vcombine_s32(vqmovn_s64(a), vqmovn_s64(b));
    return vminq_s32(vmaxq_s32(r, lo), hi);
}

/* The 64-bit form: v (|v| < 2^63 - 2^61, e.g. a * ma + b * mb of
 * nl_add) -> clamp((v + 2^(s-1)) >> s, lo, hi) as int32, 2 lanes. */
static inline __attribute__((always_inline)) int32x2_t
nl_arm_round2(int64x2_t v, int64x2_t nsh, int32x2_t lo, int32x2_t hi)
{
    int32x2_t r = vqmovn_s64(vrshlq_s64(v, nsh));
    return vmin_s32(vmax_s32(r, lo), hi);
}

/* Stores the first n (1..4) lanes of v (each within the range of t). */
static inline __attribute__((always_inline)) void
nl_arm_store4(uint8_t *p, nl_type t, int n, int32x4_t v)
{
    uint8_t tmp[16];
    size_t es;
    switch (t) {
    case NL_U8:
    case NL_S8: {
        int16x4_t h = vmovn_s32(v);
        int8x8_t b = vmovn_s16(vcombine_s16(h, h));
        vst1_s8((int8_t *)tmp, b);
        es = 1;
        break;
    }
    case NL_S16:
        vst1_s16((int16_t *)tmp, vmovn_s32(v));
        es = 2;
        break;
    default:
        vst1q_s32((int32_t *)tmp, v);
        es = 4;
        break;
    }
    memcpy(p, tmp, (size_t)n * es);
}

/* Stores the first n (1..8) lanes of (v0, v1). */
static inline __attribute__((always_inline)) void
nl_arm_store8(uint8_t *p, nl_type t, int n, int32x4_t v0, int32x4_t v1)
{
    if (n == 8) {
        switch (t) {
        case NL_U8:
        case NL_S8:
            vst1_s8((int8_t *)p, vmovn_s16(vcombine_s16(vmovn_s32(v0), vmovn_s32(v1))));
            return;
        case NL_S16:
            vst1q_s16((int16_t *)p, vcombine_s16(vmovn_s32(v0), vmovn_s32(v1)));
            return;
        default:
            vst1q_s32((int32_t *)p, v0);
            vst1q_s32((int32_t *)p + 4, v1);
            return;
        }
    }
    int es = (int)nl_type_size(t);
    nl_arm_store4(p, t, n < 4 ? n : 4, v0);
    if (n > 4)
        nl_arm_store4(p + 4 * es, t, n - 4, v1);
}

#endif
