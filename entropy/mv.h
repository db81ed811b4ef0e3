/*
 * Coding of the block vector field of an inter frame (docs/motion.md,
 * "Vector coding"): one range-coder sub-stream per field, adaptive models
 * that start from fixed tables at the start of every field, so a field
 * decodes with nothing but its own bytes.
 *
 * SYNTAX (the normative text is docs/motion.md):
 *   all_zero                       1 bypass bit; 1: every vector is (0, 0)
 *   if !all_zero, per block in raster order, with the predictor pred
 *   (the left vector in the first row, else the median of left, top and
 *   top-right) and the context ctx of nv_mv_predict, d = mv - pred:
 *     nz        binary, model nz[ctx]: d != (0, 0)
 *     if nz:
 *       cls_x   class of d.x, model cls_x[ctx] (NV_MV_CLASSES symbols)
 *       cls_y   class of d.y: model cls_y[ctx] when cls_x > 0; when
 *               cls_x == 0, d.y != 0 and model cls_y_nz[ctx] codes
 *               cls_y - 1 (NV_MV_CLASSES - 1 symbols)
 *       then for x, then y, when its class k > 0: k - 1 bypass bits of
 *       |d| - 2^(k-1), then 1 bypass bit of sign (1 = negative).
 * Class 0 is d = 0; class k in [1, 10] holds |d| in [2^(k-1), 2^k - 1],
 * so |d| <= NV_MV_DIFF_MAX (1023) covers every difference of two vectors
 * in [-512, 511].  The decoder rejects a vector pred + d outside that
 * range as invalid data.
 *
 * STATE.  Models live in nv_mv_models, set up by nv_mv_models_init at the
 * start of each field (the encode and decode functions do it).  No
 * allocation; no global state (the initial tables are constants).
 */
#ifndef NEUVC_ENTROPY_MV_H
#define NEUVC_ENTROPY_MV_H

#include <stddef.h>
#include <stdint.h>

#include "common/mc.h"
#include "entropy/adaptive.h"
#include "entropy/rangecoder.h"

#define NV_MV_CLASSES 11          /* magnitude classes 0..10 */
#define NV_MV_DIFF_MAX 1023       /* largest |d| per component */
#define NV_MV_CTXS 2              /* 0: the three neighbours agree; 1: not */
#define NV_MV_FIELD_MAX 4096      /* largest wb or hb (65536 / 16) */

typedef struct nv_mv_models {
    rc_bin nz[NV_MV_CTXS];                 /* P(d == (0, 0)) */
    rc_adapt cls_x[NV_MV_CTXS];            /* NV_MV_CLASSES symbols */
    rc_adapt cls_y[NV_MV_CTXS];            /* NV_MV_CLASSES symbols, d.x != 0 */
    rc_adapt cls_y_nz[NV_MV_CTXS];         /* NV_MV_CLASSES - 1 symbols, d.x == 0 */
} nv_mv_models;

/* Costs in 1/256 bit of every symbol of a models' state, for the motion
 * search's rate term.  Plain integers: cheap to evaluate per candidate. */
typedef struct nv_mv_costs {
    uint32_t nz[NV_MV_CTXS][2];
    uint32_t cls_x[NV_MV_CTXS][NV_MV_CLASSES];
    uint32_t cls_y[NV_MV_CTXS][NV_MV_CLASSES];
    uint32_t cls_y_nz[NV_MV_CTXS][NV_MV_CLASSES];  /* index = class; [0] unused */
} nv_mv_costs;

/* The models at the start of a field (the tables of docs/motion.md). */
void nv_mv_models_init(nv_mv_models *m);

/* The class of a difference component: 0 for 0, else floor(log2 |d|) + 1
 * (|d| <= NV_MV_DIFF_MAX gives [1, 10]). */
static inline int nv_mv_class(int d)
{
    unsigned a = d < 0 ? 0u - (unsigned)d : (unsigned)d;
    return a ? 32 - __builtin_clz(a) : 0;
}

/* The predictor and context of block (bx, by) of a field of width wb
 * (mv_stride >= wb), from the already-known vectors left, top and
 * top-right (top-left at the right edge); a missing neighbour is (0, 0).
 * pred is the left vector in the first row (by == 0; so (0, 0) for block
 * (0, 0)), elsewhere the component-wise median of the three; ctx is 0
 * when the three (after the substitutions) are equal, else 1, in every
 * row.  Reads only blocks before (bx, by) in raster order. */
void nv_mv_predict(const nv_mv *mvs, ptrdiff_t mv_stride, int wb, int bx, int by,
                   nv_mv *pred, int *ctx);

/* Codes the wb x hb field (1..NV_MV_FIELD_MAX each) into e, which the
 * caller has reset and will finish.  Returns 0; NEUVC_ERR(EINVAL) for bad
 * sizes, NEUVC_ERR(ERANGE) for a vector component outside [NV_MV_MIN,
 * NV_MV_MAX] (nothing more is coded then; the caller drops the stream). */
int nv_mv_encode_field(rc_enc *e, const nv_mv *mvs, ptrdiff_t mv_stride, int wb, int hb);

/* Decodes a field coded by nv_mv_encode_field from d.  Returns 0, or
 * NEUVC_ERR_INVALIDDATA (d marked corrupt) for a vector outside the range
 * or a stream that ran past its end (rc_dec_error); NEUVC_ERR(EINVAL) for
 * bad sizes.  After NEUVC_ERR_INVALIDDATA for an out-of-range vector the
 * field is all (0, 0); after an overrun it holds what was decoded (all in
 * range).  The caller runs rc_dec_finish when the sub-stream holds only
 * the field. */
int nv_mv_decode_field(rc_dec *d, nv_mv *mvs, ptrdiff_t mv_stride, int wb, int hb);

/* The field as one whole sub-stream: nv_mv_encode_field on a reset e, then
 * rc_enc_finish (*data, *size valid until e is reset or freed).  Returns
 * 0 or the error of either. */
int nv_mv_write_substream(rc_enc *e, const nv_mv *mvs, ptrdiff_t mv_stride, int wb, int hb,
                          const uint8_t **data, size_t *size);
/* Decodes a whole sub-stream buf[0 .. len) and checks its end with
 * rc_dec_finish: 0, or NEUVC_ERR_INVALIDDATA (or EINVAL for bad sizes). */
int nv_mv_read_substream(const uint8_t *buf, size_t len, nv_mv *mvs, ptrdiff_t mv_stride,
                         int wb, int hb);

/* Symbol costs of m (NULL: the initial models of a field). */
void nv_mv_costs_init(nv_mv_costs *c, const nv_mv_models *m);

/* Bits, in 1/256 bit, that coding the difference (dx, dy) (each in
 * [-NV_MV_DIFF_MAX, NV_MV_DIFF_MAX]; larger are priced as the largest)
 * in context ctx costs with the models priced in c: the search's rate
 * term.  An estimate: the coder adapts while the search does not. */
uint32_t nv_mv_cost_q8(const nv_mv_costs *c, int ctx, int dx, int dy);

#endif
