#include "encoder/refresh.h"
#include "common/errmsg.h"
#include "common/reach.h"
#include "decoder/inter.h"

#include <limits.h>

static int floor_to(int v, int m)
{
    return v >= 0 ? v / m * m : -((-v + m - 1) / m * m);
}

int nv_refresh_init(nv_refresh *r, const nv_model *m, char *err, size_t errlen)
{
    const nv_model_inter *t = &m->inter;
    int s, ret = 0;
    /* A dependence that is absent (return 1) counts as reach 0. */
    if (!m->has_inter ||
        (ret = nv_graph_reach(t->pred, 0, 2, 0, &r->pred_pt, &s)) < 0 ||
        (ret = nv_graph_reach(t->pred, 0, 2, 1, &r->pred_pf, &s)) < 0 ||
        (ret = nv_graph_reach(t->hyper_synthesis, 1, NV_LATENT_STRIDE, 0, &r->hs_pf, &s)) < 0 ||
        (ret = nv_graph_reach(t->synthesis, 0, NV_LATENT_STRIDE, 0, &r->syn_yd, &s)) < 0 ||
        (ret = nv_graph_reach(t->synthesis, 1, NV_PT_STRIDE, 0, &r->syn_pt, &s)) < 0 ||
        (ret = nv_graph_reach(t->synthesis, 2, 2, 0, &r->syn_p6, &s)) < 0)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL),
                       "intra refresh: cannot bound the reach of the model's inter graphs");
    int sidx_reach;
    if ((ret = nv_graph_reach(t->hyper_synthesis, 1, NV_LATENT_STRIDE, 1, &sidx_reach, &s)) < 0)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL),
                       "intra refresh: cannot bound the reach of the model's inter graphs");
    if (sidx_reach > r->hs_pf)
        r->hs_pf = sidx_reach;
    return 0;
}

int nv_refresh_exact_rows(const nv_refresh *r, int band, int y1, int hp)
{
    if (y1 >= hp)
        return hp;
    /* Prefixes of rows that are right, input to output (see common/reach.h). */
    const int pf = floor_to(y1 - r->pred_pf, NV_LATENT_STRIDE);
    const int pt = floor_to(y1 - r->pred_pt, NV_PT_STRIDE);
    const int mu = floor_to(pf - r->hs_pf, NV_LATENT_STRIDE);
    const int yd = floor_to(mu, NV_REFRESH_BAND);
    int e = floor_to(yd - r->syn_yd, 2);
    const int e_pt = floor_to((pt < y1 ? pt : y1) - r->syn_pt, 2);
    const int e_p6 = floor_to(y1 - r->syn_p6, 2);
    e = e < e_pt ? e : e_pt;
    e = e < e_p6 ? e : e_p6;
    (void)band;
    return e;
}

int nv_refresh_guard(const nv_refresh *r)
{
    /* Band 0 of an unbounded picture: every band shifts it by 64 rows,
     * which all the prefixes of nv_refresh_exact_rows follow. */
    const int top = NV_REFRESH_BAND;
    int g = 0;
    while (g < NVC_REFRESH_MAX &&
           nv_refresh_exact_rows(r, 0, top + g * NV_REFRESH_GUARD_UNIT, INT_MAX) <
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
