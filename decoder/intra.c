/*
 * Intra frames, decoder half (decoder/intra.h).
 */
#include "decoder/intra.h"
#include "common/errmsg.h"
#include "common/params.h"
#include "netlib/dsp.h"
#include "netlib/opencl/opencl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entropy/latent.h"
#include "entropy/rangecoder.h"

/* An owned s16 tensor of h x w x ch. */
static int tensor_alloc(nl_tensor *t, int h, int w, int ch)
{
    /* h, w <= 4096 and ch <= NV_CHANNELS_LIMIT: below 2^37 bytes. */
    size_t bytes = (size_t)h * (size_t)w * (size_t)ch * sizeof(int16_t);
    t->data = malloc(bytes);
    if (!t->data)
        return NEUVC_ERR(ENOMEM);
    t->h = h;
    t->w = w;
    t->c = ch;
    t->stride = (ptrdiff_t)w * ch;
    t->type = NL_S16;
    return 0;
}

int nv_intra_open(nv_intra *c, const nv_model *m, int w, int h, int encoder, int cpu, char *err,
                  size_t errlen)
{
    int ret;
    memset(c, 0, sizeof(*c));
    if (w < 1 || w > NVC_DIM_MAX || h < 1 || h > NV_INTRA_MAX_HEIGHT) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ERANGE),
                         "picture size %dx%d outside 1..%d x 1..%d", w, h, NVC_DIM_MAX,
                         NV_INTRA_MAX_HEIGHT);
        goto fail;
    }
    c->m = m;
    c->w = w;
    c->h = h;
    c->wp = nv_padded_size(w);
    c->hp = nv_padded_size(h);
    c->nbands = c->hp / NV_PAD;
    nl_dsp table;
    const nl_dsp *dsp = nl_dsp_default();       /* auto: NEUVC_CPU in the environment, else the best */
    if (cpu != NEUVC_CPU_AUTO) {
        if (nl_dsp_init_cpu(&table, cpu) < 0) {
            if (cpu == NEUVC_CPU_OPENCL)
                ret = nv_fail(err, errlen, NEUVC_ERR(ENOSYS), "cpu backend 'opencl': %s",
                              nl_cl_describe());
            else
                ret = nv_fail(err, errlen, NEUVC_ERR(ENOSYS),
                              "cpu backend '%s' is not available on this CPU or in this build",
                              nv_cpu_name((NeuvcCpu)cpu));
            goto fail;
        }
        dsp = &table;
    }
    c->opencl = dsp->opencl;
    if ((ret = nv_nets_open(&c->nets, m, c->wp, c->hp, encoder, dsp, err, errlen)) < 0)
        goto fail;
    if ((ret = tensor_alloc(&c->yq, c->hp / NV_LATENT_STRIDE, c->wp / NV_LATENT_STRIDE,
                            m->cy)) < 0 ||
        (ret = tensor_alloc(&c->z, c->hp / NV_HYPER_STRIDE, c->wp / NV_HYPER_STRIDE,
                            m->cz)) < 0 ||
        (ret = nv_picture_alloc(&c->recon, c->wp, c->hp)) < 0) {
        nv_fail(err, errlen, ret, "out of memory for %dx%d pictures", w, h);
        goto fail;
    }
    return 0;
fail:
    nv_intra_close(c);
    return ret;
}

void nv_intra_close(nv_intra *c)
{
    if (!c)
        return;
    nv_nets_close(&c->nets);
    free(c->yq.data);
    free(c->z.data);
    nv_picture_free(&c->recon);
    memset(c, 0, sizeof(*c));
}

int nv_intra_hyper(nv_intra *c, const nl_tensor *z, nl_tensor *mu, nl_tensor *sidx)
{
    nl_tensor out[2];
    int ret = nl_graph_run(c->nets.hyper_synthesis, z, out, NULL);
    if (ret < 0)
        return ret;
    *mu = out[0];
    *sidx = out[1];
    return 0;
}

int nv_intra_reconstruct(nv_intra *c, int qp)
{
    nl_requant rq;
    nl_tensor x6;
    nv_model_requant(c->m, qp, 1, &rq);
    nl_requant_ref(&rq, &c->yq, &c->yq, 0, c->yq.h);
    int ret = nl_graph_run(c->nets.synthesis, &c->yq, &x6, NULL);
    if (ret < 0)
        return ret;
    nv_x6_unpack(&x6, &c->recon);
    return 0;
}

int nv_intra_decode(nv_intra *c, const nvc_frame_header *fh, char *err, size_t errlen)
{
    nl_tensor mu, sidx;
    int ret;

    if (fh->type != NEUVC_FRAME_I || fh->qp < 0 || fh->qp >= NV_QP_COUNT)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "not an intra frame");
    if (fh->num_substreams != 1 + c->nbands)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "intra frame of %d sub-streams, %d expected for height %d",
                          fh->num_substreams, 1 + c->nbands, c->h);
    if ((ret = nv_dec_latent_z(c, fh->substream[0], fh->substream_size[0], &c->m->z_tab, err,
                               errlen)) < 0)
        return ret;
    if ((ret = nv_intra_hyper(c, &c->z, &mu, &sidx)) < 0)
        return nv_fail(err, errlen, ret, "hyper-synthesis failed");
    if ((ret = nv_dec_latent_bands(c, fh, 1, &mu, &sidx, err, errlen)) < 0)
        return ret;
    if ((ret = nv_intra_reconstruct(c, fh->qp)) < 0)
        return nv_fail(err, errlen, ret, "synthesis failed");
    return 0;
}

int nv_dec_latent_z(nv_intra *c, const uint8_t *buf, size_t size, const nv_latent_tables *t,
                    char *err, size_t errlen)
{
    rc_dec d;
    rc_dec_init(&d, buf, size);
    int ret = nv_latent_dec_z(&d, &c->z, t);
    if (ret == 0)
        ret = rc_dec_finish(&d);
    if (ret < 0)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "corrupt or truncated hyper-latent sub-stream (%zu bytes)", size);
    return 0;
}

int nv_dec_latent_bands(nv_intra *c, const nvc_frame_header *fh, int first, const nl_tensor *mu,
                        const nl_tensor *sidx, char *err, size_t errlen)
{
    for (int j = 0; j < c->nbands; j++) {
        rc_dec d;
        int y0 = j * NV_BAND_ROWS;
        int y1 = y0 + NV_BAND_ROWS < c->yq.h ? y0 + NV_BAND_ROWS : c->yq.h;
        rc_dec_init(&d, fh->substream[first + j], fh->substream_size[first + j]);
        int ret = nv_latent_dec_band(&d, &c->yq, mu, sidx, y0, y1, &c->m->y_tab);
        if (ret == 0)
            ret = rc_dec_finish(&d);
        if (ret < 0)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                              "corrupt or truncated latent band %d (%zu bytes)", j,
                              fh->substream_size[first + j]);
    }
    return 0;
}
