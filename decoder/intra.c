/*
 * Intra frames, decoder half (decoder/intra.h).
 */
#include "decoder/intra.h"
#include "common/errmsg.h"
#include "common/mcdsp.h"
#include "common/params.h"
#include "netlib/dsp.h"
#include "netlib/opencl/opencl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

int nv_intra_open(nv_intra *c, const nv_model *m, int w, int h, int encoder, int cpu, int threads,
                  char *err, size_t errlen)
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
    c->prof_encoder = encoder;
    c->w = w;
    c->h = h;
    c->wp = nv_padded_size(w);
    c->hp = nv_padded_size(h);
    c->nbands = c->hp / NV_PAD;
    const nl_dsp *dsp = nl_dsp_default();       /* auto: NEUVC_CPU in the environment, else the best */
    c->dsp = *dsp;
    if (cpu != NEUVC_CPU_AUTO) {
        if (nl_dsp_init_cpu(&c->dsp, cpu) < 0) {
            if (cpu == NEUVC_CPU_OPENCL)
                ret = nv_fail(err, errlen, NEUVC_ERR(ENOSYS), "cpu backend 'opencl': %s",
                              nl_cl_describe());
            else
                ret = nv_fail(err, errlen, NEUVC_ERR(ENOSYS),
                              "cpu backend '%s' is not available on this CPU or in this build",
                              nv_cpu_name((NeuvcCpu)cpu));
            goto fail;
        }
        dsp = &c->dsp;
    }
    c->opencl = dsp->opencl;
    if ((ret = nv_nets_open(&c->nets, m, c->wp, c->hp, encoder, dsp, err, errlen)) < 0)
        goto fail;
    if ((ret = nv_pool_new(&c->pool, threads)) < 0) {
        nv_fail(err, errlen, ret, "cannot start %d threads", threads);
        goto fail;
    }
    nv_nets_set_pool(&c->nets, c->pool);
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

uint64_t nv_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void profile_print(const nv_intra *c)
{
    const char *env = getenv("NEUVC_PROFILE");
    if (!env || strcmp(env, "1") || c->prof_frames < 1)
        return;
    const nv_nets *n = &c->nets;
    const nl_graph_exec *all[] = { n->analysis, n->hyper_analysis, n->hyper_synthesis,
                                   n->synthesis, n->pred, n->inter_analysis,
                                   n->inter_hyper_analysis, n->inter_hyper_synthesis,
                                   n->inter_synthesis };
    uint64_t net = 0;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        net += nl_graph_exec_run_ns(all[i]);
    const double f = 1e-6 / c->prof_frames;
    fprintf(stderr, "neuvc-profile: %s %d frames, %d threads, %s kernels: networks %.2f ms, "
            "motion %.2f ms, entropy %.2f ms per frame\n", c->prof_encoder ? "encoder" : "decoder",
            c->prof_frames, nv_pool_threads(c->pool), nl_dsp_level_name(&c->dsp), net * f,
            c->prof_motion_ns * f, c->prof_entropy_ns * f);
}

void nv_intra_close(nv_intra *c)
{
    if (!c)
        return;
    profile_print(c);
    nv_nets_close(&c->nets);
    nv_pool_free(&c->pool);
    free(c->yq.data);
    free(c->z.data);
    nv_picture_free(&c->recon);
    memset(c, 0, sizeof(*c));
}

typedef struct requant_job {
    const nl_dsp *dsp;
    const nl_requant *rq;
    const nl_tensor *src;
    nl_tensor *dst;
    int n;
} requant_job;

static void requant_band(void *arg, int job, int thread)
{
    const requant_job *j = arg;
    const int h = j->dst->h;
    (void)thread;
    j->dsp->requant(j->rq, j->src, j->dst, job * h / j->n, (job + 1) * h / j->n);
}

void nv_intra_requant(nv_intra *c, const nl_requant *rq, const nl_tensor *src, nl_tensor *dst)
{
    requant_job j = { &c->dsp, rq, src, dst, nv_pool_threads(c->pool) };
    if (j.n > dst->h)
        j.n = dst->h;
    nv_pool_run(c->pool, requant_band, &j, j.n);
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
    c->prof_frames++;
    nv_model_requant(c->m, qp, 1, &rq);
    nv_intra_requant(c, &rq, &c->yq, &c->yq);
    int ret = nl_graph_run(c->nets.synthesis, &c->yq, &x6, NULL);
    if (ret < 0)
        return ret;
    nv_x6_unpack_pool(c->pool, nv_mcdsp_get(c->dsp.flags), &x6, &c->recon);
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
    uint64_t t0 = nv_now_ns();
    rc_dec_init(&d, buf, size);
    int ret = nv_latent_dec_z(&d, &c->z, t);
    if (ret == 0)
        ret = rc_dec_finish(&d);
    c->prof_entropy_ns += nv_now_ns() - t0;
    if (ret < 0)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "corrupt or truncated hyper-latent sub-stream (%zu bytes)", size);
    return 0;
}

/* Bands are independent sub-streams: one pool job each.  The first
 * failing band (in band order) is reported, whatever the thread count. */
typedef struct band_job {
    nv_intra *c;
    const nvc_frame_header *fh;
    int first;
    const nl_tensor *mu, *sidx;
    int ret[NVC_MAX_SUBSTREAMS];
} band_job;

static void dec_band(void *arg, int j, int thread)
{
    band_job *b = arg;
    nv_intra *c = b->c;
    rc_dec d;
    int y0 = j * NV_BAND_ROWS;
    int y1 = y0 + NV_BAND_ROWS < c->yq.h ? y0 + NV_BAND_ROWS : c->yq.h;
    (void)thread;
    rc_dec_init(&d, b->fh->substream[b->first + j], b->fh->substream_size[b->first + j]);
    int ret = nv_latent_dec_band(&d, &c->yq, b->mu, b->sidx, y0, y1, &c->m->y_tab);
    if (ret == 0)
        ret = rc_dec_finish(&d);
    b->ret[j] = ret;
}

int nv_dec_latent_bands(nv_intra *c, const nvc_frame_header *fh, int first, const nl_tensor *mu,
                        const nl_tensor *sidx, char *err, size_t errlen)
{
    band_job b = { .c = c, .fh = fh, .first = first, .mu = mu, .sidx = sidx };
    uint64_t t0 = nv_now_ns();
    nv_pool_run(c->pool, dec_band, &b, c->nbands);
    c->prof_entropy_ns += nv_now_ns() - t0;
    for (int j = 0; j < c->nbands; j++)
        if (b.ret[j] < 0)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                              "corrupt or truncated latent band %d (%zu bytes)", j,
                              fh->substream_size[first + j]);
    return 0;
}
