/*
 * Inter frames, decoder half (decoder/inter.h).
 */
#include "decoder/inter.h"
#include "common/errmsg.h"
#include "common/mcdsp.h"

#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entropy/latent.h"
#include "entropy/mv.h"
#include "entropy/rangecoder.h"
#include "netlib/opencl/opencl.h"

int nv_inter_open(nv_inter *p, nv_intra *c, char *err, size_t errlen)
{
    int ret;
    memset(p, 0, sizeof(*p));
    if (!c->m || !c->m->has_inter || !c->nets.pred) {
        ret = nv_fail(err, errlen, NEUVC_ERR(EINVAL), "the model has no inter part");
        goto fail;
    }
    if (c->h > NV_INTER_MAX_HEIGHT) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ERANGE),
                         "height %d above the %d a P frame's sub-streams can cover", c->h,
                         NV_INTER_MAX_HEIGHT);
        goto fail;
    }
    p->c = c;
    /* wp, hp: multiples of 64 up to 65536, so wb, hb <= 4096 = NV_MV_FIELD_MAX. */
    p->wb = c->wp / NV_MC_LUMA_BLOCK;
    p->hb = c->hp / NV_MC_LUMA_BLOCK;
    p->mvs = calloc((size_t)p->wb * (size_t)p->hb, sizeof(*p->mvs));
    p->p6_mem = malloc((size_t)c->wp * (size_t)c->hp / 4 * NV_X6_CHANNELS);
    if (!p->mvs || !p->p6_mem || nv_picture_alloc(&p->pred, c->wp, c->hp) < 0) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory for %dx%d P frames",
                         c->w, c->h);
        goto fail;
    }
    p->p6 = (nl_tensor){ p->p6_mem, c->hp / 2, c->wp / 2, NV_X6_CHANNELS,
                         (ptrdiff_t)(c->wp / 2) * NV_X6_CHANNELS, NL_U8 };
    if (c->opencl && (ret = nl_cl_mc_new(&p->mc, c->wp, c->hp, err, errlen)) < 0)
        goto fail;
    p->lenient_band = INT_MAX;
    return 0;
fail:
    nv_inter_close(p);
    return ret;
}

void nv_inter_close(nv_inter *p)
{
    if (!p)
        return;
    nl_cl_mc_free(&p->mc);
    free(p->mvs);
    free(p->p6_mem);
    nv_picture_free(&p->pred);
    memset(p, 0, sizeof(*p));
}

/* OBMC on the pool: job j is band j % OBMC_BANDS of plane j / OBMC_BANDS
 * (nv_mc_obmc_rows computes any row range exactly as the whole plane). */
#define OBMC_BANDS 8

typedef struct obmc_job {
    nv_picture *dst;
    const nv_picture *ref;
    const nv_mv *mvs;
    ptrdiff_t mv_stride;
    const nv_mcdsp *mc;          /* the cpu setting's kernels */
} obmc_job;

static void obmc_band(void *arg, int job, int thread)
{
    const obmc_job *j = arg;
    const int pl = job / OBMC_BANDS, b = job % OBMC_BANDS, h = j->ref->height[pl];
    (void)thread;
    nv_mc_obmc_rows_dsp(j->mc, j->dst->data[pl], j->dst->stride[pl], j->ref->data[pl],
                        j->ref->stride[pl], j->ref->width[pl], h, j->mvs, j->mv_stride, pl > 0,
                        b * h / OBMC_BANDS, (b + 1) * h / OBMC_BANDS);
}

int nv_inter_predict(nv_inter *p)
{
    nl_tensor out[2];
    int ret;
    uint64_t t0 = nv_now_ns();
    if (p->mc && p->const_y1 <= p->const_y0) {
        /* OpenCL: OBMC and packing on the device (no refresh strip to
         * paste; frames with one take the CPU path below). */
        const nv_picture *r = &p->c->recon;
        const uint8_t *const planes[3] = { r->data[0], r->data[1], r->data[2] };
        const ptrdiff_t strides[3] = { r->stride[0], r->stride[1], r->stride[2] };
        _Static_assert(sizeof(nv_mv) == 2 * sizeof(int16_t), "nv_mv is an (x, y) int16 pair");
        if ((ret = nl_cl_mc_obmc_x6(p->mc, planes, strides, (const int16_t *)p->mvs, p->wb,
                                    &p->p6)) < 0)
            return ret;
        p->c->prof_motion_ns += nv_now_ns() - t0;
    } else {
        obmc_job oj = { &p->pred, &p->c->recon, p->mvs, p->wb, nv_mcdsp_get(p->c->dsp.flags) };
        nv_pool_run(p->c->pool, obmc_band, &oj, 3 * OBMC_BANDS);
        p->c->prof_motion_ns += nv_now_ns() - t0;
        if (p->const_y1 > p->const_y0) {
            const nv_picture *st = &p->strip->recon;
            for (int pl = 0; pl < 3; pl++) {
                const int sh = pl ? 1 : 0;
                const size_t w = (size_t)(p->c->wp >> sh);
                for (int y = p->const_y0 >> sh; y < p->const_y1 >> sh; y++)
                    memcpy(p->pred.data[pl] + (ptrdiff_t)y * p->pred.stride[pl],
                           st->data[pl] + (ptrdiff_t)(y - (p->const_y0 >> sh)) * st->stride[pl], w);
            }
        }
        nv_x6_pack_pool(p->c->pool, nv_mcdsp_get(p->c->dsp.flags), &p->pred, &p->p6);
    }
    ret = nl_graph_run(p->c->nets.pred, &p->p6, out, NULL);
    if (ret < 0)
        return ret;
    p->pt = out[0];
    p->pf = out[1];
    return 0;
}

int nv_inter_hyper(nv_inter *p, const nl_tensor *z, nl_tensor *mu, nl_tensor *sidx)
{
    nl_tensor in[2] = { *z, p->pf }, out[2];
    int ret = nl_graph_run(p->c->nets.inter_hyper_synthesis, in, out, NULL);
    if (ret < 0)
        return ret;
    *mu = out[0];
    *sidx = out[1];
    return 0;
}

int nv_inter_reconstruct(nv_inter *p, int qp)
{
    nv_intra *c = p->c;
    nl_requant rq;
    nl_tensor x6;
    c->prof_frames++;
    nv_model_requant_inter(c->m, qp, 1, &rq);
    nv_intra_requant(c, &rq, &c->yq, &c->yq);
    nl_tensor in[3] = { c->yq, p->pt, p->p6 };
    int ret = nl_graph_run(c->nets.inter_synthesis, in, &x6, NULL);
    if (ret < 0)
        return ret;
    nv_x6_unpack_pool(c->pool, nv_mcdsp_get(c->dsp.flags), &x6, &c->recon);
    return 0;
}

int nv_refresh_rows(int band, int guard, int hp, int *y0, int *y1, int *strip_h)
{
    if (band < 0 || guard < 0 || hp < NV_REFRESH_BAND || band >= (hp + NV_REFRESH_BAND - 1) / NV_REFRESH_BAND ||
        guard > hp / NV_REFRESH_GUARD_UNIT)
        return NEUVC_ERR_INVALIDDATA;
    const int end = (band + 1) * NV_REFRESH_BAND + guard * NV_REFRESH_GUARD_UNIT;
    *y0 = band * NV_REFRESH_BAND;
    *y1 = end < hp ? end : hp;
    *strip_h = (NV_REFRESH_BAND + guard * NV_REFRESH_GUARD_UNIT + NV_PAD - 1) / NV_PAD * NV_PAD;
    return 0;
}

/* The bands of yq, tolerating failures from band p->lenient_band on. */
static int inter_dec_bands(nv_inter *p, const nvc_frame_header *fh, const nl_tensor *mu,
                           const nl_tensor *sidx, char *err, size_t errlen)
{
    nv_intra *c = p->c;
    if (p->lenient_band >= c->nbands)
        return nv_dec_latent_bands(c, fh, 2, mu, sidx, err, errlen);
    for (int j = 0; j < c->nbands; j++) {
        rc_dec d;
        const int y0 = j * NV_BAND_ROWS;
        const int y1 = y0 + NV_BAND_ROWS < c->yq.h ? y0 + NV_BAND_ROWS : c->yq.h;
        rc_dec_init(&d, fh->substream[2 + j], fh->substream_size[2 + j]);
        int ret = nv_latent_dec_band(&d, &c->yq, mu, sidx, y0, y1, &c->m->y_tab);
        if (ret == 0)
            ret = rc_dec_finish(&d);
        if (ret < 0 && j < p->lenient_band)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                           "corrupt or truncated latent band %d (%zu bytes)", j,
                           fh->substream_size[2 + j]);
    }
    return 0;
}

int nv_inter_decode(nv_inter *p, const nvc_frame_header *fh, char *err, size_t errlen)
{
    nv_intra *c = p->c;
    nl_tensor mu, sidx;
    int ret;

    if (fh->type != NEUVC_FRAME_P || fh->qp < 0 || fh->qp >= NV_QP_COUNT)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "not a P frame");
    p->const_y0 = p->const_y1 = 0;
    int strip_h = 0, nstrip = 0;
    if ((fh->flags & NVC_FRAME_FLAG_INTRA_REFRESH) &&
        nv_refresh_rows(fh->refresh_band, fh->refresh_guard, c->hp, &p->const_y0, &p->const_y1,
                        &strip_h) < 0)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                       "intra refresh band %d, guard %d outside the %d coded rows",
                       fh->refresh_band, fh->refresh_guard, c->hp);
    if (strip_h) {
        if (!p->strip || p->strip->hp != strip_h || p->strip->wp != c->wp)
            return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "no refresh strip context of %dx%d",
                           c->wp, strip_h);
        nstrip = 1 + p->strip->nbands;
    }
    if (fh->num_substreams != 2 + c->nbands + nstrip)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "P frame of %d sub-streams, %d expected for height %d",
                          fh->num_substreams, 2 + c->nbands + nstrip, c->h);
    if (nstrip) {
        /* The strip: an intra picture in the last sub-streams. */
        nvc_frame_header sfh;
        memset(&sfh, 0, sizeof(sfh));
        sfh.type = NEUVC_FRAME_I;
        sfh.qp = fh->refresh_qp;
        sfh.num_substreams = nstrip;
        for (int i = 0; i < nstrip; i++) {
            sfh.substream[i] = fh->substream[2 + c->nbands + i];
            sfh.substream_size[i] = fh->substream_size[2 + c->nbands + i];
        }
        if ((ret = nv_intra_decode(p->strip, &sfh, err, errlen)) < 0)
            return ret;
    }
    /* Sub-stream 0: the field (every vector in range, or an error). */
    ret = nv_mv_read_substream(fh->substream[0], fh->substream_size[0], p->mvs, p->wb, p->wb,
                               p->hb);
    if (ret < 0)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "corrupt or truncated vector sub-stream (%zu bytes)",
                          fh->substream_size[0]);
    if ((ret = nv_inter_predict(p)) < 0)
        return nv_fail(err, errlen, ret, "inter prediction failed");
    /* Sub-stream 1: z; sub-streams 2..: the bands of yq. */
    if ((ret = nv_dec_latent_z(c, fh->substream[1], fh->substream_size[1], &c->m->inter.z_tab,
                               err, errlen)) < 0)
        return ret;
    if ((ret = nv_inter_hyper(p, &c->z, &mu, &sidx)) < 0)
        return nv_fail(err, errlen, ret, "inter hyper-synthesis failed");
    if ((ret = inter_dec_bands(p, fh, &mu, &sidx, err, errlen)) < 0)
        return ret;
    if ((ret = nv_inter_reconstruct(p, fh->qp)) < 0)
        return nv_fail(err, errlen, ret, "inter synthesis failed");
    return 0;
}
