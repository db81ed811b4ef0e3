/*
 * Inter frames, encoder half (encoder/inter.h).
 */
#include "encoder/inter.h"
#include "common/errmsg.h"
#include "common/mcdsp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "encoder/intra.h"
#include "encoder/refresh.h"
#include "entropy/latent.h"
#include "entropy/mv.h"

/* Motion decisions: the rate weight nv_me_lambda_q8(qp) times
 * NV_INTER_LAMBDA_MULT, and no preference margin (step 4 of encoder/me.h
 * off).  Measured with model neuvc-rt-0 (inter step 1111) on 32 frames
 * (IPPP..., one I frame) of seven 640x360 crops of the evaluation clips
 * (cups, highway, bbb, katie, webcam, park_joy 480x270 10 frames,
 * cockatoo), qp 22/28/34/40, BD-rate of the whole stream (bytes vs
 * PSNR-YUV) against lambda x1:
 *     lambda  x1/4   x1/2   x3/4   x1     x2     x4
 *     BD-rate +2.1%  -0.8%  -0.8%  0      +5.0%  +16.5%
 *     vectors 11.5%  8.8%   7.2%   6.2%   4.3%   2.8%  of all bytes;
 *     a margin of 32 / 96 / 256 SAD per 16x16 block: +0.7% / +3.4% /
 *     +12.2% at x1 (0.0% / +3.1% / +11.9% at x1/2).
 * So stronger rate weights, or snapping to (0, 0) and the predictor, save
 * vector bytes but cost more in the latents than they save: this inter
 * model codes a worse prediction at a higher price.  x1/2 .. x1 is flat;
 * x1 keeps the vector share lower. */
#define NV_INTER_LAMBDA_MULT 1u      /* times nv_me_lambda_q8(qp) (<= 2^24 / 92672) */
#define NV_INTER_PREFER_SAD 0u       /* step 4 margin of encoder/me.h */

void nv_inter_me_params(int qp, nv_me_params *p)
{
    nv_me_default_params(p);
    p->lambda_q8 = NV_INTER_LAMBDA_MULT * nv_me_lambda_q8(qp);
    p->prefer_sad = NV_INTER_PREFER_SAD;
}

int nv_inter_encode_analyse(nv_inter *p, const nv_picture *src, const nl_tensor *x6,
                            const nv_mv *prev, const nv_me_params *me, int refresh_band,
                            int const_y1, nl_tensor *y, char *err, size_t errlen)
{
    nv_intra *c = p->c;
    int ret;

    /* 1: the field (kept inside the clean rows of an intra refresh). */
    uint64_t t0 = nv_now_ns();
    nv_me_params me_pool = *me;
    me_pool.pool = c->pool;              /* rows as a wavefront: same field for any count */
    me_pool.mc = nv_mcdsp_get(c->dsp.flags); /* the cpu setting's kernels */
    ret = nv_me_search(p->mvs, p->wb, src->data[0], src->stride[0], c->recon.data[0],
                       c->recon.stride[0], c->wp, c->hp, prev, p->wb, &me_pool, NULL);
    c->prof_motion_ns += nv_now_ns() - t0;
    if (ret < 0)
        return nv_fail(err, errlen, ret, "motion search: invalid parameters");
    p->const_y0 = p->const_y1 = 0;
    if (refresh_band >= 0) {
        nv_refresh_clamp_field(p->mvs, p->wb, p->hb, refresh_band);
        p->const_y0 = refresh_band * NV_REFRESH_BAND;
        p->const_y1 = const_y1;
    }
    /* 2, 3: prediction. */
    if ((ret = nv_inter_predict(p)) < 0)
        return nv_fail(err, errlen, ret, "inter prediction: %s",
                              nl_graph_exec_error(c->nets.pred));
    /* 4: analysis. */
    const nl_tensor an_in[3] = { *x6, p->p6, p->pt };
    if ((ret = nl_graph_run(c->nets.inter_analysis, an_in, y, NULL)) < 0)
        return nv_fail(err, errlen, ret, "inter analysis: %s",
                              nl_graph_exec_error(c->nets.inter_analysis));
    return 0;
}

int nv_inter_encode_code(nv_inter *p, rc_enc *rc, const nl_tensor *y, int qp,
                         nvc_frame_header *fh, char *err, size_t errlen)
{
    nv_intra *c = p->c;
    nl_tensor z, mu, sidx;
    nl_requant rq;
    int ret;

    /* 1: sub-stream 0, the field. */
    rc_enc_reset(&rc[0]);
    if ((ret = nv_mv_encode_field(&rc[0], p->mvs, p->wb, p->wb, p->hb)) < 0)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "vector out of the coded range");
    /* 4: quantization into c->yq, hyper-analysis. */
    nv_model_requant_inter(c->m, qp, 0, &rq);
    nv_intra_requant(c, &rq, y, &c->yq);
    if ((ret = nl_graph_run(c->nets.inter_hyper_analysis, &c->yq, &z, NULL)) < 0)
        return nv_fail(err, errlen, ret, "inter hyper-analysis: %s",
                              nl_graph_exec_error(c->nets.inter_hyper_analysis));
    /* 5: z into sub-stream 1. */
    rc_enc_reset(&rc[1]);
    if ((ret = nv_latent_enc_z(&rc[1], &z, &c->m->inter.z_tab)) < 0)
        return nv_fail(err, errlen, ret, "hyper-latent out of the coded range");
    /* 6, 7: hyper-synthesis, then the bands of yq. */
    if ((ret = nv_inter_hyper(p, &z, &mu, &sidx)) < 0)
        return nv_fail(err, errlen, ret, "inter hyper-synthesis failed");
    nv_enc_deadzone(c, y, &rq, &mu, c->dz_inter);
    if ((ret = nv_enc_latent_bands(c, rc + 2, &mu, &sidx, err, errlen)) < 0)
        return ret;
    return nv_enc_finish_frame(rc, 2 + c->nbands, NEUVC_FRAME_P, qp, fh, err, errlen);
}

int nv_inter_encode(nv_inter *p, rc_enc *rc, const nv_picture *src, const nl_tensor *x6, int qp,
                    const nv_mv *prev, const nv_me_params *me, nvc_frame_header *fh, char *err,
                    size_t errlen)
{
    nl_tensor y;
    int ret;
    if ((ret = nv_inter_encode_analyse(p, src, x6, prev, me, -1, 0, &y, err, errlen)) < 0 ||
        (ret = nv_inter_encode_code(p, rc, &y, qp, fh, err, errlen)) < 0)
        return ret;
    /* 8: the decoder's reconstruction, over the reference. */
    if ((ret = nv_inter_reconstruct(p, qp)) < 0)
        return nv_fail(err, errlen, ret, "inter synthesis failed");
    return 0;
}
