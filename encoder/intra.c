/*
 * Intra frames, encoder half (encoder/intra.h).
 */
#include "encoder/intra.h"
#include "common/errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "entropy/latent.h"

int nv_intra_encode_analyse(nv_intra *c, const nl_tensor *x6, nl_tensor *y, char *err,
                            size_t errlen)
{
    /* 1: analysis. */
    int ret = nl_graph_run(c->nets.analysis, x6, y, NULL);
    if (ret < 0)
        return nv_fail(err, errlen, ret, "analysis: %s", nl_graph_exec_error(c->nets.analysis));
    return 0;
}

int nv_intra_encode_code(nv_intra *c, rc_enc *rc, const nl_tensor *y, int qp,
                         nvc_frame_header *fh, char *err, size_t errlen)
{
    nl_tensor z, mu, sidx;
    nl_requant rq;
    int ret;

    /* 2: quantization into c->yq. */
    nv_model_requant(c->m, qp, 0, &rq);
    nv_intra_requant(c, &rq, y, &c->yq);
    /* 3, 4: hyper-analysis, z into sub-stream 0. */
    if ((ret = nl_graph_run(c->nets.hyper_analysis, &c->yq, &z, NULL)) < 0)
        return nv_fail(err, errlen, ret, "hyper-analysis: %s",
                              nl_graph_exec_error(c->nets.hyper_analysis));
    rc_enc_reset(&rc[0]);
    if ((ret = nv_latent_enc_z(&rc[0], &z, &c->m->z_tab)) < 0)
        return nv_fail(err, errlen, ret, "hyper-latent out of the coded range");
    /* 5, 6: hyper-synthesis, then the bands of yq. */
    if ((ret = nv_intra_hyper(c, &z, &mu, &sidx)) < 0)
        return nv_fail(err, errlen, ret, "hyper-synthesis failed");
    nv_enc_deadzone(c, y, &rq, &mu, c->dz_intra);
    if ((ret = nv_enc_latent_bands(c, rc + 1, &mu, &sidx, err, errlen)) < 0)
        return ret;
    /* 8: finish every sub-stream. */
    return nv_enc_finish_frame(rc, 1 + c->nbands, NEUVC_FRAME_I, qp, fh, err, errlen);
}

int nv_intra_encode(nv_intra *c, rc_enc *rc, const nl_tensor *x6, int qp,
                    nvc_frame_header *fh, char *err, size_t errlen)
{
    nl_tensor y;
    int ret;
    if ((ret = nv_intra_encode_analyse(c, x6, &y, err, errlen)) < 0 ||
        (ret = nv_intra_encode_code(c, rc, &y, qp, fh, err, errlen)) < 0)
        return ret;
    /* 7, 9, 10: the decoder's reconstruction. */
    if ((ret = nv_intra_reconstruct(c, qp)) < 0)
        return nv_fail(err, errlen, ret, "synthesis failed");
    return 0;
}

/* Bands are independent sub-streams (their number depends on the picture
 * height only): one pool job each, each with its own coder. */
typedef struct band_job {
    nv_intra *c;
    rc_enc *rc;
    const nl_tensor *mu, *sidx;
    int ret[NVC_MAX_SUBSTREAMS];
} band_job;

static void enc_band(void *arg, int j, int thread)
{
    band_job *b = arg;
    int y0 = j * NV_BAND_ROWS;
    (void)thread;
    /* The coder runs as a copy on this thread's stack: the coders lie side
     * by side in one array, and threads updating neighbours on every
     * symbol would fight over their shared cache lines. */
    rc_enc e = b->rc[j];
    rc_enc_reset(&e);
    b->ret[j] = nv_latent_enc_band(&e, &b->c->yq, b->mu, b->sidx, y0, y0 + NV_BAND_ROWS,
                                   &b->c->m->y_tab);
    b->rc[j] = e;
}

int nv_enc_latent_bands(nv_intra *c, rc_enc *rc, const nl_tensor *mu, const nl_tensor *sidx,
                        char *err, size_t errlen)
{
    band_job b = { .c = c, .rc = rc, .mu = mu, .sidx = sidx };
    uint64_t t0 = nv_now_ns();
    nv_pool_run(c->pool, enc_band, &b, c->nbands);
    c->prof_entropy_ns += nv_now_ns() - t0;
    for (int j = 0; j < c->nbands; j++)
        if (b.ret[j] < 0)
            return nv_fail(err, errlen, b.ret[j], "latent band %d out of the coded range", j);
    return 0;
}

int nv_enc_finish_frame(rc_enc *rc, int n, NeuvcFrameType type, int qp, nvc_frame_header *fh,
                        char *err, size_t errlen)
{
    memset(fh, 0, sizeof(*fh));
    fh->type = type;
    fh->qp = qp;
    fh->flags = 0;
    fh->num_substreams = n;
    for (int i = 0; i < n; i++) {
        const uint8_t *data;
        size_t size;
        int ret = rc_enc_finish(&rc[i], &data, &size);
        if (ret < 0)
            return nv_fail(err, errlen, ret, "sub-stream %d: %s", i,
                                  ret == NEUVC_ERR(ENOMEM) ? "out of memory" : "coding error");
        fh->substream[i] = data;
        fh->substream_size[i] = size;
    }
    return 0;
}

void nv_enc_deadzone(nv_intra *c, const nl_tensor *y, const nl_requant *rq, const nl_tensor *mu,
                     int dz)
{
    if (dz <= 0)
        return;
    const int ch = y->c;
    for (int r = 0; r < y->h; r++) {
        const int32_t *yr = (const int32_t *)y->data + (ptrdiff_t)r * y->stride;
        const int16_t *mr = (const int16_t *)mu->data + (ptrdiff_t)r * mu->stride;
        int16_t *qr = (int16_t *)c->yq.data + (ptrdiff_t)r * c->yq.stride;
        for (int i = 0; i < y->w * ch; i++) {
            const int k = i % ch;
            /* |y| < 2^31 and mult < 2^31: the product fits int64; beyond
             * +-2^56 the latent saturates anyway, so clamp there to keep
             * the 32x scaling exact and in range. */
            int64_t p = (int64_t)yr[i] * rq->mult[k];
            const int64_t lim = (int64_t)1 << 56;
            p = p > lim ? lim : p < -lim ? -lim : p;
            const int s = rq->shift[k];
            /* v32 = round(32 * v): the latent with 5 fractional bits. */
            const int64_t v32 = s >= 5 ? (s > 5 ? (p + ((int64_t)1 << (s - 6))) >> (s - 5) : p)
                                       : p * ((int64_t)1 << (5 - s));
            const int64_t d32 = v32 - 32 * (int64_t)mr[i];
            const int64_t a = d32 < 0 ? -d32 : d32;
            int64_t q = (a + 16 - dz) >> 5;
            int64_t v = mr[i] + (d32 < 0 ? -q : q);
            qr[i] = (int16_t)(v > NV_LATENT_MAX ? NV_LATENT_MAX : v < -NV_LATENT_MAX ? -NV_LATENT_MAX : v);
        }
    }
}
