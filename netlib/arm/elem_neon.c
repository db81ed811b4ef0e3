/*
 * Element-wise ops with NEON (baseline aarch64): requantization, add,
 * clamp (s2d, d2s, concat: shuffle_neon.c).  Contracts and results: the
 * references in netlib/ref (netlib.h); the rounding through
 * nl_arm_requant4 / nl_arm_round2 (requant_neon.h), channel tails (c % 4
 * elements of a pixel) through the reference's own rounding function.
 *
 * Vector work goes 4 channels of one pixel at a time (a channel block),
 * pixel after pixel along the row with the block's per-channel constants
 * held in registers.
 */
#include <arm_neon.h>
#include <string.h>

#include "netlib/arm/conv_arm.h"
#include "netlib/arm/requant_neon.h"
#include "netlib/netlib.h"
#include "netlib/ref/elem.h"
#include "netlib/ref/rounding.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Elements i .. i + 3 of a row of type t, as int32. */
ALWAYS_INLINE int32x4_t load4(const uint8_t *row, nl_type t, ptrdiff_t i)
{
    switch (t) {
    case NL_U8: {
        uint32_t v;
        memcpy(&v, row + i, 4);
        uint16x8_t h = vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(v)));
        return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(h)));
    }
    case NL_S8: {
        uint32_t v;
        memcpy(&v, row + i, 4);
        int16x8_t h = vmovl_s8(vreinterpret_s8_u32(vdup_n_u32(v)));
        return vmovl_s16(vget_low_s16(h));
    }
    case NL_S16:
        return vmovl_s16(vld1_s16((const int16_t *)row + i));
    default:
        return vld1q_s32((const int32_t *)row + i);
    }
}

/* -shift[ch .. ch + 3] as two int64x2 (SRSHL operands). */
ALWAYS_INLINE void load_nshift(const uint8_t *shift, int64x2_t *lo, int64x2_t *hi)
{
    uint32_t v;
    memcpy(&v, shift, 4);
    uint32x4_t s = vmovl_u16(vget_low_u16(vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(v)))));
    *lo = vnegq_s64(vreinterpretq_s64_u64(vmovl_u32(vget_low_u32(s))));
    *hi = vnegq_s64(vreinterpretq_s64_u64(vmovl_high_u32(s)));
}

static void nl_requant_neon(const nl_requant *rq, const nl_tensor *src, nl_tensor *dst, int y0,
                            int y1)
{
    /* s32 plus a bias can exceed int32 (the reference adds in int64). */
    if (src->type == NL_S32 && rq->bias) {
        nl_requant_ref(rq, src, dst, y0, y1);
        return;
    }
    const int c = src->c, w = src->w;
    const int ies = (int)nl_type_size(src->type), oes = (int)nl_type_size(dst->type);
    const int32x4_t lo = vdupq_n_s32(rq->lo), hi = vdupq_n_s32(rq->hi);
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = nl_elem_ptr(src, y, 0);
        uint8_t *out = nl_elem_ptr(dst, y, 0);
        int ch = 0;
        for (; ch + 4 <= c; ch += 4) {
            /* x = sample + bias: |sample| <= 2^15 (u8, s8, s16) or no bias
             * (s32), so |x| <= 2^31 and x fits int32 (nl_arm_requant4's
             * x * m stays below 2^62 in magnitude even for -2^31). */
            const int32x4_t b = rq->bias ? vld1q_s32(rq->bias + ch) : vdupq_n_s32(0);
            const int32x4_t m = vld1q_s32(rq->mult + ch);
            int64x2_t s0, s1;
            load_nshift(rq->shift + ch, &s0, &s1);
            for (int x = 0; x < w; x++) {
                const ptrdiff_t i = (ptrdiff_t)x * c + ch;
                int32x4_t v = vaddq_s32(load4(in, src->type, i), b);
                nl_arm_store4(out + i * oes, dst->type, 4,
                              nl_arm_requant4(v, m, s0, s1, lo, hi));
            }
        }
        for (; ch < c; ch++)
            for (int x = 0; x < w; x++) {
                const ptrdiff_t i = (ptrdiff_t)x * c + ch;
                int64_t v = (int64_t)nl_elem_load(in + i * ies, src->type) +
                            (rq->bias ? rq->bias[ch] : 0);
                nl_elem_store(out + i * oes, dst->type,
                              nl_round_requant(v, rq->mult[ch], rq->shift[ch], rq->lo, rq->hi));
            }
    }
}

static void nl_add_neon(const nl_add_desc *d, const nl_tensor *a, const nl_tensor *b,
                        nl_tensor *dst, int y0, int y1)
{
    const int c = a->c, w = a->w;
    const int aes = (int)nl_type_size(a->type), bes = (int)nl_type_size(b->type);
    const int oes = (int)nl_type_size(dst->type);
    const int32x2_t lo = vdup_n_s32(d->lo), hi = vdup_n_s32(d->hi);
    for (int y = y0; y < y1; y++) {
        const uint8_t *pa = nl_elem_ptr(a, y, 0), *pb = nl_elem_ptr(b, y, 0);
        uint8_t *out = nl_elem_ptr(dst, y, 0);
        int ch = 0;
        for (; ch + 4 <= c; ch += 4) {
            const int32x4_t ma = vld1q_s32(d->ma + ch), mb = vld1q_s32(d->mb + ch);
            int64x2_t s0, s1;
            load_nshift(d->shift + ch, &s0, &s1);
            for (int x = 0; x < w; x++) {
                const ptrdiff_t i = (ptrdiff_t)x * c + ch;
                /* a * ma + b * mb exactly in int64: |.| < 2 * 2^15 * 2^31. */
                int32x4_t va = load4(pa, a->type, i), vb = load4(pb, b->type, i);
                int64x2_t l = vmull_s32(vget_low_s32(va), vget_low_s32(ma));
                int64x2_t h = vmull_high_s32(va, ma);
                l = vmlal_s32(l, vget_low_s32(vb), vget_low_s32(mb));
                h = vmlal_high_s32(h, vb, mb);
                int32x4_t r = vcombine_s32(nl_arm_round2(l, s0, lo, hi),
                                           nl_arm_round2(h, s1, lo, hi));
                nl_arm_store4(out + i * oes, dst->type, 4, r);
            }
        }
        for (; ch < c; ch++)
            for (int x = 0; x < w; x++) {
                const ptrdiff_t i = (ptrdiff_t)x * c + ch;
                int64_t va = nl_elem_load(pa + i * aes, a->type);
                int64_t vb = nl_elem_load(pb + i * bes, b->type);
                nl_elem_store(out + i * oes, dst->type,
                              nl_round_requant(va * d->ma[ch] + vb * d->mb[ch], 1, d->shift[ch],
                                               d->lo, d->hi));
            }
    }
}

static void nl_clamp_neon(nl_tensor *t, int32_t lo, int32_t hi, int y0, int y1)
{
    const ptrdiff_t n = (ptrdiff_t)t->w * t->c;
    for (int y = y0; y < y1; y++) {
        uint8_t *row = nl_elem_ptr(t, y, 0);
        ptrdiff_t i = 0;
        switch (t->type) {
        case NL_U8: {
            const uint8x16_t l = vdupq_n_u8((uint8_t)lo), h = vdupq_n_u8((uint8_t)hi);
            for (; i + 16 <= n; i += 16)
                vst1q_u8(row + i, vminq_u8(vmaxq_u8(vld1q_u8(row + i), l), h));
            break;
        }
        case NL_S8: {
            int8_t *p = (int8_t *)row;
            const int8x16_t l = vdupq_n_s8((int8_t)lo), h = vdupq_n_s8((int8_t)hi);
            for (; i + 16 <= n; i += 16)
                vst1q_s8(p + i, vminq_s8(vmaxq_s8(vld1q_s8(p + i), l), h));
            break;
        }
        case NL_S16: {
            int16_t *p = (int16_t *)row;
            const int16x8_t l = vdupq_n_s16((int16_t)lo), h = vdupq_n_s16((int16_t)hi);
            for (; i + 8 <= n; i += 8)
                vst1q_s16(p + i, vminq_s16(vmaxq_s16(vld1q_s16(p + i), l), h));
            break;
        }
        default: {
            int32_t *p = (int32_t *)row;
            const int32x4_t l = vdupq_n_s32(lo), h = vdupq_n_s32(hi);
            for (; i + 4 <= n; i += 4)
                vst1q_s32(p + i, vminq_s32(vmaxq_s32(vld1q_s32(p + i), l), h));
            break;
        }
        }
        /* lo <= hi within the type's range: the result is storable. */
        const int es = (int)nl_type_size(t->type);
        for (; i < n; i++) {
            int32_t v = nl_elem_load(row + i * es, t->type);
            nl_elem_store(row + i * es, t->type, v < lo ? lo : v > hi ? hi : v);
        }
    }
}

void nl_dsp_init_arm_neon_elem(nl_dsp *d)
{
    d->requant = nl_requant_neon;  d->requant_name = "nl_requant_neon";
    d->add = nl_add_neon;          d->add_name = "nl_add_neon";
    d->clamp = nl_clamp_neon;      d->clamp_name = "nl_clamp_neon";
    nl_dsp_init_arm_neon_shuffle(d);
}
