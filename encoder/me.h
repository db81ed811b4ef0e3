/*
 * Block motion search of the encoder (docs/motion.md): one vector per
 * 16x16 luma block of the padded picture, against the previous
 * RECONSTRUCTED luma plane (what the decoder will have), minimising
 *
 *     J = SAD(block, nv_mc_pred_block(ref, mv)) + lambda * bits(mv - pred)
 *
 * with pred the predictor of entropy/mv.h (from the final vectors of the
 * blocks before in raster order) and bits the vector coder's cost
 * estimate (nv_mv_cost_q8).  Per block:
 *   1. candidates, at integer positions (rounded to the nearest sample):
 *      (0, 0), pred, the left, top and top-right vectors, and the
 *      co-located vector of a previous field when one is given;
 *   2. hexagon search (6 points at distance 2) from the best candidate,
 *      moving while a point improves, at most max_iter moves; then the 8
 *      neighbours at distance 1;
 *   3. unless the best SAD is already 0: the exact predictor (sub-sample)
 *      as one more candidate, then a diamond (4 points) at half-sample
 *      distance, moving at most twice, then the same at quarter-sample
 *      distance.  (An 8-point square at both steps found 0.01-0.05 dB
 *      better OBMC predictions on real clips for about 1.6x the time.)
 *   4. when prefer_sad > 0: the predictor, then (0, 0), replaces the best
 *      vector when its SAD is at most the best's SAD + prefer_sad (the
 *      first of the two that is already the best, or qualifies, ends
 *      this step).  SAD differences that small are mostly noise of the
 *      source and of the reference; the predictor costs almost no bits,
 *      and (0, 0) copies the reference without interpolation.
 * Integer positions stay within [NV_MV_MIN, NV_MV_MAX - 3] (multiples of
 * 4), all vectors within [NV_MV_MIN, NV_MV_MAX]: the search range is the
 * vector range.  Ties keep the earlier point (fixed order).
 *
 * Deterministic: integers only, no state kept between calls; the same
 * planes and parameters give the same field on every machine and for any
 * thread count.  With a pool, block rows run as a wavefront: row by
 * starts block bx once row by - 1 has finished block bx + 1, so every
 * block sees the final vectors of its left, top-left, top and top-right
 * neighbours, as in raster order.  A point a block already tried is not
 * tried again (it cannot win: only a strictly lower cost replaces the
 * best, which only falls), so the same field comes out faster.  No
 * allocation (the scratch, the tried points and the rows' progress are
 * on the stack, about 21 KiB).
 */
#ifndef NEUVC_ENCODER_ME_H
#define NEUVC_ENCODER_ME_H

#include <stddef.h>
#include <stdint.h>

#include "common/mc.h"
#include "entropy/mv.h"

#define NV_ME_MAX_ITER_DEFAULT 32   /* hexagon moves: up to 64 samples away */

typedef struct nv_me_params {
    uint32_t lambda_q8;      /* SAD per bit, in 1/256 (0: SAD only); <= 2^24 */
    int subpel;              /* 0: integer, 1: + half, 2: + quarter samples */
    int max_iter;            /* hexagon moves per block, >= 0 */
    uint32_t prefer_sad;     /* step 4's margin (0: no step 4); <= 65536 */
    struct nv_pool *pool;    /* threads for the rows (NULL: the caller's only) */
    const struct nv_mcdsp *mc; /* interpolation and SAD kernels (NULL: C); same result */
} nv_me_params;

/* lambda 4 SAD per bit, quarter samples, NV_ME_MAX_ITER_DEFAULT moves, no
 * step 4, no pool, C kernels. */
void nv_me_default_params(nv_me_params *p);

/* A rate weight for a quality index qp (clamped to 0..63), as x264
 * weighs vector bits against SAD: 2^((qp - 12) / 6) SAD per bit, in 1/256
 * (qp 12: 256, qp 30: 2048, qp 63: 92672).  Integer only. */
uint32_t nv_me_lambda_q8(int qp);

/* Searches the (w / 16) x (h / 16) field mvs (mv_stride >= w / 16) of the
 * w x h luma plane cur against ref (same size; w, h positive multiples of
 * 16, at most 65536).  prev: NULL or a field of the same shape
 * (prev_stride apart) whose vectors (clamped to the range) are extra
 * candidates, e.g. the previous frame's.  costs: the rate model (NULL:
 * the initial models of a field).  Returns 0 or NEUVC_ERR(EINVAL). */
int nv_me_search(nv_mv *mvs, ptrdiff_t mv_stride,
                 const uint8_t *cur, ptrdiff_t cur_stride,
                 const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                 const nv_mv *prev, ptrdiff_t prev_stride,
                 const nv_me_params *p, const nv_mv_costs *costs);

/* SAD of the 16x16 block at (x, y) of cur against its prediction from ref
 * with mv (the J of the search without the rate term); for tests and
 * decisions. */
uint32_t nv_me_block_sad(const uint8_t *cur, ptrdiff_t cur_stride,
                         const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                         int x, int y, nv_mv mv);

#endif
