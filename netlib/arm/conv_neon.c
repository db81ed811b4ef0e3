/*
 * Convolutions with plain NEON (baseline aarch64, for CPUs without the dot
 * product): 1x1 and 3x3, stride 1 and 2, u8 / s8 / s16 input, any output
 * type.  Layout, staging and packed weights: conv_arm.h (plain form).
 *
 * Inner product.  Every input is staged as s16 (u8 zero-extended, s8
 * sign-extended: exact) and weights are s16; SMLAL / SMLAL2 by lane add
 * the products of one staged sample with 8 channels' weights to two
 * int32x4 accumulators: 8 MACs per instruction pair, each product exact
 * (at most 4096 * 127 < 2^19).  Every partial sum is a partial sum of the
 * reference's, below 2^30 in magnitude (nl_conv_check); acc0 (the bias)
 * is added last, giving the reference's x, |x| < 2^31.  A tile is P
 * pixels x NV blocks of 8 channels, 2 * P * NV accumulators: (8 x 8) and
 * (4 x 16), with inputs and weights at most 25 of the 32 registers.
 * Requantization: nl_arm_requant4 (requant_neon.h).
 */
#include <arm_neon.h>

#include "netlib/conv_common.h"
#include "netlib/arm/conv_arm.h"
#include "netlib/arm/requant_neon.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#if defined(__clang__)
#define UNROLL _Pragma("clang loop unroll(full)")
#else
#define UNROLL _Pragma("GCC unroll 32")
#endif

#define MAXACC 16

/* One tile: P pixels (npix stored) x NV blocks of 8 channels from b0
 * (acc[2 * (p * NV + j) + h]: channels 4h .. 4h + 3 of block j). */
ALWAYS_INLINE void tile(const int P, const int NV, const nl_arm_conv *c,
                        const uint8_t *const *rows, ptrdiff_t ps, const uint8_t *w, int b0,
                        uint8_t *out, int npix)
{
    int32x4_t acc[MAXACC];
    UNROLL
    for (int i = 0; i < 2 * P * NV; i++)
        acc[i] = vdupq_n_s32(0);
    const int G = c->groups, k = c->k;
    const int16_t *wg = (const int16_t *)w;
    for (int ky = 0; ky < k; ky++) {
        const uint8_t *r = rows[ky];
        for (int g = 0; g < G; g++, r += 16) {
            int16x8_t x[8];
            UNROLL
            for (int p = 0; p < P; p++)
                x[p] = vld1q_s16((const int16_t *)(r + p * ps));
            /* Sub-step u: element u of the group. */
#define SUB(u)                                                                        \
            do {                                                                      \
                int16x8_t wv[2];                                                      \
                UNROLL                                                                \
                for (int j = 0; j < NV; j++)                                          \
                    wv[j] = vld1q_s16(wg + j * 8);                                    \
                wg += NV * 8;                                                         \
                UNROLL                                                                \
                for (int p = 0; p < P; p++) {                                         \
                    UNROLL                                                            \
                    for (int j = 0; j < NV; j++) {                                    \
                        int a = 2 * (p * NV + j);                                     \
                        acc[a] = vmlal_laneq_s16(acc[a], vget_low_s16(wv[j]), x[p], u); \
                        acc[a + 1] = vmlal_high_laneq_s16(acc[a + 1], wv[j], x[p], u); \
                    }                                                                 \
                }                                                                     \
            } while (0)
            SUB(0);
            SUB(1);
            SUB(2);
            SUB(3);
            SUB(4);
            SUB(5);
            SUB(6);
            SUB(7);
#undef SUB
        }
    }
    /* The epilogue loops over pixels with a run-time bound (npix): on a
     * copy, so that acc is only ever indexed by constants above. */
    int32x4_t res[MAXACC];
    UNROLL
    for (int i = 0; i < 2 * P * NV; i++)
        res[i] = acc[i];
    const int32x4_t lo = vdupq_n_s32(c->lo), hi = vdupq_n_s32(c->hi);
    const int tail = c->cout - (c->nblk - 1) * 8; /* 1..8 channels in the last block */
    const ptrdiff_t opx = (ptrdiff_t)c->cout * c->oes;
    for (int j = 0; j < NV; j++) {
        const int blk = b0 + j;
        const int n = blk == c->nblk - 1 ? tail : 8;
        const int32x4_t a0 = vld1q_s32(c->acc0 + blk * 8), a1 = vld1q_s32(c->acc0 + blk * 8 + 4);
        const int32x4_t m0 = vld1q_s32(c->mult + blk * 8), m1 = vld1q_s32(c->mult + blk * 8 + 4);
        const int64_t *ns = c->nshift + blk * 8;
        const int64x2_t s0 = vld1q_s64(ns), s1 = vld1q_s64(ns + 2);
        const int64x2_t s2 = vld1q_s64(ns + 4), s3 = vld1q_s64(ns + 6);
        uint8_t *o = out + (ptrdiff_t)blk * 8 * c->oes;
        for (int p = 0; p < P; p++) {
            if (p >= npix)
                break;
            int a = 2 * (p * NV + j);
            int32x4_t v0 = nl_arm_requant4(vaddq_s32(res[a], a0), m0, s0, s1, lo, hi);
            int32x4_t v1 = nl_arm_requant4(vaddq_s32(res[a + 1], a1), m1, s2, s3, lo, hi);
            nl_arm_store8(o + p * opx, c->out_type, n, v0, v1);
        }
    }
}

static void nl_conv_tile_s16s16_8x8_neon(const nl_arm_conv *c, const uint8_t *const *rows,
                                         ptrdiff_t ps, const uint8_t *w, int b0, uint8_t *out,
                                         int npix)
{
    tile(8, 1, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_s16s16_4x16_neon(const nl_arm_conv *c, const uint8_t *const *rows,
                                          ptrdiff_t ps, const uint8_t *w, int b0, uint8_t *out,
                                          int npix)
{
    tile(4, 2, c, rows, ps, w, b0, out, npix);
}

static const nl_arm_tile_fn tiles[NL_ARM_MAX_NV + 1] = {
    NULL, nl_conv_tile_s16s16_8x8_neon, nl_conv_tile_s16s16_4x16_neon, NULL, NULL,
};
static const int tile_pix[NL_ARM_MAX_NV + 1] = { 0, 8, 4, 0, 0 };

static int pack(nl_conv_plan *p)
{
    return nl_arm_conv_pack(p, 0, tile_pix, 2);
}

/* Every table entry runs the shared driver with this file's tiles; the
 * entries' names (nl_dsp tables, checkasm) say type, op and ISA. */
static void conv_run(const nl_conv_plan *p, const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    nl_arm_conv_run(p, src, dst, y0, y1, tiles);
}

void nl_dsp_init_arm_neon(nl_dsp *d)
{
    static const nl_conv_kernel k1[NL_DSP_NIN] = {
        [NL_U8] = { "nl_conv1x1_u8s8_neon", pack, conv_run },
        [NL_S8] = { "nl_conv1x1_s8s8_neon", pack, conv_run },
        [NL_S16] = { "nl_conv1x1_s16s8_neon", pack, conv_run },
    };
    static const nl_conv_kernel k3[NL_DSP_NIN] = {
        [NL_U8] = { "nl_conv3x3_u8s8_neon", pack, conv_run },
        [NL_S8] = { "nl_conv3x3_s8s8_neon", pack, conv_run },
        [NL_S16] = { "nl_conv3x3_s16s8_neon", pack, conv_run },
    };
    nl_conv_install(d, k1, k3);
    nl_dsp_init_arm_neon_elem(d);
}
