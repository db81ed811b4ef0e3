/*
 * Model lookup and validation for the codec, and the executors of its
 * graphs (common/model.h).
 */
#include "common/model.h"
#include "common/errmsg.h"
#include "netlib/dsp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/picture.h"
#include "neuvc/neuvc.h"

/* The built-in model (build/gen/model_default.c, 64-byte aligned). */
extern const unsigned char nv_default_model[];
extern const size_t nv_default_model_size;

static const char *type_name(nl_type t)
{
    static const char *const names[NL_NTYPES] = { "u8", "s8", "s16", "s32" };
    return (unsigned)t < NL_NTYPES ? names[t] : "?";
}

/* One graph input or output: element type and channel count (c == 0 in
 * an output spec: any count, read back by the caller from the graph). */
typedef struct io_spec {
    nl_type type;
    int c;
} io_spec;

/* Looks up graph name with n_in inputs and n_out outputs of the given
 * types and channel counts. */
static int graph_get(const nv_model *m, const char *src, const char *name, const nl_graph **out,
                     int n_in, const io_spec *in, int n_out, const io_spec *outs, char *err,
                     size_t errlen)
{
    const nl_graph *g = nvm_find_graph(m->nvm, name);
    if (!g)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "%s: no graph '%s'", src, name);
    if (g->n_inputs != (uint32_t)n_in || g->n_outputs != (uint32_t)n_out)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "%s: graph '%s' has %u inputs and %u outputs, expected %d and %d", src,
                          name, (unsigned)g->n_inputs, (unsigned)g->n_outputs, n_in, n_out);
    for (int i = 0; i < n_in; i++)
        if (g->inputs[i].type != (uint32_t)in[i].type || g->inputs[i].c != (uint32_t)in[i].c)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                              "%s: graph '%s' input %d must be %s x %d", src, name, i,
                              type_name(in[i].type), in[i].c);
    for (int i = 0; i < n_out; i++) {
        const nl_graph_slot *s = &g->slots[g->outputs[i]];
        if (s->type != outs[i].type || (outs[i].c && s->c != outs[i].c) || s->c < 1 ||
            s->c > NV_CHANNELS_LIMIT)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                              "%s: graph '%s' output %d is %s x %d, expected %s x %d", src, name,
                              i, type_name(s->type), s->c, type_name(outs[i].type), outs[i].c);
    }
    *out = g;
    return 0;
}

/* sidx (output 1 of the hyper-synthesis g) must come out of an op whose
 * clamp keeps it in [0, nscales - 1]. */
static int sidx_range_check(const nv_model *m, const nl_graph *g, const char *src, char *err,
                            size_t errlen)
{
    int prod = g->slots[g->outputs[1]].producer;
    int32_t lo = -1, hi = INT32_MAX;
    if (prod >= 0) {
        const nl_graph_op *op = &g->ops[prod];
        switch (op->code) {
        case NL_OP_CONV: lo = op->attr[NL_CONV_LO]; hi = op->attr[NL_CONV_HI]; break;
        case NL_OP_REQUANT:
        case NL_OP_ADD: lo = op->attr[NL_RQ_LO]; hi = op->attr[NL_RQ_HI]; break;
        case NL_OP_CLAMP: lo = op->attr[NL_CLAMP_LO]; hi = op->attr[NL_CLAMP_HI]; break;
        default: break;
        }
    }
    if (lo < 0 || hi > m->nscales - 1)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "%s: sidx of '%s' is not clamped to 0..%d", src, g->name,
                          m->nscales - 1);
    return 0;
}

static int param_get(const nv_model *m, const char *src, const char *name, int64_t hi, int *out,
                     char *err, size_t errlen)
{
    int64_t v;
    int ret = nvm_get_param(m->nvm, name, 1, hi, &v);
    if (ret < 0)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "%s: parameter '%s' %s (1..%lld)", src, name,
                          ret == NEUVC_ERR(ENOENT) ? "missing" : "out of range", (long long)hi);
    *out = (int)v;
    return 0;
}

/* A [NV_QP_COUNT][cy] gain table pair, every row a valid requantization. */
static int gains_get(nv_model *m, const char *src, const char *mname, const char *sname,
                     const int32_t **mult, const uint8_t **shift, char *err, size_t errlen)
{
    const nvm_tensor *tm = nvm_find_tensor(m->nvm, mname, NVM_S32, 2, NV_QP_COUNT, m->cy);
    const nvm_tensor *ts = nvm_find_tensor(m->nvm, sname, NVM_U8, 2, NV_QP_COUNT, m->cy);
    if (!tm || !ts)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "%s: tensors '%s' s32 and '%s' u8 [%d][%d] required", src, mname, sname,
                          NV_QP_COUNT, m->cy);
    *mult = tm->data;
    *shift = ts->data;
    for (int qp = 0; qp < NV_QP_COUNT; qp++) {
        nl_requant rq = { NULL, *mult + (size_t)qp * m->cy, *shift + (size_t)qp * m->cy,
                          -NV_LATENT_MAX, NV_LATENT_MAX };
        if (nl_requant_check(&rq, m->cy, NL_S16) < 0)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                              "%s: '%s' / '%s' row %d is not a valid requantization", src,
                              mname, sname, qp);
    }
    return 0;
}

static int tables_get(nv_model *m, const char *src, const char *prefix, int rows, int b_max,
                      nv_latent_tables *t, char *err, size_t errlen)
{
    char n_cdf[NVM_NAME_MAX + 1], n_k[NVM_NAME_MAX + 1], n_b[NVM_NAME_MAX + 1];
    snprintf(n_cdf, sizeof(n_cdf), "%s.cdf", prefix);
    snprintf(n_k, sizeof(n_k), "%s.k", prefix);
    snprintf(n_b, sizeof(n_b), "%s.b", prefix);
    const nvm_tensor *tc = nvm_find_tensor(m->nvm, n_cdf, NVM_U16, 2, rows, NV_CDF_WIDTH);
    const nvm_tensor *tk = nvm_find_tensor(m->nvm, n_k, NVM_U8, 1, rows);
    const nvm_tensor *tb = nvm_find_tensor(m->nvm, n_b, NVM_U8, 1, rows);
    if (!tc || !tk || !tb)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "%s: tensors '%s' u16 [%d][%d], '%s' and '%s' u8 [%d] required", src,
                          n_cdf, rows, NV_CDF_WIDTH, n_k, n_b, rows);
    t->cdf = tc->data;
    t->k = tk->data;
    t->b = tb->data;
    t->rows = rows;
    t->stride = NV_CDF_WIDTH;
    char msg[NV_ERRMSG_SIZE];
    int ret = nv_latent_tables_check(t, b_max, prefix, msg, sizeof(msg));
    if (ret < 0)
        return nv_fail(err, errlen, ret, "%s: %s", src, msg);
    return 0;
}

static int model_check(nv_model *m, const char *src, char *err, size_t errlen)
{
    int ret;
    if ((ret = param_get(m, src, "cy", NV_CHANNELS_LIMIT, &m->cy, err, errlen)) < 0 ||
        (ret = param_get(m, src, "cz", NV_CHANNELS_LIMIT, &m->cz, err, errlen)) < 0 ||
        (ret = param_get(m, src, "nscales", NV_NSCALES_LIMIT, &m->nscales, err, errlen)) < 0)
        return ret;
    const io_spec x6 = { NL_U8, NV_X6_CHANNELS }, y = { NL_S32, m->cy }, yq = { NL_S16, m->cy };
    const io_spec z = { NL_S16, m->cz };
    const io_spec hs[2] = { { NL_S16, m->cy }, { NL_U8, m->cy } };
    if ((ret = graph_get(m, src, "intra.analysis", &m->analysis, 1, &x6, 1, &y, err,
                         errlen)) < 0 ||
        (ret = graph_get(m, src, "intra.hyper_analysis", &m->hyper_analysis, 1, &yq, 1, &z, err,
                         errlen)) < 0 ||
        (ret = graph_get(m, src, "intra.hyper_synthesis", &m->hyper_synthesis, 1, &z, 2, hs,
                         err, errlen)) < 0 ||
        (ret = graph_get(m, src, "intra.synthesis", &m->synthesis, 1, &yq, 1, &x6, err,
                         errlen)) < 0)
        return ret;
    if ((ret = sidx_range_check(m, m->hyper_synthesis, src, err, errlen)) < 0)
        return ret;
    if ((ret = gains_get(m, src, "intra.y_qmult", "intra.y_qshift", &m->y_qmult, &m->y_qshift,
                         err, errlen)) < 0 ||
        (ret = gains_get(m, src, "intra.y_dqmult", "intra.y_dqshift", &m->y_dqmult,
                         &m->y_dqshift, err, errlen)) < 0)
        return ret;
    if ((ret = tables_get(m, src, "y", m->nscales, NV_LATENT_B_MAX, &m->y_tab, err, errlen)) < 0 ||
        (ret = tables_get(m, src, "intra.z", m->cz, 0, &m->z_tab, err, errlen)) < 0)
        return ret;
    return 0;
}

/* The inter part, when param "inter" says it is there (model.h). */
static int model_check_inter(nv_model *m, const char *src, char *err, size_t errlen)
{
    nv_model_inter *t = &m->inter;
    int64_t v;
    int ret = nvm_get_param(m->nvm, "inter", 0, 1, &v);
    if (ret == NEUVC_ERR(ENOENT) || (ret == 0 && v == 0))
        return 0;
    if (ret < 0)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "%s: parameter 'inter' out of range (0..1)", src);
    /* inter.pred fixes cpt and cpf; the others must take the same. */
    const io_spec x6 = { NL_U8, NV_X6_CHANNELS }, y = { NL_S32, m->cy }, yq = { NL_S16, m->cy };
    const io_spec z = { NL_S16, m->cz };
    const io_spec pred_out[2] = { { NL_S16, 0 }, { NL_U8, 0 } };
    const io_spec hs[2] = { { NL_S16, m->cy }, { NL_U8, m->cy } };
    if ((ret = graph_get(m, src, "inter.pred", &t->pred, 1, &x6, 2, pred_out, err, errlen)) < 0)
        return ret;
    t->cpt = t->pred->slots[t->pred->outputs[0]].c;
    t->cpf = t->pred->slots[t->pred->outputs[1]].c;
    const io_spec pt = { NL_S16, t->cpt }, pf = { NL_U8, t->cpf };
    const io_spec an_in[3] = { x6, x6, pt }, hs_in[2] = { z, pf }, sy_in[3] = { yq, pt, x6 };
    if ((ret = graph_get(m, src, "inter.analysis", &t->analysis, 3, an_in, 1, &y, err,
                         errlen)) < 0 ||
        (ret = graph_get(m, src, "inter.hyper_analysis", &t->hyper_analysis, 1, &yq, 1, &z, err,
                         errlen)) < 0 ||
        (ret = graph_get(m, src, "inter.hyper_synthesis", &t->hyper_synthesis, 2, hs_in, 2, hs,
                         err, errlen)) < 0 ||
        (ret = graph_get(m, src, "inter.synthesis", &t->synthesis, 3, sy_in, 1, &x6, err,
                         errlen)) < 0)
        return ret;
    if ((ret = sidx_range_check(m, t->hyper_synthesis, src, err, errlen)) < 0)
        return ret;
    if ((ret = gains_get(m, src, "inter.y_qmult", "inter.y_qshift", &t->y_qmult, &t->y_qshift,
                         err, errlen)) < 0 ||
        (ret = gains_get(m, src, "inter.y_dqmult", "inter.y_dqshift", &t->y_dqmult,
                         &t->y_dqshift, err, errlen)) < 0 ||
        (ret = tables_get(m, src, "inter.z", m->cz, 0, &t->z_tab, err, errlen)) < 0)
        return ret;
    m->has_inter = 1;
    return 0;
}

/* Loads path, or buf[0 .. size-1] when path is NULL (borrowed and trusted
 * when borrow: the built-in model, else copied), then checks it as a
 * codec model. */
static int model_open(nv_model **pm, const char *path, const void *buf, size_t size,
                      size_t max_payload, int borrow, const char *src, char *err, size_t errlen)
{
    char msg[NV_ERRMSG_SIZE];
    nv_model *m = NULL;
    int ret;

    if (!pm)
        return NEUVC_ERR(EINVAL);
    *pm = NULL;
    m = calloc(1, sizeof(*m));
    if (!m) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
        goto fail;
    }
    msg[0] = '\0';
    if (path)
        ret = nvm_load_file(&m->nvm, path, max_payload, msg, sizeof(msg));
    else
        ret = nvm_load_mem(&m->nvm, buf, size, max_payload,
                           borrow ? NVM_LOAD_BORROW | NVM_LOAD_TRUSTED : 0, msg, sizeof(msg));
    if (ret < 0) {
        nv_fail(err, errlen, ret, "model '%s': %s", src, msg);
        goto fail;
    }
    if ((ret = model_check(m, src, err, errlen)) < 0 ||
        (ret = model_check_inter(m, src, err, errlen)) < 0)
        goto fail;
    m->id = nvm_model_id(m->nvm);
    nvm_fingerprint(m->nvm, m->fp);
    *pm = m;
    return 0;
fail:
    nv_model_close(&m);
    return ret;
}

int nv_model_open(nv_model **pm, const char *path, char *err, size_t errlen)
{
    if (path)
        return model_open(pm, path, NULL, 0, NVM_DEFAULT_MAX_PAYLOAD, 0, path, err, errlen);
    return model_open(pm, NULL, nv_default_model, nv_default_model_size, NVM_DEFAULT_MAX_PAYLOAD,
                      1, "built-in model", err, errlen);
}

int nv_model_open_mem(nv_model **pm, const void *buf, size_t size, size_t max_payload, char *err,
                      size_t errlen)
{
    return model_open(pm, NULL, buf, size, max_payload, 0, "memory image", err, errlen);
}

void nv_model_close(nv_model **pm)
{
    if (!pm || !*pm)
        return;
    nvm_free(&(*pm)->nvm);
    free(*pm);
    *pm = NULL;
}

void nv_model_requant(const nv_model *m, int qp, int dequant, nl_requant *rq)
{
    size_t row = (size_t)qp * (size_t)m->cy;
    rq->bias = NULL;
    rq->mult = (dequant ? m->y_dqmult : m->y_qmult) + row;
    rq->shift = (dequant ? m->y_dqshift : m->y_qshift) + row;
    rq->lo = -NV_LATENT_MAX;
    rq->hi = NV_LATENT_MAX;
}

void nv_model_requant_inter(const nv_model *m, int qp, int dequant, nl_requant *rq)
{
    size_t row = (size_t)qp * (size_t)m->cy;
    rq->bias = NULL;
    rq->mult = (dequant ? m->inter.y_dqmult : m->inter.y_qmult) + row;
    rq->shift = (dequant ? m->inter.y_dqshift : m->inter.y_qshift) + row;
    rq->lo = -NV_LATENT_MAX;
    rq->hi = NV_LATENT_MAX;
}

/* Creates *ex for g, prepares it for inputs in_h[i] x in_w[i] and checks
 * that output i is out_h[i] x out_w[i]. */
static int net_open(nl_graph_exec **ex, const nl_graph *g, const nl_dsp *dsp, const int *in_h,
                    const int *in_w, const int *out_h, const int *out_w, char *err, size_t errlen)
{
    int ret = nl_graph_exec_new_dsp(ex, g, dsp);
    if (ret < 0)
        return nv_fail(err, errlen, ret, "graph '%s': cannot create an executor", g->name);
    ret = nl_graph_prepare(*ex, in_h, in_w);
    if (ret < 0)
        return nv_fail(err, errlen, ret, "graph '%s' at %dx%d: %s", g->name, in_w[0],
                          in_h[0], nl_graph_exec_error(*ex));
    for (uint32_t i = 0; i < g->n_outputs; i++) {
        const nl_tensor *o = nl_graph_output(*ex, i);
        if (o->h != out_h[i] || o->w != out_w[i])
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                              "graph '%s' maps %dx%d to %dx%d (output %u), expected %dx%d",
                              g->name, in_w[0], in_h[0], o->w, o->h, (unsigned)i, out_w[i],
                              out_h[i]);
    }
    return 0;
}

int nv_nets_open(nv_nets *n, const nv_model *m, int wp, int hp, int encoder, const nl_dsp *dsp, char *err,
                 size_t errlen)
{
    int ret;
    memset(n, 0, sizeof(*n));
    /* Sides of x6 / p6, pt, the latent (and pf), the hyper-latent. */
    const int xh = hp / 2, xw = wp / 2;
    const int th = hp / NV_PT_STRIDE, tw = wp / NV_PT_STRIDE;
    const int lh = hp / NV_LATENT_STRIDE, lw = wp / NV_LATENT_STRIDE;
    const int zh = hp / NV_HYPER_STRIDE, zw = wp / NV_HYPER_STRIDE;
    if (wp < NV_HYPER_STRIDE || hp < NV_HYPER_STRIDE || wp % NV_HYPER_STRIDE ||
        hp % NV_HYPER_STRIDE) {
        ret = nv_fail(err, errlen, NEUVC_ERR(EINVAL), "coded size %dx%d", wp, hp);
        goto fail;
    }
    const int x_h[3] = { xh, xh, th }, x_w[3] = { xw, xw, tw };      /* x6, p6, pt */
    const int l_h[2] = { lh, lh }, l_w[2] = { lw, lw };
    const int z_h[2] = { zh, lh }, z_w[2] = { zw, lw };             /* z, pf */
    const int t_h[2] = { th, lh }, t_w[2] = { tw, lw };             /* pt, pf */
    const int s_h[3] = { lh, th, xh }, s_w[3] = { lw, tw, xw };     /* yd, pt, p6 */
    if (encoder) {
        if ((ret = net_open(&n->analysis, m->analysis, dsp, x_h, x_w, l_h, l_w, err, errlen)) < 0 ||
            (ret = net_open(&n->hyper_analysis, m->hyper_analysis, dsp, l_h, l_w, z_h, z_w, err,
                            errlen)) < 0)
            goto fail;
    }
    if ((ret = net_open(&n->hyper_synthesis, m->hyper_synthesis, dsp, z_h, z_w, l_h, l_w, err,
                        errlen)) < 0 ||
        (ret = net_open(&n->synthesis, m->synthesis, dsp, l_h, l_w, x_h, x_w, err, errlen)) < 0)
        goto fail;
    if (!m->has_inter)
        return 0;
    const nv_model_inter *t = &m->inter;
    if (encoder) {
        if ((ret = net_open(&n->inter_analysis, t->analysis, dsp, x_h, x_w, l_h, l_w, err,
                            errlen)) < 0 ||
            (ret = net_open(&n->inter_hyper_analysis, t->hyper_analysis, dsp, l_h, l_w, z_h, z_w, err,
                            errlen)) < 0)
            goto fail;
    }
    if ((ret = net_open(&n->pred, t->pred, dsp, x_h, x_w, t_h, t_w, err, errlen)) < 0 ||
        (ret = net_open(&n->inter_hyper_synthesis, t->hyper_synthesis, dsp, z_h, z_w, l_h, l_w, err,
                        errlen)) < 0 ||
        (ret = net_open(&n->inter_synthesis, t->synthesis, dsp, s_h, s_w, x_h, x_w, err, errlen)) < 0)
        goto fail;
    /* pt and pf stay on the device between inter.pred and their readers
     * (no code reads them on the host: decoder/inter.c passes the views). */
    if ((n->inter_analysis && (ret = nl_graph_exec_link(n->inter_analysis, 2, n->pred, 0)) < 0) ||
        (ret = nl_graph_exec_link(n->inter_hyper_synthesis, 1, n->pred, 1)) < 0 ||
        (ret = nl_graph_exec_link(n->inter_synthesis, 1, n->pred, 0)) < 0 ||
        (ret = nl_graph_exec_device_only(n->pred, 0)) < 0 ||
        (ret = nl_graph_exec_device_only(n->pred, 1)) < 0) {
        nv_fail(err, errlen, ret, "inter graphs: pt / pf of other shapes");
        goto fail;
    }
    /* An intra graph and its inter counterpart run in frames of their own
     * type, what a frame reads of their outputs it reads before the next
     * frame, and the analysis output y is dead once the synthesis runs
     * (encoder/encoder.c: the synthesis comes last in a frame): one block
     * of memory each group, so that the I frame touches less and the first
     * P frame mostly what the I frame touched.  Other outputs are read
     * after the next graph ran (y after the hyper graphs, pred's all
     * through the P frame): those graphs keep blocks apart. */
    nl_graph_exec *groups[3][4] = {
        { n->analysis, n->inter_analysis, n->synthesis, n->inter_synthesis },
        { n->hyper_analysis, n->inter_hyper_analysis },
        { n->hyper_synthesis, n->inter_hyper_synthesis } };
    for (int i = 0; i < 3; i++)
        if ((ret = nl_graph_exec_share(groups[i], 4)) < 0) {
            nv_fail(err, errlen, ret, "out of memory for the graphs");
            goto fail;
        }
    return 0;
fail:
    nv_nets_close(n);
    return ret;
}

void nv_nets_set_pool(nv_nets *n, struct nv_pool *pool)
{
    nl_graph_exec *all[] = { n->analysis, n->hyper_analysis, n->hyper_synthesis, n->synthesis,
                             n->pred, n->inter_analysis, n->inter_hyper_analysis,
                             n->inter_hyper_synthesis, n->inter_synthesis };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        nl_graph_exec_set_pool(all[i], pool);
}

void nv_nets_close(nv_nets *n)
{
    if (!n)
        return;
    nl_graph_exec_free(&n->analysis);
    nl_graph_exec_free(&n->hyper_analysis);
    nl_graph_exec_free(&n->hyper_synthesis);
    nl_graph_exec_free(&n->synthesis);
    nl_graph_exec_free(&n->pred);
    nl_graph_exec_free(&n->inter_analysis);
    nl_graph_exec_free(&n->inter_hyper_analysis);
    nl_graph_exec_free(&n->inter_hyper_synthesis);
    nl_graph_exec_free(&n->inter_synthesis);
}
