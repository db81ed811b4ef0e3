/*
 * Motion-compensation kernels (docs/motion.md): a dispatch table filled
 * with the C kernels of common/mc.c first, then upgraded per CPU level
 * like netlib's (netlib/dsp.h), from the same nl_cpu_flags() bits, so the
 * codec's cpu setting chooses both.  Every kernel gives the C kernel's
 * bytes exactly (tests/test_checkasm.c checks each against it).
 *
 * The put kernels compute one block of a prediction, bw x bh samples
 * (bw = 8 << i for put_*[i], 1 <= bh <= NV_MC_MAX_PRED), from src at the
 * block's integer position (rows -1 .. bh + 1 and columns -1 .. bw + 1 of
 * it readable), with the 4-tap filters t / th, tv (rows of nv_mc_taps):
 *   put_h:  horizontal phase only, (sum t * s + 32) >> 6, clipped;
 *   put_v:  vertical phase only, the same down a column;
 *   put_hv: both; horizontal sums h (int16) of rows -1 .. bh + 1, then
 *           (sum tv * h + 2048) >> 12, clipped (mc.c has the ranges).
 * sad16: sum of |a - b| over a 16 x 16 block.
 * sadp[k]: the SAD of a 16 x 16 block cur (rows cs apart) against the
 *   prediction put_h[1] (k = 0, taps th), put_v[1] (k = 1, taps tv) or
 *   put_hv[1] (k = 2) would give for bh = 16 from src; the same reads.
 * obmc[i]: the OBMC weighted sum of one whole dual cell of n x n samples
 *   (n = 8 << i: [0] chroma, [1] luma; common/mc.c) from the four
 *   predictions p0..p3 (top-left, top-right, bottom-left, bottom-right
 *   vectors; n x n at stride ps, any of them may be the same buffer):
 *   o[j][i] = (wt * (wl * p0 + wr * p1) + wb * (wl * p2 + wr * p3) + 2n^2)
 *   >> log2(4n^2) with wl = 2n - 1 - 2i, wr = 2i + 1, wt = 2n - 1 - 2j,
 *   wb = 2j + 1.
 * x6_pack_row / x6_unpack_row: one row of the networks' x6 tensor from two
 * luma rows and a chroma row each, and back (common/picture.h); not motion
 * compensation, but per-picture byte kernels chosen with the same cpu
 * setting.
 */
#ifndef NEUVC_COMMON_MCDSP_H
#define NEUVC_COMMON_MCDSP_H

#include <stddef.h>
#include <stdint.h>

typedef void (*nv_mc_put1_fn)(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                              int bh, const int8_t *t);
typedef void (*nv_mc_put2_fn)(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                              int bh, const int8_t *th, const int8_t *tv);
typedef uint32_t (*nv_mc_sadp_fn)(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src,
                                  ptrdiff_t ss, const int8_t *th, const int8_t *tv);
typedef void (*nv_mc_obmc_fn)(uint8_t *o, ptrdiff_t os, const uint8_t *p0, const uint8_t *p1,
                              const uint8_t *p2, const uint8_t *p3, ptrdiff_t ps);
typedef uint32_t (*nv_mc_sad_fn)(const uint8_t *a, ptrdiff_t as, const uint8_t *b,
                                 ptrdiff_t bs);

typedef void (*nv_x6_pack_row_fn)(const uint8_t *y0, const uint8_t *y1, const uint8_t *u,
                                  const uint8_t *v, uint8_t *o, int w);
typedef void (*nv_x6_unpack_row_fn)(const uint8_t *s, uint8_t *y0, uint8_t *y1, uint8_t *u,
                                    uint8_t *v, int w);

typedef struct nv_mcdsp {
    unsigned flags;              /* the nl_cpu_flags() bits it was allowed to use */
    nv_mc_put1_fn put_h[2];      /* [0]: bw 8, [1]: bw 16 */
    nv_mc_put1_fn put_v[2];
    nv_mc_put2_fn put_hv[2];
    nv_mc_sad_fn sad16;
    nv_mc_sadp_fn sadp[3];       /* [0]: h, [1]: v, [2]: hv; 16 x 16 */
    nv_mc_obmc_fn obmc[2];       /* [0]: 8 x 8 (chroma), [1]: 16 x 16 (luma) */
    const char *name;            /* e.g. "nv_mc_avx2": the highest level used */
    nv_x6_pack_row_fn x6_pack_row;
    nv_x6_unpack_row_fn x6_unpack_row;
} nv_mcdsp;

/* Fills d with the C kernels, then every level in allowed & nl_cpu_flags()
 * (netlib/dsp.h's bits; a level needs the ones below it). */
void nv_mcdsp_init(nv_mcdsp *d, unsigned allowed);
/* The table for a set of allowed flags (e.g. an nl_dsp's flags), filled
 * once per process and level; read-only, thread-safe. */
const nv_mcdsp *nv_mcdsp_get(unsigned allowed);

/* C kernels (common/mc.c), the tables' first fill. */
void nv_mcdsp_init_c(nv_mcdsp *d);
/* x86 (netlib/x86/mc_avx2.c, mc_avx512.c); only when nl_cpu_flags() has
 * the level (AVX-512 upgrades an AVX2 table). */
void nv_mcdsp_init_x86_avx2(nv_mcdsp *d);
/* The x6 row kernels in AVX2 (netlib/x86/x6_avx2.c), same condition. */
void nv_mcdsp_init_x86_x6_avx2(nv_mcdsp *d);
void nv_mcdsp_init_x86_avx512(nv_mcdsp *d);
/* aarch64 NEON (netlib/arm/mc_neon.c): every kernel, x6 rows included;
 * only on aarch64 builds, when nl_cpu_flags() has NL_CPU_FLAG_NEON. */
void nv_mcdsp_init_arm_neon(nv_mcdsp *d);
/* AVX2 kernels that the AVX-512 ones use for an odd last row. */
void nv_mc_put_h16_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss, int bh,
                        const int8_t *t);
void nv_mc_put_hv16_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss, int bh,
                         const int8_t *th, const int8_t *tv);

#endif
