/*
 * Vector field coding (entropy/mv.h, docs/motion.md "Vector coding").
 */
#include "entropy/mv.h"

#include "entropy/cdf.h"
#include "neuvc/neuvc.h"

/* Initial models (docs/motion.md): P(nz == 0) * 2^15 per context, and the
 * class tables as rc_cdf_from_counts of these counts (both contexts). */
static const uint16_t nz_init_p0[NV_MV_CTXS] = { 24576, 12288 };
static const uint32_t cls_init_counts[NV_MV_CLASSES] = { 10, 10, 10, 8, 6, 4, 3, 2, 1, 1, 1 };
static const uint32_t cls_nz_init_counts[NV_MV_CLASSES - 1] = { 10, 10, 8, 6, 4, 3, 2, 1, 1, 1 };

void nv_mv_models_init(nv_mv_models *m)
{
    uint16_t cls[NV_MV_CLASSES + 1], cls_nz[NV_MV_CLASSES];

    /* Constant counts and valid sizes: these calls cannot fail. */
    rc_cdf_from_counts(cls, cls_init_counts, NV_MV_CLASSES);
    rc_cdf_from_counts(cls_nz, cls_nz_init_counts, NV_MV_CLASSES - 1);
    for (int c = 0; c < NV_MV_CTXS; c++) {
        rc_bin_init_p0(&m->nz[c], nz_init_p0[c]);
        rc_adapt_init_cdf(&m->cls_x[c], cls, NV_MV_CLASSES);
        rc_adapt_init_cdf(&m->cls_y[c], cls, NV_MV_CLASSES);
        rc_adapt_init_cdf(&m->cls_y_nz[c], cls_nz, NV_MV_CLASSES - 1);
    }
}

static inline int median3(int a, int b, int c)
{
    int lo = a < b ? a : b, hi = a < b ? b : a;
    return c < lo ? lo : c > hi ? hi : c;
}

void nv_mv_predict(const nv_mv *mvs, ptrdiff_t mv_stride, int wb, int bx, int by,
                   nv_mv *pred, int *ctx)
{
    const nv_mv zero = { 0, 0 };
    const nv_mv *row = mvs + (ptrdiff_t)by * mv_stride;
    nv_mv l = bx > 0 ? row[bx - 1] : zero;
    nv_mv t = zero, tr = zero;

    if (by > 0) {
        const nv_mv *up = row - mv_stride;
        t = up[bx];
        if (bx + 1 < wb)
            tr = up[bx + 1];
        else if (bx > 0)
            tr = up[bx - 1];                        /* top-left at the right edge */
    }
    if (by == 0) {
        /* First row: the left vector ((0, 0) at the left edge). */
        *pred = l;
    } else {
        /* Medians of in-range components are in range. */
        pred->x = (int16_t)median3(l.x, t.x, tr.x);
        pred->y = (int16_t)median3(l.y, t.y, tr.y);
    }
    *ctx = !(l.x == t.x && l.y == t.y && t.x == tr.x && t.y == tr.y);
}

static inline int mv_in_range(int v)
{
    return v >= NV_MV_MIN && v <= NV_MV_MAX;
}

/* Offset bits and sign of a nonzero component of class k >= 1. */
static void enc_mag(rc_enc *e, int d, int k)
{
    unsigned a = d < 0 ? 0u - (unsigned)d : (unsigned)d;

    rc_enc_bits(e, a - (1u << (k - 1)), k - 1);     /* k - 1 <= 9 bits */
    rc_enc_bits(e, d < 0, 1);
}

static int dec_mag(rc_dec *d, int k)
{
    int a = (1 << (k - 1)) + (int)rc_dec_bits(d, k - 1);   /* [2^(k-1), 2^k - 1] */

    return rc_dec_bits(d, 1) ? -a : a;
}

int nv_mv_encode_field(rc_enc *e, const nv_mv *mvs, ptrdiff_t mv_stride, int wb, int hb)
{
    nv_mv_models m;
    int all_zero = 1;

    if (wb < 1 || hb < 1 || wb > NV_MV_FIELD_MAX || hb > NV_MV_FIELD_MAX || mv_stride < wb)
        return NEUVC_ERR(EINVAL);
    for (int by = 0; by < hb; by++)
        for (int bx = 0; bx < wb; bx++) {
            nv_mv v = mvs[by * mv_stride + bx];
            if (!mv_in_range(v.x) || !mv_in_range(v.y))
                return NEUVC_ERR(ERANGE);
            all_zero &= v.x == 0 && v.y == 0;
        }
    rc_enc_bits(e, (uint32_t)all_zero, 1);
    if (all_zero)
        return 0;
    nv_mv_models_init(&m);
    for (int by = 0; by < hb; by++)
        for (int bx = 0; bx < wb; bx++) {
            nv_mv v = mvs[by * mv_stride + bx], p;
            int ctx;
            nv_mv_predict(mvs, mv_stride, wb, bx, by, &p, &ctx);
            /* both in [-512, 511]: d in [-1023, 1023], classes <= 10 */
            int dx = v.x - p.x, dy = v.y - p.y;
            int kx = nv_mv_class(dx), ky = nv_mv_class(dy);

            rc_enc_bin(e, &m.nz[ctx], dx || dy);
            if (!dx && !dy)
                continue;
            rc_enc_adapt(e, &m.cls_x[ctx], kx);
            if (kx)
                rc_enc_adapt(e, &m.cls_y[ctx], ky);
            else
                rc_enc_adapt(e, &m.cls_y_nz[ctx], ky - 1);
            if (kx)
                enc_mag(e, dx, kx);
            if (ky)
                enc_mag(e, dy, ky);
        }
    return 0;
}

int nv_mv_decode_field(rc_dec *d, nv_mv *mvs, ptrdiff_t mv_stride, int wb, int hb)
{
    nv_mv_models m;
    int all_zero;

    if (wb < 1 || hb < 1 || wb > NV_MV_FIELD_MAX || hb > NV_MV_FIELD_MAX || mv_stride < wb)
        return NEUVC_ERR(EINVAL);
    all_zero = (int)rc_dec_bits(d, 1);
    nv_mv_models_init(&m);
    for (int by = 0; by < hb; by++)
        for (int bx = 0; bx < wb; bx++) {
            nv_mv p = { 0, 0 };
            int ctx, dx = 0, dy = 0;
            if (!all_zero) {
                nv_mv_predict(mvs, mv_stride, wb, bx, by, &p, &ctx);
                if (rc_dec_bin(d, &m.nz[ctx])) {
                    /* kx in [0, 10]; ky in [0, 10], and >= 1 when kx == 0 */
                    int kx = rc_dec_adapt(d, &m.cls_x[ctx]);
                    int ky = kx ? rc_dec_adapt(d, &m.cls_y[ctx])
                                : rc_dec_adapt(d, &m.cls_y_nz[ctx]) + 1;
                    if (kx)
                        dx = dec_mag(d, kx);
                    if (ky)
                        dy = dec_mag(d, ky);
                }
            }
            /* |p| <= 512 and |d| <= 1023: no overflow before the check. */
            int x = p.x + dx, y = p.y + dy;
            if (!mv_in_range(x) || !mv_in_range(y))
                goto fail;
            mvs[by * mv_stride + bx] = (nv_mv){ (int16_t)x, (int16_t)y };
        }
    return rc_dec_error(d);
fail:
    /* A failed field is all (0, 0): defined contents, all in range. */
    for (int by = 0; by < hb; by++)
        for (int bx = 0; bx < wb; bx++)
            mvs[by * mv_stride + bx] = (nv_mv){ 0, 0 };
    rc_dec_set_corrupt(d);
    return NEUVC_ERR_INVALIDDATA;
}

int nv_mv_write_substream(rc_enc *e, const nv_mv *mvs, ptrdiff_t mv_stride, int wb, int hb,
                          const uint8_t **data, size_t *size)
{
    int ret;

    rc_enc_reset(e);
    ret = nv_mv_encode_field(e, mvs, mv_stride, wb, hb);
    if (ret < 0)
        return ret;
    return rc_enc_finish(e, data, size);
}

int nv_mv_read_substream(const uint8_t *buf, size_t len, nv_mv *mvs, ptrdiff_t mv_stride,
                         int wb, int hb)
{
    rc_dec d;
    int ret;

    rc_dec_init(&d, buf, len);
    ret = nv_mv_decode_field(&d, mvs, mv_stride, wb, hb);
    if (ret < 0)
        return ret;
    return rc_dec_finish(&d);
}

static void costs_of_table(uint32_t *out, const rc_adapt *m, int first)
{
    for (int s = 0; s < m->n; s++)
        out[s + first] = rc_cdf_cost_q8(m->cdf, s);
}

void nv_mv_costs_init(nv_mv_costs *c, const nv_mv_models *m)
{
    nv_mv_models init;

    if (!m) {
        nv_mv_models_init(&init);
        m = &init;
    }
    for (int x = 0; x < NV_MV_CTXS; x++) {
        c->nz[x][0] = rc_cost_q8(m->nz[x].p0);
        c->nz[x][1] = rc_cost_q8(RC_PROB_ONE - m->nz[x].p0);
        costs_of_table(c->cls_x[x], &m->cls_x[x], 0);
        costs_of_table(c->cls_y[x], &m->cls_y[x], 0);
        c->cls_y_nz[x][0] = 0;
        costs_of_table(c->cls_y_nz[x], &m->cls_y_nz[x], 1);
    }
}

uint32_t nv_mv_cost_q8(const nv_mv_costs *c, int ctx, int dx, int dy)
{
    int kx, ky;
    uint32_t bits;

    dx = dx < -NV_MV_DIFF_MAX ? -NV_MV_DIFF_MAX : dx > NV_MV_DIFF_MAX ? NV_MV_DIFF_MAX : dx;
    dy = dy < -NV_MV_DIFF_MAX ? -NV_MV_DIFF_MAX : dy > NV_MV_DIFF_MAX ? NV_MV_DIFF_MAX : dy;
    ctx = ctx ? 1 : 0;
    if (!dx && !dy)
        return c->nz[ctx][0];
    kx = nv_mv_class(dx);
    ky = nv_mv_class(dy);
    /* a component of class k > 0 adds k - 1 offset bits and a sign bit */
    bits = c->nz[ctx][1] + c->cls_x[ctx][kx] + (kx ? c->cls_y[ctx][ky] : c->cls_y_nz[ctx][ky]);
    return bits + 256u * (uint32_t)(kx + ky);
}
