/*
 * Convolutions with the NEON dot product (ARMv8.2 SDOT; built with
 * +dotprod, called only when HWCAP_ASIMDDP is set): 1x1 and 3x3, stride
 * 1 and 2, u8 / s8 / s16 input, any output type.  Layout, staging and
 * packed weights: conv_arm.h (dot form).
 *
 * Inner product.  SDOT by lane adds, to each of 4 int32 lanes (4 output
 * channels), the dot product of that lane's 4 s8 weights with one group
 * of 4 staged s8 input samples: 16 MACs per instruction, exact (each
 * product at most 128 * 128, each sum of 4 below 2^16).  A tile is P
 * pixels x NV blocks of 4 channels, P * NV accumulators in registers:
 * (12 x 4), (8 x 8), (6 x 12), (4 x 16); with the P inputs and NV weights
 * at most 27 of the 32 vector registers.
 *
 * Ranges.  Every partial sum is a partial sum of the reference's (staged
 * u8 as x - 128 adds |sum (x - 128) w| <= 128 * 127 * taps < 2^29), so
 * below 2^30 + 2^29 in magnitude.  s16 input: the hi plane's sums are at
 * most 16 * 127 * taps; shifted left by 8 they are 256 * sum hi * w =
 * sum x * w - sum lo * w, at most 2^30 + 128 * 127 * 2047 < 2^31 with the
 * lo plane's partial sums added.  acc0 (bias, plus 128 * sum w for u8) is
 * added last: the total is bias + sum x * w, |.| < 2^31 (nl_conv_check),
 * the reference's x.  Requantization: nl_arm_requant4 (requant_neon.h).
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

#define MAXACC 20

/* One tile: P pixels (npix stored) x NV blocks of 4 channels from b0. */
ALWAYS_INLINE void tile(const int P, const int NV, const nl_arm_conv *c,
                        const uint8_t *const *rows, ptrdiff_t ps, const uint8_t *w, int b0,
                        uint8_t *out, int npix)
{
    int32x4_t acc[MAXACC];
    UNROLL
    for (int i = 0; i < P * NV; i++)
        acc[i] = vdupq_n_s32(0);
    const int G = c->groups, k = c->k;
    for (int pl = 0; pl < c->planes; pl++) {
        if (pl == 1) {
            /* s16: the hi plane's sums times 256, then the lo plane. */
            UNROLL
            for (int i = 0; i < P * NV; i++)
                acc[i] = vshlq_n_s32(acc[i], 8);
        }
        const int8_t *wg = (const int8_t *)w;
        for (int ky = 0; ky < k; ky++) {
            const int8_t *r = (const int8_t *)rows[pl * k + ky];
            for (int g = 0; g < G; g++, r += 16) {
                int8x16_t x[MAXACC];
                UNROLL
                for (int p = 0; p < P; p++)
                    x[p] = vld1q_s8(r + p * ps);
                /* Sub-group u: elements 4u .. 4u + 3 of the group. */
#define SUB(u)                                                                   \
                do {                                                             \
                    int8x16_t wv[NL_ARM_MAX_NV];                                 \
                    UNROLL                                                       \
                    for (int j = 0; j < NV; j++)                                 \
                        wv[j] = vld1q_s8(wg + j * 16);                           \
                    wg += NV * 16;                                               \
                    UNROLL                                                       \
                    for (int p = 0; p < P; p++) {                                \
                        UNROLL                                                   \
                        for (int j = 0; j < NV; j++)                             \
                            acc[p * NV + j] =                                    \
                                vdotq_laneq_s32(acc[p * NV + j], wv[j], x[p], u); \
                    }                                                            \
                } while (0)
                SUB(0);
                SUB(1);
                SUB(2);
                SUB(3);
#undef SUB
            }
        }
    }
    /* The epilogue loops over pixels with a run-time bound (npix): on a
     * copy, so that acc is only ever indexed by constants above. */
    int32x4_t res[MAXACC];
    UNROLL
    for (int i = 0; i < P * NV; i++)
        res[i] = acc[i];
    const int32x4_t lo = vdupq_n_s32(c->lo), hi = vdupq_n_s32(c->hi);
    const int tail = c->cout - (c->nblk - 1) * 4; /* 1..4 channels in the last block */
    const ptrdiff_t opx = (ptrdiff_t)c->cout * c->oes;
    for (int j = 0; j < NV; j++) {
        const int blk = b0 + j;
        const int n = blk == c->nblk - 1 ? tail : 4;
        const int32x4_t a0 = vld1q_s32(c->acc0 + blk * 4);
        const int32x4_t m = vld1q_s32(c->mult + blk * 4);
        const int64x2_t s0 = vld1q_s64(c->nshift + blk * 4);
        const int64x2_t s1 = vld1q_s64(c->nshift + blk * 4 + 2);
        uint8_t *o = out + (ptrdiff_t)blk * 4 * c->oes;
        for (int p = 0; p < P; p++) {
            if (p >= npix)
                break;
            int32x4_t v = nl_arm_requant4(vaddq_s32(res[p * NV + j], a0), m, s0, s1, lo, hi);
            nl_arm_store4(o + p * opx, c->out_type, n, v);
        }
    }
}

static void nl_conv_tile_s8s8_12x4_neondot(const nl_arm_conv *c, const uint8_t *const *rows,
                                           ptrdiff_t ps, const uint8_t *w, int b0, uint8_t *out,
                                           int npix)
{
    tile(12, 1, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_s8s8_8x8_neondot(const nl_arm_conv *c, const uint8_t *const *rows,
                                          ptrdiff_t ps, const uint8_t *w, int b0, uint8_t *out,
                                          int npix)
{
    tile(8, 2, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_s8s8_6x12_neondot(const nl_arm_conv *c, const uint8_t *const *rows,
                                           ptrdiff_t ps, const uint8_t *w, int b0, uint8_t *out,
                                           int npix)
{
    tile(6, 3, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_s8s8_4x16_neondot(const nl_arm_conv *c, const uint8_t *const *rows,
                                           ptrdiff_t ps, const uint8_t *w, int b0, uint8_t *out,
                                           int npix)
{
    tile(4, 4, c, rows, ps, w, b0, out, npix);
}

static const nl_arm_tile_fn tiles[NL_ARM_MAX_NV + 1] = {
    NULL, nl_conv_tile_s8s8_12x4_neondot, nl_conv_tile_s8s8_8x8_neondot,
    nl_conv_tile_s8s8_6x12_neondot, nl_conv_tile_s8s8_4x16_neondot,
};
static const int tile_pix[NL_ARM_MAX_NV + 1] = { 0, 12, 8, 6, 4 };

static int pack(nl_conv_plan *p)
{
    return nl_arm_conv_pack(p, 1, tile_pix, 4);
}

/* Every table entry runs the shared driver with this file's tiles; the
 * entries' names (nl_dsp tables, checkasm) say type, op and ISA. */
static void conv_run(const nl_conv_plan *p, const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    nl_arm_conv_run(p, src, dst, y0, y1, tiles);
}

void nl_dsp_init_arm_neondot(nl_dsp *d)
{
    static const nl_conv_kernel k1[NL_DSP_NIN] = {
        [NL_U8] = { "nl_conv1x1_u8s8_neondot", pack, conv_run },
        [NL_S8] = { "nl_conv1x1_s8s8_neondot", pack, conv_run },
        [NL_S16] = { "nl_conv1x1_s16s8_neondot", pack, conv_run },
    };
    static const nl_conv_kernel k3[NL_DSP_NIN] = {
        [NL_U8] = { "nl_conv3x3_u8s8_neondot", pack, conv_run },
        [NL_S8] = { "nl_conv3x3_s8s8_neondot", pack, conv_run },
        [NL_S16] = { "nl_conv3x3_s16s8_neondot", pack, conv_run },
    };
    nl_conv_install(d, k1, k3);
}
