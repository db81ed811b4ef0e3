/*
 * Motion compensation of docs/motion.md (normative): the 8-phase 4-tap
 * interpolation of a block, and the overlapped-block (OBMC) prediction of
 * a whole plane from one vector per block.  Integer only; the decoder's
 * output depends on every result here bit for bit.
 *
 * PLANES.  A plane is w x h samples (u8), rows stride bytes apart.  The
 * OBMC functions take the padded plane of docs/codec.md: w and h positive
 * multiples of the block size n (16 luma, 8 chroma), so the plane has
 * wb = w / n by hb = h / n blocks.  Reference samples outside the plane
 * are the nearest edge sample (coordinates clamped), for any vector.
 *
 * VECTORS.  nv_mv holds (x, y) in quarter luma samples; chroma reads the
 * same numbers as eighth chroma samples.  The normative range is
 * [NV_MV_MIN, NV_MV_MAX] per component (the decoder rejects others); the
 * functions here are memory-safe and follow the same formula for any
 * int16 vector.  A field is wb x hb vectors in raster order, row by
 * (mv_stride elements apart), mv_stride >= wb.
 *
 * RANGES (what the comments in mc.c rely on).  w, h <= 65536 (the
 * picture limit); |vector| <= 2^15 so every coordinate x + (mv >> 2) and
 * the clamped ones fit an int with room to spare.  The horizontal pass
 * gives h in [-10 * 255, 74 * 255] (negative taps of one phase add to at
 * least -10, positive ones to at most 74), which fits int16; the vertical
 * sum is at most 84 * 74 * 255 < 2^21 in magnitude, an int32.
 *
 * THREADS.  No global state; every function may run concurrently on
 * disjoint outputs.  No allocation anywhere: the scratch is on the stack
 * (about 2 KiB).
 */
#ifndef NEUVC_COMMON_MC_H
#define NEUVC_COMMON_MC_H

#include <stddef.h>
#include <stdint.h>

#include "common/picture.h"

#define NV_MV_MIN (-512)          /* smallest vector component (qpel) */
#define NV_MV_MAX 511             /* largest vector component (qpel) */
#define NV_MC_LUMA_BLOCK 16       /* block size n in luma samples */
#define NV_MC_CHROMA_BLOCK 8      /* block size n in chroma samples */
#define NV_MC_PHASES 8            /* filter phases (eighth samples) */
#define NV_MC_TAPS 4              /* taps at x - 1, x, x + 1, x + 2 */
#define NV_MC_MAX_PRED 32         /* largest bw, bh of nv_mc_pred_block */

/* One block vector in quarter luma samples (eighth chroma samples). */
typedef struct nv_mv {
    int16_t x, y;
} nv_mv;

/* The filter table of docs/motion.md: each row sums to 64. */
extern const int8_t nv_mc_taps[NV_MC_PHASES][NV_MC_TAPS];

/* The block size n of a plane: 16 for luma (chroma == 0), 8 for chroma. */
static inline int nv_mc_block_size(int chroma)
{
    return chroma ? NV_MC_CHROMA_BLOCK : NV_MC_LUMA_BLOCK;
}

/* Non-overlapped prediction of the bw x bh samples (1..NV_MC_MAX_PRED
 * each) whose top-left sample is (x, y) of the plane, with the vector
 * (mvx, mvy): dst[j][i] is the interpolated reference sample at
 * (x + i, y + j) displaced by the vector, as docs/motion.md defines it.
 * x, y may be anywhere in [-2^16, 2^16]; ref is the w x h plane (w, h in
 * [1, 65536]).  dst must not overlap ref.  This is what the search
 * compares against and what OBMC combines. */
void nv_mc_pred_block(uint8_t *dst, ptrdiff_t dst_stride,
                      const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                      int x, int y, int bw, int bh, int mvx, int mvy, int chroma);

/* The same with the kernels of a motion-compensation table (common/
 * mcdsp.h; the same bytes on every table).  nv_mc_pred_block and
 * nv_mc_obmc_rows use the C kernels. */
struct nv_mcdsp;
void nv_mc_pred_block_dsp(const struct nv_mcdsp *d, uint8_t *dst, ptrdiff_t dst_stride,
                          const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                          int x, int y, int bw, int bh, int mvx, int mvy, int chroma);
void nv_mc_obmc_rows_dsp(const struct nv_mcdsp *d, uint8_t *dst, ptrdiff_t dst_stride,
                         const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                         const nv_mv *mvs, ptrdiff_t mv_stride, int chroma, int y0, int y1);

/* The SAD of the 16 x 16 block cur (rows cur_stride apart) against the
 * luma prediction nv_mc_pred_block_dsp(d, .., x, y, 16, 16, mvx, mvy, 0)
 * gives (same ranges), without storing it: the motion search's measure. */
uint32_t nv_mc_sad16_pred_dsp(const struct nv_mcdsp *d, const uint8_t *cur, ptrdiff_t cur_stride,
                              const uint8_t *ref, ptrdiff_t ref_stride, int w, int h, int x,
                              int y, int mvx, int mvy);

/* Every block of the plane predicted with its own vector, no overlap
 * (a picture with block edges; for tests and analysis).  w, h positive
 * multiples of the block size, at most 65536. */
void nv_mc_pred_plane_blocks(uint8_t *dst, ptrdiff_t dst_stride,
                             const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                             const nv_mv *mvs, ptrdiff_t mv_stride, int chroma);

/* OBMC prediction of output rows [y0, y1) of the plane (0 <= y0 <= y1 <=
 * h, any rows: a thread may take any band); the rows outside are not
 * touched.  w, h positive multiples of the block size, at most 65536;
 * mvs is the wb x hb field.  dst must not overlap ref. */
void nv_mc_obmc_rows(uint8_t *dst, ptrdiff_t dst_stride,
                     const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                     const nv_mv *mvs, ptrdiff_t mv_stride, int chroma, int y0, int y1);

/* OBMC prediction of the whole plane: nv_mc_obmc_rows over [0, h). */
void nv_mc_obmc_plane(uint8_t *dst, ptrdiff_t dst_stride,
                      const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                      const nv_mv *mvs, ptrdiff_t mv_stride, int chroma);

/* The three planes of dst predicted from ref (same coded size, from
 * nv_picture_alloc) with the luma-grid field mvs ((width / 16) x
 * (height / 16) vectors), which both chroma planes use on their 8x8 grid. */
void nv_mc_obmc_picture(nv_picture *dst, const nv_picture *ref,
                        const nv_mv *mvs, ptrdiff_t mv_stride);

#endif
