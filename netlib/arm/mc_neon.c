/*
 * Motion-compensation kernels with NEON (baseline aarch64; common/mcdsp.h):
 * the 4-tap interpolation of 8- and 16-sample rows, the 16x16 SAD and the
 * SAD against a prediction, the OBMC cell sums, and the x6 row packing;
 * byte for byte the C kernels of common/mc.c and common/picture.c.
 *
 * Exactness.
 * - Every row of nv_mc_taps has the signs (-, +, +, -) (zeros included):
 *   t0, t3 <= 0 <= t1, t2.  A one-dimensional sum t0 s[-1] + t1 s[0] + t2
 *   s[1] + t3 s[2] of u8 samples is formed as UMULL / UMLAL by t1, t2 and
 *   UMLSL by -t0, -t3 (all in [0, 64], so u8 operands) in 16-bit lanes,
 *   i.e. modulo 2^16.  The true sum lies in [-10 * 255, 74 * 255] =
 *   [-2550, 18870] (mc.c), inside int16, so the lanes read as int16 hold
 *   it exactly.  (The checker runs every phase, so a table row with other
 *   signs would fail it.)
 * - (v + 32) >> 6 clipped to [0, 255] is SQRSHRUN #6 (rounding shift by
 *   the flooring rule, computed without overflow, then the unsigned
 *   saturating narrow: the clip).
 * - put_hv's vertical pass multiplies the int16 sums by the signed taps
 *   into int32 (SMULL / SMLAL by lane; |sum| <= 84 * 18870 < 2^21), and
 *   SQRSHRUN #12 then UQXTN give clip((v + 2048) >> 12).
 * - SAD: UABD then UADALP into 16-bit lanes: each lane gathers two
 *   differences per row, at most 16 * 2 * 255 = 8160; UADDLV sums them.
 * - OBMC: top = wl p0 + wr p1 and bot = wl p2 + wr p3 by UMULL / UMLAL
 *   (weights <= 2n - 1, sums <= 2n * 255: 8160 luma, 4080 chroma).  Luma:
 *   wt top + wb bot <= 4n^2 * 255 = 261120 needs 32-bit lanes (UMULL /
 *   UMLAL by scalar), then RSHRN #10 ((v + 512) >> 10, at most 255) and
 *   XTN.  Chroma: the same sum is at most 256 * 255 = 65280, so it stays
 *   in 16-bit lanes (MUL / MLA), then RSHRN #8.
 * - x6 rows are pure copies (ST3 / LD3 of 16-bit lanes: the luma pairs
 *   and the (u, v) pairs are 2-byte units; little-endian lanes keep the
 *   byte order).
 *
 * Reads: never outside rows -1 .. bh + 1, columns -1 .. bw + 1 of src
 * (mcdsp.h's contract): a 16-sample row is read as the four 16-byte runs
 * s[-1 ..], s[0 ..], s[1 ..], s[2 .. 17]; an 8-sample one as four 8-byte
 * runs ending at s[9].  The put kernels write exactly bw samples per row.
 */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "common/mcdsp.h"
#include "common/picture.h"

#if defined(__AARCH64EB__)
#error "mc_neon.c: the x6 kernels assume little-endian lanes"
#endif

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Tap magnitudes -t0, t1, t2, -t3 (each in [0, 64]) in every byte. */
typedef struct taps_u8 {
    uint8x16_t m0, m1, m2, m3;
} taps_u8;

ALWAYS_INLINE taps_u8 tap_mags(const int8_t *t)
{
    taps_u8 k;
    k.m0 = vdupq_n_u8((uint8_t)-t[0]);
    k.m1 = vdupq_n_u8((uint8_t)t[1]);
    k.m2 = vdupq_n_u8((uint8_t)t[2]);
    k.m3 = vdupq_n_u8((uint8_t)-t[3]);
    return k;
}

/* The 4-tap sums of 8 samples: a, b, c, d the runs at s[-1], s[0], s[1],
 * s[2] (or rows -1 .. 2); exact in int16 (see the top). */
ALWAYS_INLINE int16x8_t fir8(uint8x8_t a, uint8x8_t b, uint8x8_t c, uint8x8_t d,
                             const taps_u8 *k)
{
    uint16x8_t v = vmull_u8(b, vget_low_u8(k->m1));
    v = vmlal_u8(v, c, vget_low_u8(k->m2));
    v = vmlsl_u8(v, a, vget_low_u8(k->m0));
    v = vmlsl_u8(v, d, vget_low_u8(k->m3));
    return vreinterpretq_s16_u16(v);
}

/* The same for 16 samples: lo = samples 0..7, hi = 8..15. */
ALWAYS_INLINE void fir16(uint8x16_t a, uint8x16_t b, uint8x16_t c, uint8x16_t d,
                         const taps_u8 *k, int16x8_t *lo, int16x8_t *hi)
{
    *lo = fir8(vget_low_u8(a), vget_low_u8(b), vget_low_u8(c), vget_low_u8(d), k);
    uint16x8_t v = vmull_high_u8(b, k->m1);
    v = vmlal_high_u8(v, c, k->m2);
    v = vmlsl_high_u8(v, a, k->m0);
    v = vmlsl_high_u8(v, d, k->m3);
    *hi = vreinterpretq_s16_u16(v);
}

/* The horizontal sums of one 16-sample row s (reads s[-1 .. 17]). */
ALWAYS_INLINE void hrow16(const uint8_t *s, const taps_u8 *k, int16x8_t *lo, int16x8_t *hi)
{
    fir16(vld1q_u8(s - 1), vld1q_u8(s), vld1q_u8(s + 1), vld1q_u8(s + 2), k, lo, hi);
}

/* ... of one 8-sample row (reads s[-1 .. 9]). */
ALWAYS_INLINE int16x8_t hrow8(const uint8_t *s, const taps_u8 *k)
{
    return fir8(vld1_u8(s - 1), vld1_u8(s), vld1_u8(s + 1), vld1_u8(s + 2), k);
}

/* clip((v + 32) >> 6) of 16 sums. */
ALWAYS_INLINE uint8x16_t round6_16(int16x8_t lo, int16x8_t hi)
{
    return vqrshrun_high_n_s16(vqrshrun_n_s16(lo, 6), hi, 6);
}

/* One output row of 16 samples: stored at o (cur == NULL, a constant in
 * every caller), or its absolute differences to cur added to acc. */
ALWAYS_INLINE uint16x8_t out16(uint8_t *o, const uint8_t *cur, uint8x16_t v, uint16x8_t acc)
{
    if (!cur) {
        vst1q_u8(o, v);
        return acc;
    }
    return vpadalq_u8(acc, vabdq_u8(v, vld1q_u8(cur)));
}

/* Horizontal phase only, 16 wide: dst rows (cur == NULL) or the SAD
 * against cur (rows cs apart; dst unused). */
ALWAYS_INLINE uint16x8_t h16(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                             int bh, const int8_t *t, const uint8_t *cur, ptrdiff_t cs)
{
    const taps_u8 k = tap_mags(t);
    uint16x8_t acc = vdupq_n_u16(0);
    for (int j = 0; j < bh; j++) {
        int16x8_t lo, hi;
        hrow16(src + j * ss, &k, &lo, &hi);
        acc = out16(dst + j * ds, cur ? cur + j * cs : NULL, round6_16(lo, hi), acc);
    }
    return acc;
}

/* Vertical phase only, 16 wide: output row j from rows j - 1 .. j + 2,
 * the last three kept for the next row. */
ALWAYS_INLINE uint16x8_t v16(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                             int bh, const int8_t *t, const uint8_t *cur, ptrdiff_t cs)
{
    const taps_u8 k = tap_mags(t);
    uint8x16_t r0 = vld1q_u8(src - ss), r1 = vld1q_u8(src), r2 = vld1q_u8(src + ss);
    uint16x8_t acc = vdupq_n_u16(0);
    for (int j = 0; j < bh; j++) {
        const uint8x16_t r3 = vld1q_u8(src + (j + 2) * ss);
        int16x8_t lo, hi;
        fir16(r0, r1, r2, r3, &k, &lo, &hi);
        acc = out16(dst + j * ds, cur ? cur + j * cs : NULL, round6_16(lo, hi), acc);
        r0 = r1;
        r1 = r2;
        r2 = r3;
    }
    return acc;
}

/* The vertical taps as int16 lanes 0..3. */
ALWAYS_INLINE int16x4_t vtaps(const int8_t *t)
{
    const int16_t v[4] = { t[0], t[1], t[2], t[3] };
    return vld1_s16(v);
}

/* clip((sum_j tv[j] h_j + 2048) >> 12) of 8 columns (int32 sums). */
ALWAYS_INLINE uint8x8_t vsum8(int16x8_t h0, int16x8_t h1, int16x8_t h2, int16x8_t h3,
                              int16x4_t tv)
{
    int32x4_t lo = vmull_lane_s16(vget_low_s16(h0), tv, 0);
    lo = vmlal_lane_s16(lo, vget_low_s16(h1), tv, 1);
    lo = vmlal_lane_s16(lo, vget_low_s16(h2), tv, 2);
    lo = vmlal_lane_s16(lo, vget_low_s16(h3), tv, 3);
    int32x4_t hi = vmull_high_lane_s16(h0, tv, 0);
    hi = vmlal_high_lane_s16(hi, h1, tv, 1);
    hi = vmlal_high_lane_s16(hi, h2, tv, 2);
    hi = vmlal_high_lane_s16(hi, h3, tv, 3);
    return vqmovn_u16(vqrshrun_high_n_s32(vqrshrun_n_s32(lo, 12), hi, 12));
}

/* Both phases, 16 wide: horizontal sums of rows j - 1 .. j + 2 (int16,
 * the last three kept), then the vertical sum per column. */
ALWAYS_INLINE uint16x8_t hv16(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                              int bh, const int8_t *th, const int8_t *tv, const uint8_t *cur,
                              ptrdiff_t cs)
{
    const taps_u8 k = tap_mags(th);
    const int16x4_t v = vtaps(tv);
    int16x8_t l0, h0, l1, h1, l2, h2;
    hrow16(src - ss, &k, &l0, &h0);
    hrow16(src, &k, &l1, &h1);
    hrow16(src + ss, &k, &l2, &h2);
    uint16x8_t acc = vdupq_n_u16(0);
    for (int j = 0; j < bh; j++) {
        int16x8_t l3, h3;
        hrow16(src + (j + 2) * ss, &k, &l3, &h3);
        const uint8x16_t o = vcombine_u8(vsum8(l0, l1, l2, l3, v), vsum8(h0, h1, h2, h3, v));
        acc = out16(dst + j * ds, cur ? cur + j * cs : NULL, o, acc);
        l0 = l1;
        h0 = h1;
        l1 = l2;
        h1 = h2;
        l2 = l3;
        h2 = h3;
    }
    return acc;
}

static void nv_mc_put_h16_neon(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                               int bh, const int8_t *t)
{
    h16(dst, ds, src, ss, bh, t, NULL, 0);
}

static void nv_mc_put_v16_neon(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                               int bh, const int8_t *t)
{
    v16(dst, ds, src, ss, bh, t, NULL, 0);
}

static void nv_mc_put_hv16_neon(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                                int bh, const int8_t *th, const int8_t *tv)
{
    hv16(dst, ds, src, ss, bh, th, tv, NULL, 0);
}

static void nv_mc_put_h8_neon(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                              int bh, const int8_t *t)
{
    const taps_u8 k = tap_mags(t);
    for (int j = 0; j < bh; j++)
        vst1_u8(dst + j * ds, vqrshrun_n_s16(hrow8(src + j * ss, &k), 6));
}

static void nv_mc_put_v8_neon(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                              int bh, const int8_t *t)
{
    const taps_u8 k = tap_mags(t);
    uint8x8_t r0 = vld1_u8(src - ss), r1 = vld1_u8(src), r2 = vld1_u8(src + ss);
    for (int j = 0; j < bh; j++) {
        const uint8x8_t r3 = vld1_u8(src + (j + 2) * ss);
        vst1_u8(dst + j * ds, vqrshrun_n_s16(fir8(r0, r1, r2, r3, &k), 6));
        r0 = r1;
        r1 = r2;
        r2 = r3;
    }
}

static void nv_mc_put_hv8_neon(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                               int bh, const int8_t *th, const int8_t *tv)
{
    const taps_u8 k = tap_mags(th);
    const int16x4_t v = vtaps(tv);
    int16x8_t h0 = hrow8(src - ss, &k), h1 = hrow8(src, &k), h2 = hrow8(src + ss, &k);
    for (int j = 0; j < bh; j++) {
        const int16x8_t h3 = hrow8(src + (j + 2) * ss, &k);
        vst1_u8(dst + j * ds, vsum8(h0, h1, h2, h3, v));
        h0 = h1;
        h1 = h2;
        h2 = h3;
    }
}

static uint32_t nv_mc_sad16x16_neon(const uint8_t *a, ptrdiff_t as, const uint8_t *b,
                                    ptrdiff_t bs)
{
    uint16x8_t acc = vdupq_n_u16(0);
    for (int j = 0; j < 16; j++)
        acc = vpadalq_u8(acc, vabdq_u8(vld1q_u8(a + j * as), vld1q_u8(b + j * bs)));
    return vaddlvq_u16(acc);
}

/* The SAD of a 16 x 16 cur against the prediction (mcdsp.h's sadp). */
static uint32_t nv_mc_sadp_h16_neon(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src,
                                    ptrdiff_t ss, const int8_t *th, const int8_t *tv)
{
    (void)tv;
    return vaddlvq_u16(h16(NULL, 0, src, ss, 16, th, cur, cs));
}

static uint32_t nv_mc_sadp_v16_neon(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src,
                                    ptrdiff_t ss, const int8_t *th, const int8_t *tv)
{
    (void)th;
    return vaddlvq_u16(v16(NULL, 0, src, ss, 16, tv, cur, cs));
}

static uint32_t nv_mc_sadp_hv16_neon(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src,
                                     ptrdiff_t ss, const int8_t *th, const int8_t *tv)
{
    return vaddlvq_u16(hv16(NULL, 0, src, ss, 16, th, tv, cur, cs));
}

/* OBMC of a whole cell (mcdsp.h; ranges at the top).  wl[i] = 2n - 1 -
 * 2i, wr[i] = 2i + 1. */
static const uint8_t obmc_wl16[16] = { 31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1 };
static const uint8_t obmc_wr16[16] = { 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31 };
static const uint8_t obmc_wl8[8] = { 15, 13, 11, 9, 7, 5, 3, 1 };
static const uint8_t obmc_wr8[8] = { 1, 3, 5, 7, 9, 11, 13, 15 };

/* (wt * top + wb * bot + 512) >> 10 of 8 columns (32-bit sums, <= 255). */
ALWAYS_INLINE uint8x8_t obmc_round10(uint16x8_t top, uint16x8_t bot, uint16_t wt, uint16_t wb)
{
    uint32x4_t lo = vmull_n_u16(vget_low_u16(top), wt);
    lo = vmlal_n_u16(lo, vget_low_u16(bot), wb);
    uint32x4_t hi = vmull_high_n_u16(top, wt);
    hi = vmlal_high_n_u16(hi, bot, wb);
    return vmovn_u16(vrshrn_high_n_u32(vrshrn_n_u32(lo, 10), hi, 10));
}

static void nv_mc_obmc16_neon(uint8_t *o, ptrdiff_t os, const uint8_t *p0, const uint8_t *p1,
                              const uint8_t *p2, const uint8_t *p3, ptrdiff_t ps)
{
    const uint8x16_t wl = vld1q_u8(obmc_wl16), wr = vld1q_u8(obmc_wr16);
    for (int j = 0; j < 16; j++) {
        const ptrdiff_t k = j * ps;
        const uint8x16_t a = vld1q_u8(p0 + k), b = vld1q_u8(p1 + k);
        const uint8x16_t c = vld1q_u8(p2 + k), d = vld1q_u8(p3 + k);
        const uint16x8_t tl = vmlal_u8(vmull_u8(vget_low_u8(a), vget_low_u8(wl)), vget_low_u8(b),
                                       vget_low_u8(wr));
        const uint16x8_t bl = vmlal_u8(vmull_u8(vget_low_u8(c), vget_low_u8(wl)), vget_low_u8(d),
                                       vget_low_u8(wr));
        const uint16x8_t th = vmlal_high_u8(vmull_high_u8(a, wl), b, wr);
        const uint16x8_t bh = vmlal_high_u8(vmull_high_u8(c, wl), d, wr);
        const uint16_t wt = (uint16_t)(31 - 2 * j), wb = (uint16_t)(2 * j + 1);
        vst1q_u8(o + j * os, vcombine_u8(obmc_round10(tl, bl, wt, wb),
                                         obmc_round10(th, bh, wt, wb)));
    }
}

static void nv_mc_obmc8_neon(uint8_t *o, ptrdiff_t os, const uint8_t *p0, const uint8_t *p1,
                             const uint8_t *p2, const uint8_t *p3, ptrdiff_t ps)
{
    const uint8x8_t wl = vld1_u8(obmc_wl8), wr = vld1_u8(obmc_wr8);
    for (int j = 0; j < 8; j++) {
        const ptrdiff_t k = j * ps;
        const uint16x8_t top = vmlal_u8(vmull_u8(vld1_u8(p0 + k), wl), vld1_u8(p1 + k), wr);
        const uint16x8_t bot = vmlal_u8(vmull_u8(vld1_u8(p2 + k), wl), vld1_u8(p3 + k), wr);
        /* <= 256 * 255 = 65280: exact in 16-bit lanes. */
        const uint16x8_t s = vmlaq_n_u16(vmulq_n_u16(top, (uint16_t)(15 - 2 * j)), bot,
                                         (uint16_t)(2 * j + 1));
        vst1_u8(o + j * os, vrshrn_n_u16(s, 8));
    }
}

/* x6 rows (common/picture.h): pixel x is the three 2-byte units y0[2x ..
 * 2x + 1], y1[2x .. 2x + 1], (u[x], v[x]); 8 pixels are one ST3 / LD3 of
 * 16-bit lanes.  16 pixels per step, then 8, then the C kernel. */
static void nv_x6_pack_row_neon(const uint8_t *y0, const uint8_t *y1, const uint8_t *u,
                                const uint8_t *v, uint8_t *o, int w)
{
    int x = 0;
    for (; x + 16 <= w; x += 16, o += 16 * NV_X6_CHANNELS) {
        const uint8x16_t uu = vld1q_u8(u + x), vv = vld1q_u8(v + x);
        const uint16x8x3_t lo = { { vreinterpretq_u16_u8(vld1q_u8(y0 + 2 * x)),
                                    vreinterpretq_u16_u8(vld1q_u8(y1 + 2 * x)),
                                    vreinterpretq_u16_u8(vzip1q_u8(uu, vv)) } };
        const uint16x8x3_t hi = { { vreinterpretq_u16_u8(vld1q_u8(y0 + 2 * x + 16)),
                                    vreinterpretq_u16_u8(vld1q_u8(y1 + 2 * x + 16)),
                                    vreinterpretq_u16_u8(vzip2q_u8(uu, vv)) } };
        vst3q_u16((uint16_t *)(void *)o, lo);
        vst3q_u16((uint16_t *)(void *)(o + 8 * NV_X6_CHANNELS), hi);
    }
    if (x + 8 <= w) {
        const uint8x8_t uu = vld1_u8(u + x), vv = vld1_u8(v + x);
        const uint16x8x3_t s = { { vreinterpretq_u16_u8(vld1q_u8(y0 + 2 * x)),
                                   vreinterpretq_u16_u8(vld1q_u8(y1 + 2 * x)),
                                   vreinterpretq_u16_u8(vcombine_u8(vzip1_u8(uu, vv),
                                                                    vzip2_u8(uu, vv))) } };
        vst3q_u16((uint16_t *)(void *)o, s);
        x += 8;
        o += 8 * NV_X6_CHANNELS;
    }
    nv_x6_pack_row_c(y0 + 2 * x, y1 + 2 * x, u + x, v + x, o, w - x);
}

static void nv_x6_unpack_row_neon(const uint8_t *s, uint8_t *y0, uint8_t *y1, uint8_t *u,
                                  uint8_t *v, int w)
{
    int x = 0;
    for (; x + 16 <= w; x += 16, s += 16 * NV_X6_CHANNELS) {
        const uint16x8x3_t lo = vld3q_u16((const uint16_t *)(const void *)s);
        const uint16x8x3_t hi = vld3q_u16((const uint16_t *)(const void *)(s + 8 * NV_X6_CHANNELS));
        vst1q_u8(y0 + 2 * x, vreinterpretq_u8_u16(lo.val[0]));
        vst1q_u8(y0 + 2 * x + 16, vreinterpretq_u8_u16(hi.val[0]));
        vst1q_u8(y1 + 2 * x, vreinterpretq_u8_u16(lo.val[1]));
        vst1q_u8(y1 + 2 * x + 16, vreinterpretq_u8_u16(hi.val[1]));
        const uint8x16_t uv0 = vreinterpretq_u8_u16(lo.val[2]);
        const uint8x16_t uv1 = vreinterpretq_u8_u16(hi.val[2]);
        vst1q_u8(u + x, vuzp1q_u8(uv0, uv1));
        vst1q_u8(v + x, vuzp2q_u8(uv0, uv1));
    }
    if (x + 8 <= w) {
        const uint16x8x3_t t = vld3q_u16((const uint16_t *)(const void *)s);
        vst1q_u8(y0 + 2 * x, vreinterpretq_u8_u16(t.val[0]));
        vst1q_u8(y1 + 2 * x, vreinterpretq_u8_u16(t.val[1]));
        const uint8x8x2_t uv = vuzp_u8(vget_low_u8(vreinterpretq_u8_u16(t.val[2])),
                                       vget_high_u8(vreinterpretq_u8_u16(t.val[2])));
        vst1_u8(u + x, uv.val[0]);
        vst1_u8(v + x, uv.val[1]);
        x += 8;
        s += 8 * NV_X6_CHANNELS;
    }
    nv_x6_unpack_row_c(s, y0 + 2 * x, y1 + 2 * x, u + x, v + x, w - x);
}

void nv_mcdsp_init_arm_neon(nv_mcdsp *d)
{
    d->put_h[0] = nv_mc_put_h8_neon;
    d->put_h[1] = nv_mc_put_h16_neon;
    d->put_v[0] = nv_mc_put_v8_neon;
    d->put_v[1] = nv_mc_put_v16_neon;
    d->put_hv[0] = nv_mc_put_hv8_neon;
    d->put_hv[1] = nv_mc_put_hv16_neon;
    d->sad16 = nv_mc_sad16x16_neon;
    d->sadp[0] = nv_mc_sadp_h16_neon;
    d->sadp[1] = nv_mc_sadp_v16_neon;
    d->sadp[2] = nv_mc_sadp_hv16_neon;
    d->obmc[0] = nv_mc_obmc8_neon;
    d->obmc[1] = nv_mc_obmc16_neon;
    d->x6_pack_row = nv_x6_pack_row_neon;
    d->x6_unpack_row = nv_x6_unpack_row_neon;
    d->name = "nv_mc_neon";
}
