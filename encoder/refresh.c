#include "encoder/refresh.h"
#include "common/errmsg.h"
#include "common/reach.h"
#include "decoder/inter.h"
#include "encoder/intra.h"

#include <stdlib.h>
#include <string.h>

#include <limits.h>

/* First affected luma row, NV_REACH_NONE passed through. */
static int first(const nl_graph *g, unsigned in, int scale, unsigned out, int line)
{
    int row;
    if (line == NV_REACH_NONE || nv_graph_first_affected(g, in, scale, out, line, &row, NULL) < 0)
        return line == NV_REACH_NONE ? NV_REACH_NONE : 0;
    return row;
}

static int min2(int a, int b)
{
    return a < b ? a : b;
}

int nv_refresh_init(nv_refresh *r, const nv_model *m, char *err, size_t errlen)
{
    if (!m->has_inter)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "intra refresh: the model has no inter part");
    r->pred = m->inter.pred;
    r->hyper_synthesis = m->inter.hyper_synthesis;
    r->synthesis = m->inter.synthesis;
    /* Every dependence the exact rows follow must be traceable. */
    static const struct { int g; unsigned in, out; int scale; } use[] = {
        { 0, 0, 0, 2 }, { 0, 0, 1, 2 }, { 1, 1, 0, NV_LATENT_STRIDE }, { 1, 1, 1, NV_LATENT_STRIDE },
        { 2, 0, 0, NV_LATENT_STRIDE }, { 2, 1, 0, NV_PT_STRIDE }, { 2, 2, 0, 2 },
    };
    for (size_t i = 0; i < sizeof(use) / sizeof(use[0]); i++) {
        const nl_graph *g = use[i].g == 0 ? r->pred : use[i].g == 1 ? r->hyper_synthesis
                                                                      : r->synthesis;
        int row;
        if (nv_graph_first_affected(g, use[i].in, use[i].scale, use[i].out, 1024, &row, NULL) < 0)
            return nv_fail(err, errlen, NEUVC_ERR(EINVAL),
                           "intra refresh: cannot follow the rows of graph %s", g->name);
    }
    return 0;
}

int nv_refresh_exact_rows(const nv_refresh *r, int y1, int hp)
{
    if (y1 >= hp)
        return hp;
    /* Prediction rows >= y1 may be wrong: follow them through the nets. */
    const int pt = first(r->pred, 0, 2, 0, y1);
    const int pf = first(r->pred, 0, 2, 1, y1);
    const int mu = min2(first(r->hyper_synthesis, 1, NV_LATENT_STRIDE, 0, pf),
                        first(r->hyper_synthesis, 1, NV_LATENT_STRIDE, 1, pf));
    /* A band's range coder reads all its rows in sequence. */
    const int yd = mu == NV_REACH_NONE ? NV_REACH_NONE : mu / NV_REFRESH_BAND * NV_REFRESH_BAND;
    int e = first(r->synthesis, 0, NV_LATENT_STRIDE, 0, yd);
    e = min2(e, first(r->synthesis, 1, NV_PT_STRIDE, 0, pt));
    e = min2(e, first(r->synthesis, 2, 2, 0, y1));
    return min2(e, hp);
}

int nv_refresh_guard(const nv_refresh *r)
{
    /* Band 0 of an unbounded picture: every band shifts it by 64 rows,
     * which all the prefixes of nv_refresh_exact_rows follow. */
    const int top = NV_REFRESH_BAND;
    int g = 0;
    while (g < NVC_REFRESH_MAX &&
           nv_refresh_exact_rows(r, top + g * NV_REFRESH_GUARD_UNIT, INT_MAX) <
                  top + NV_REFRESH_SLACK)
        g++;
    return g;
}

void nv_refresh_clamp_field(nv_mv *mvs, int wb, int hb, int band)
{
    const int a = band * NV_REFRESH_BAND;
    for (int b = 0; b < hb && 16 * b - 8 < a; b++) {
        /* Lowest output rows of the block's OBMC window inside [0, a). */
        const int lr = 16 * b + 23 < a - 1 ? 16 * b + 23 : a - 1;
        const int cr = 8 * b + 11 < a / 2 - 1 ? 8 * b + 11 : a / 2 - 1;
        /* Rows read: y + (mvy >> 2) - 1 .. + 2 (luma), y + (mvy >> 3) - 1 .. + 2 (chroma). */
        const int lim_l = 4 * (a + NV_REFRESH_SLACK - 3 - lr) + 3;
        const int lim_c = 8 * (a / 2 + NV_REFRESH_SLACK / 2 - 3 - cr) + 7;
        int lim = lim_l < lim_c ? lim_l : lim_c;
        lim = lim > NV_MV_MAX ? NV_MV_MAX : lim;
        for (int x = 0; x < wb; x++) {
            nv_mv *v = &mvs[(ptrdiff_t)b * wb + x];
            if (v->y > lim)
                v->y = (int16_t)lim;
        }
    }
}

int nv_refresh_strip_open(nv_refresh_strip *st, const nv_model *m, int wp, int hp, int guard,
                          int cpu, int threads, char *err, size_t errlen)
{
    int y0, y1, sh, ret;
    memset(st, 0, sizeof(*st));
    nv_refresh_rows(0, guard, hp, &y0, &y1, &sh);
    if ((ret = nv_intra_open(&st->c, m, wp, sh, 1, cpu, threads, err, errlen)) < 0)
        goto fail;
    st->x6_mem = malloc((size_t)wp * (size_t)sh / 4 * NV_X6_CHANNELS);
    if (!st->x6_mem || nv_picture_alloc(&st->src, wp, sh) < 0) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory for the refresh strip");
        goto fail;
    }
    st->x6 = (nl_tensor){ st->x6_mem, sh / 2, wp / 2, NV_X6_CHANNELS,
                          (ptrdiff_t)(wp / 2) * NV_X6_CHANNELS, NL_U8 };
    st->nsub = 1 + st->c.nbands;
    return 0;
fail:
    nv_refresh_strip_close(st);
    return ret;
}

void nv_refresh_strip_close(nv_refresh_strip *st)
{
    free(st->x6_mem);
    nv_picture_free(&st->src);
    nv_intra_close(&st->c);
    memset(st, 0, sizeof(*st));
}

int nv_refresh_strip_encode(nv_refresh_strip *st, const nv_picture *src, int y0, int y1,
                            rc_enc *rc, int qp, nvc_frame_header *sfh, char *err, size_t errlen)
{
    for (int pl = 0; pl < 3; pl++) {
        const int sh = pl ? 1 : 0;
        const int last = (y1 >> sh) - 1;
        for (int y = 0; y < st->c.hp >> sh; y++) {
            const int sy = (y0 >> sh) + y < last ? (y0 >> sh) + y : last;
            memcpy(st->src.data[pl] + (ptrdiff_t)y * st->src.stride[pl],
                   src->data[pl] + (ptrdiff_t)sy * src->stride[pl], (size_t)(st->c.wp >> sh));
        }
    }
    nv_x6_pack(&st->src, &st->x6);
    return nv_intra_encode(&st->c, rc, &st->x6, qp, sfh, err, errlen);
}
