/*
 * Graph executor and single ops on OpenCL (opencl.h).
 *
 * Per executor: a command queue, its own kernel objects (clSetKernelArg is
 * not thread-safe on a shared kernel), the op constants on the device
 * (convolution weights repacked to HWIO, see kernels.cl; biases,
 * multipliers, shifts), and, once prepared, device buffers planned like
 * the CPU executor's (graph_exec.c): walking the ops in order, a
 * destination takes the smallest free buffer that is large enough (else
 * the largest free one, grown, else a new one), and a source's buffer is
 * freed after its last reader; graph outputs are never freed.  So no op
 * overwrites a value a later op reads.
 *
 * A run uploads the inputs (or binds a linked producer's buffer), enqueues
 * every op in order on the in-order queue, reads the outputs back
 * (blocking) and returns host views of them.
 */
#include "netlib/opencl/opencl.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errmsg.h"
#include "neuvc/neuvc.h"

enum {
    K_CONV_U8, K_CONV_S8, K_CONV_S16, K_REQUANT, K_ADD, K_CLAMP, K_S2D, K_D2S, K_CONCAT, K_MC,
    K_COUNT
};

static const char *const kernel_names[K_COUNT] = {
    "nl_conv_u8_cl", "nl_conv_s8_cl", "nl_conv_s16_cl", "nl_requant_cl", "nl_add_cl",
    "nl_clamp_cl", "nl_s2d_cl", "nl_d2s_cl", "nl_concat_cl", "nl_mc_obmc_x6_cl",
};

/* A queue and one object per kernel: what one thread needs to launch. */
typedef struct kset {
    const nl_cl *cl;
    nlcl_command_queue q;
    nlcl_kernel k[K_COUNT];
    nlcl_mem dummy;              /* 16 bytes, bound where an optional array is absent */
    size_t wg;                   /* work-group size: min(64, device maximum), a power of 2 */
} kset;

static void kset_free(kset *ks)
{
    if (!ks->cl)
        return;
    const nlcl_api *a = &ks->cl->api;
    for (int i = 0; i < K_COUNT; i++)
        if (ks->k[i])
            a->ReleaseKernel(ks->k[i]);
    if (ks->dummy)
        a->ReleaseMemObject(ks->dummy);
    if (ks->q)
        a->ReleaseCommandQueue(ks->q);
    memset(ks, 0, sizeof(*ks));
}

static int kset_init(kset *ks, char *err, size_t errlen)
{
    memset(ks, 0, sizeof(*ks));
    int ret = nl_cl_get(&ks->cl, err, errlen);
    if (ret < 0)
        return ret;
    const nl_cl *cl = ks->cl;
    const nlcl_api *a = &cl->api;
    nlcl_int e = 0;
    ks->q = a->CreateCommandQueue(cl->ctx, cl->device, 0, &e);
    if (!ks->q || e != NLCL_SUCCESS)
        goto fail;
    for (int i = 0; i < K_COUNT; i++) {
        ks->k[i] = a->CreateKernel(cl->prog, kernel_names[i], &e);
        if (!ks->k[i] || e != NLCL_SUCCESS)
            goto fail;
    }
    ks->dummy = a->CreateBuffer(cl->ctx, NLCL_MEM_READ_WRITE, 16, NULL, &e);
    if (!ks->dummy || e != NLCL_SUCCESS)
        goto fail;
    size_t maxwg = 1;
    a->GetDeviceInfo(cl->device, NLCL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(maxwg), &maxwg, NULL);
    ks->wg = 1;
    while (ks->wg * 2 <= 64 && ks->wg * 2 <= maxwg)
        ks->wg *= 2;
    return 0;
fail:
    kset_free(ks);
    return nv_fail(err, errlen, NEUVC_ERR(EIO), "OpenCL: queue or kernels not created (%d)",
                   (int)e);
}

/* Kernel arguments in order: {size, pointer} pairs. */
typedef struct karg {
    size_t size;
    const void *p;
} karg;

#define ARG(v) { sizeof(v), &(v) }

static nlcl_int set_args(const kset *ks, int k, const karg *args, int n)
{
    for (int i = 0; i < n; i++) {
        nlcl_int e = ks->cl->api.SetKernelArg(ks->k[k], (nlcl_uint)i, args[i].size, args[i].p);
        if (e != NLCL_SUCCESS)
            return e;
    }
    return NLCL_SUCCESS;
}

static size_t round_up(size_t n, size_t m)
{
    return (n + m - 1) / m * m;
}

/* 1-D launch over n elements (work-groups of ks->wg, kernels check i < n). */
static nlcl_int launch_1d(const kset *ks, int k, size_t n)
{
    size_t global = round_up(n, ks->wg), local = ks->wg;
    return ks->cl->api.EnqueueNDRangeKernel(ks->q, ks->k[k], 1, NULL, &global, &local, 0, NULL,
                                            NULL);
}

static nlcl_mem buf_new(const kset *ks, size_t bytes, nlcl_int *e)
{
    return ks->cl->api.CreateBuffer(ks->cl->ctx, NLCL_MEM_READ_WRITE, bytes ? bytes : 1, NULL, e);
}

static nlcl_int buf_write(const kset *ks, nlcl_mem m, const void *p, size_t bytes)
{
    return ks->cl->api.EnqueueWriteBuffer(ks->q, m, NLCL_TRUE, 0, bytes, p, 0, NULL, NULL);
}

/* A constant array on the device (NULL when p is NULL). */
static nlcl_mem const_new(const kset *ks, const void *p, size_t bytes, nlcl_int *e)
{
    if (!p)
        return NULL;
    nlcl_mem m = buf_new(ks, bytes, e);
    if (m && *e == NLCL_SUCCESS)
        *e = buf_write(ks, m, p, bytes);
    return m;
}

static void mem_release(const kset *ks, nlcl_mem *m)
{
    if (*m)
        ks->cl->api.ReleaseMemObject(*m);
    *m = NULL;
}

/* Host tensor (any stride) into a dense device buffer, blocking. */
static nlcl_int tensor_upload(const kset *ks, nlcl_mem m, const nl_tensor *t)
{
    const size_t es = nl_type_size(t->type), row = (size_t)t->w * (size_t)t->c * es;
    if (t->stride == (ptrdiff_t)t->w * t->c)
        return buf_write(ks, m, t->data, row * (size_t)t->h);
    for (int y = 0; y < t->h; y++) {
        nlcl_int e = ks->cl->api.EnqueueWriteBuffer(
            ks->q, m, NLCL_FALSE, row * (size_t)y, row,
            (const char *)t->data + (size_t)y * (size_t)t->stride * es, 0, NULL, NULL);
        if (e != NLCL_SUCCESS)
            return e;
    }
    return ks->cl->api.Finish(ks->q);
}

/* Dense device buffer into a host tensor (any stride), blocking. */
static nlcl_int tensor_download(const kset *ks, nlcl_mem m, nl_tensor *t)
{
    const size_t es = nl_type_size(t->type), row = (size_t)t->w * (size_t)t->c * es;
    if (t->stride == (ptrdiff_t)t->w * t->c)
        return ks->cl->api.EnqueueReadBuffer(ks->q, m, NLCL_TRUE, 0, row * (size_t)t->h, t->data,
                                             0, NULL, NULL);
    for (int y = 0; y < t->h; y++) {
        nlcl_int e = ks->cl->api.EnqueueReadBuffer(
            ks->q, m, NLCL_FALSE, row * (size_t)y, row,
            (char *)t->data + (size_t)y * (size_t)t->stride * es, 0, NULL, NULL);
        if (e != NLCL_SUCCESS)
            return e;
    }
    return ks->cl->api.Finish(ks->q);
}

static size_t tensor_bytes(const nl_tensor *t)
{
    return (size_t)t->h * (size_t)t->w * (size_t)t->c * nl_type_size(t->type);
}

/* ------------------------------------------------------------ op constants */

typedef struct op_dev {
    nlcl_mem a, b, c, d;         /* conv: weight (HWIO), bias, mult, shift;
                                  * requant: bias, mult, shift; add: ma, mb, shift */
} op_dev;

static void op_dev_free(const kset *ks, op_dev *od)
{
    mem_release(ks, &od->a);
    mem_release(ks, &od->b);
    mem_release(ks, &od->c);
    mem_release(ks, &od->d);
}

/* Output channels and columns of one convolution work item (kernels.cl). */
#define CONV_OB 8
#define CONV_PX 4

/* Weights [cout][k][k][cin] -> [k][k][cin][cout8] on the device, cout8 =
 * cout rounded up to CONV_OB, the added channels' weights 0. */
static nlcl_int conv_consts(const kset *ks, const nl_conv_desc *d, op_dev *od)
{
    const size_t kk = (size_t)d->k * (size_t)d->k, cin = (size_t)d->cin, cout = (size_t)d->cout;
    const size_t cout8 = round_up(cout, CONV_OB), n = kk * cin * cout8;
    int8_t *hwio = calloc(n, 1);
    nlcl_int e = NLCL_SUCCESS;
    if (!hwio)
        return -6; /* CL_OUT_OF_HOST_MEMORY */
    for (size_t o = 0; o < cout; o++)
        for (size_t t = 0; t < kk; t++)
            for (size_t i = 0; i < cin; i++)
                hwio[(t * cin + i) * cout8 + o] = d->weight[(o * kk + t) * cin + i];
    od->a = const_new(ks, hwio, n, &e);
    free(hwio);
    if (e == NLCL_SUCCESS)
        od->b = const_new(ks, d->rq.bias, cout * 4, &e);
    if (e == NLCL_SUCCESS)
        od->c = const_new(ks, d->rq.mult, cout * 4, &e);
    if (e == NLCL_SUCCESS)
        od->d = const_new(ks, d->rq.shift, cout, &e);
    return e;
}

static nlcl_int requant_consts(const kset *ks, const nl_requant *rq, int c, op_dev *od)
{
    nlcl_int e = NLCL_SUCCESS;
    od->b = const_new(ks, rq->bias, (size_t)c * 4, &e);
    if (e == NLCL_SUCCESS)
        od->c = const_new(ks, rq->mult, (size_t)c * 4, &e);
    if (e == NLCL_SUCCESS)
        od->d = const_new(ks, rq->shift, (size_t)c, &e);
    return e;
}

static nlcl_int add_consts(const kset *ks, const nl_add_desc *d, int c, op_dev *od)
{
    nlcl_int e = NLCL_SUCCESS;
    od->b = const_new(ks, d->ma, (size_t)c * 4, &e);
    if (e == NLCL_SUCCESS)
        od->c = const_new(ks, d->mb, (size_t)c * 4, &e);
    if (e == NLCL_SUCCESS)
        od->d = const_new(ks, d->shift, (size_t)c, &e);
    return e;
}

/* ------------------------------------------------------------ launches
 * Shapes are the host views' (dense on the device); each enqueues one
 * kernel and returns the OpenCL status. */

static nlcl_int run_conv(const kset *ks, const nl_conv_desc *d, const op_dev *od, nlcl_mem src,
                         const nl_tensor *x, nlcl_mem dst, const nl_tensor *y)
{
    const int kern = d->in_type == NL_U8 ? K_CONV_U8 : d->in_type == NL_S8 ? K_CONV_S8 : K_CONV_S16;
    const int has_bias = od->b != NULL, out_type = (int)d->out_type;
    const nlcl_mem bias = od->b ? od->b : ks->dummy;
    const karg args[] = {
        ARG(src), ARG(x->h), ARG(x->w), ARG(d->cin), ARG(od->a), ARG(bias), ARG(has_bias),
        ARG(od->c), ARG(od->d), ARG(d->k), ARG(d->stride), ARG(d->cout), ARG(d->rq.lo),
        ARG(d->rq.hi), ARG(out_type), ARG(dst), ARG(y->h), ARG(y->w),
    };
    nlcl_int e = set_args(ks, kern, args, (int)(sizeof(args) / sizeof(args[0])));
    if (e != NLCL_SUCCESS)
        return e;
    /* Work items: CONV_OB channels x CONV_PX columns each; work-groups of
     * up to wg items, channel groups first, then column groups. */
    const size_t gx = ((size_t)d->cout + CONV_OB - 1) / CONV_OB;
    const size_t gy = ((size_t)y->w + CONV_PX - 1) / CONV_PX;
    size_t lx = 1, ly = 1;
    while (lx < gx && lx * 2 <= ks->wg)
        lx *= 2;
    while (ly < gy && lx * ly * 2 <= ks->wg)
        ly *= 2;
    size_t local[3] = { lx, ly, 1 };
    size_t global[3] = { round_up(gx, lx), round_up(gy, ly), (size_t)y->h };
    return ks->cl->api.EnqueueNDRangeKernel(ks->q, ks->k[kern], 3, NULL, global, local, 0, NULL,
                                            NULL);
}

static nlcl_int run_requant(const kset *ks, const nl_requant *rq, const op_dev *od, nlcl_mem src,
                            const nl_tensor *x, nlcl_mem dst, const nl_tensor *y)
{
    const int st = (int)x->type, dt = (int)y->type, c = x->c, has_bias = od->b != NULL;
    const int n = x->h * x->w * x->c;
    const nlcl_mem bias = od->b ? od->b : ks->dummy;
    const karg args[] = {
        ARG(src), ARG(st), ARG(dst), ARG(dt), ARG(n), ARG(c), ARG(bias), ARG(has_bias),
        ARG(od->c), ARG(od->d), ARG(rq->lo), ARG(rq->hi),
    };
    nlcl_int e = set_args(ks, K_REQUANT, args, (int)(sizeof(args) / sizeof(args[0])));
    return e != NLCL_SUCCESS ? e : launch_1d(ks, K_REQUANT, (size_t)n);
}

static nlcl_int run_add(const kset *ks, const nl_add_desc *d, const op_dev *od, nlcl_mem a,
                        const nl_tensor *ta, nlcl_mem b, const nl_tensor *tb, nlcl_mem dst,
                        const nl_tensor *y)
{
    const int at = (int)ta->type, bt = (int)tb->type, dt = (int)y->type, c = y->c;
    const int n = y->h * y->w * y->c;
    const karg args[] = {
        ARG(a), ARG(at), ARG(b), ARG(bt), ARG(dst), ARG(dt), ARG(n), ARG(c),
        ARG(od->b), ARG(od->c), ARG(od->d), ARG(d->lo), ARG(d->hi),
    };
    nlcl_int e = set_args(ks, K_ADD, args, (int)(sizeof(args) / sizeof(args[0])));
    return e != NLCL_SUCCESS ? e : launch_1d(ks, K_ADD, (size_t)n);
}

static nlcl_int run_clamp(const kset *ks, nlcl_mem src, nlcl_mem dst, const nl_tensor *t,
                          int32_t lo, int32_t hi)
{
    const int type = (int)t->type, n = t->h * t->w * t->c;
    const karg args[] = { ARG(src), ARG(dst), ARG(type), ARG(n), ARG(lo), ARG(hi) };
    nlcl_int e = set_args(ks, K_CLAMP, args, (int)(sizeof(args) / sizeof(args[0])));
    return e != NLCL_SUCCESS ? e : launch_1d(ks, K_CLAMP, (size_t)n);
}

/* s2d (d2s == 0) or d2s (d2s == 1). */
static nlcl_int run_shuffle(const kset *ks, int d2s, nlcl_mem src, const nl_tensor *x,
                            nlcl_mem dst, const nl_tensor *y, int r)
{
    const int kern = d2s ? K_D2S : K_S2D;
    const int es = (int)nl_type_size(x->type), n = y->h * y->w * y->c;
    const karg args[] = { ARG(src), ARG(x->w), ARG(x->c), ARG(dst), ARG(y->w), ARG(r), ARG(es),
                          ARG(n) };
    nlcl_int e = set_args(ks, kern, args, (int)(sizeof(args) / sizeof(args[0])));
    return e != NLCL_SUCCESS ? e : launch_1d(ks, kern, (size_t)n);
}

static nlcl_int run_concat(const kset *ks, nlcl_mem a, const nl_tensor *ta, nlcl_mem b,
                           const nl_tensor *tb, nlcl_mem dst, const nl_tensor *y)
{
    const int es = (int)nl_type_size(y->type), n = y->h * y->w * y->c;
    const karg args[] = { ARG(a), ARG(ta->c), ARG(b), ARG(tb->c), ARG(dst), ARG(es), ARG(n) };
    nlcl_int e = set_args(ks, K_CONCAT, args, (int)(sizeof(args) / sizeof(args[0])));
    return e != NLCL_SUCCESS ? e : launch_1d(ks, K_CONCAT, (size_t)n);
}

/* ------------------------------------------------------------ executor */

struct nl_cl_exec {
    const nl_graph *g;
    kset ks;
    op_dev *od;                  /* [n_ops] */
    int prepared;
    int *in_h, *in_w;            /* [n_inputs] */
    int *last_use;               /* [n_slots] last op reading the slot; -1 none */
    uint8_t *is_output;          /* [n_slots] */
    nl_tensor *view;             /* [n_slots] shapes (data: host mirrors of outputs) */
    size_t *slot_bytes;          /* [n_slots] */
    int *buf_of;                 /* [n_slots] buffer index (inputs too) */
    nlcl_mem *buf;               /* [n_slots] */
    size_t *buf_size;            /* [n_slots] */
    int *free_bufs;              /* [n_slots] planning scratch */
    int n_buf;
    nlcl_mem *cur;               /* [n_slots] the buffer a slot reads at this run */
    void **host;                 /* [n_outputs] host mirrors */
    const nl_cl_exec **link_src; /* [n_inputs] */
    uint32_t *link_out;          /* [n_inputs] */
    uint8_t *dev_only;           /* [n_outputs] not read back (nl_cl_exec_device_only) */
    uint64_t macs;
    size_t bytes;
};

static void exec_release(nl_cl_exec *ex)
{
    for (int b = 0; b < ex->n_buf; b++)
        mem_release(&ex->ks, &ex->buf[b]);
    for (uint32_t i = 0; ex->host && i < ex->g->n_outputs; i++) {
        free(ex->host[i]);
        ex->host[i] = NULL;
    }
    for (uint32_t s = 0; ex->cur && s < ex->g->n_slots; s++)
        ex->cur[s] = NULL;
    ex->n_buf = 0;
    ex->prepared = 0;
    ex->macs = 0;
    ex->bytes = 0;
}

void nl_cl_exec_free(nl_cl_exec **pex)
{
    if (!pex || !*pex)
        return;
    nl_cl_exec *ex = *pex;
    if (ex->buf)
        exec_release(ex);
    for (uint32_t i = 0; ex->od && i < ex->g->n_ops; i++)
        op_dev_free(&ex->ks, &ex->od[i]);
    kset_free(&ex->ks);
    free(ex->od);
    free(ex->in_h);
    free(ex->in_w);
    free(ex->last_use);
    free(ex->is_output);
    free(ex->view);
    free(ex->slot_bytes);
    free(ex->buf_of);
    free(ex->buf);
    free(ex->buf_size);
    free(ex->free_bufs);
    free(ex->cur);
    free(ex->host);
    free(ex->link_src);
    free(ex->link_out);
    free(ex->dev_only);
    free(ex);
    *pex = NULL;
}

int nl_cl_exec_new(nl_cl_exec **pex, const nl_graph *g, char *err, size_t errlen)
{
    int ret;
    if (!pex)
        return NEUVC_ERR(EINVAL);
    *pex = NULL;
    if (!g || !g->slots || !g->bound)
        return NEUVC_ERR(EINVAL);
    nl_cl_exec *ex = calloc(1, sizeof(*ex));
    if (!ex)
        return NEUVC_ERR(ENOMEM);
    ex->g = g;
    const size_t ns = g->n_slots;
    ex->od = calloc(g->n_ops, sizeof(op_dev));
    ex->in_h = calloc(g->n_inputs, sizeof(int));
    ex->in_w = calloc(g->n_inputs, sizeof(int));
    ex->last_use = malloc(ns * sizeof(int));
    ex->is_output = calloc(ns, 1);
    ex->view = calloc(ns, sizeof(nl_tensor));
    ex->slot_bytes = calloc(ns, sizeof(size_t));
    ex->buf_of = malloc(ns * sizeof(int));
    ex->buf = calloc(ns, sizeof(nlcl_mem));
    ex->buf_size = calloc(ns, sizeof(size_t));
    ex->free_bufs = calloc(ns, sizeof(int));
    ex->cur = calloc(ns, sizeof(nlcl_mem));
    ex->host = calloc(g->n_outputs, sizeof(void *));
    ex->link_src = calloc(g->n_inputs, sizeof(*ex->link_src));
    ex->link_out = calloc(g->n_inputs, sizeof(uint32_t));
    ex->dev_only = calloc(g->n_outputs, 1);
    if (!ex->od || !ex->in_h || !ex->in_w || !ex->last_use || !ex->is_output || !ex->view ||
        !ex->slot_bytes || !ex->buf_of || !ex->buf || !ex->buf_size || !ex->free_bufs ||
        !ex->cur || !ex->host || !ex->link_src || !ex->link_out || !ex->dev_only) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
        goto fail;
    }
    if ((ret = kset_init(&ex->ks, err, errlen)) < 0)
        goto fail;
    /* The op constants go to the device once, here. */
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const nl_graph_op *op = &g->ops[i];
        const nl_graph_bound *b = &g->bound[i];
        const int c = g->slots[op->dst].c;
        nlcl_int e = NLCL_SUCCESS;
        if (op->code == NL_OP_CONV)
            e = conv_consts(&ex->ks, &b->conv, &ex->od[i]);
        else if (op->code == NL_OP_REQUANT)
            e = requant_consts(&ex->ks, &b->rq, c, &ex->od[i]);
        else if (op->code == NL_OP_ADD)
            e = add_consts(&ex->ks, &b->add, c, &ex->od[i]);
        if (e != NLCL_SUCCESS) {
            ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "OpenCL: op %u constants (%d)",
                          (unsigned)i, (int)e);
            goto fail;
        }
    }
    for (uint32_t s = 0; s < ns; s++) {
        ex->last_use[s] = -1;
        ex->buf_of[s] = -1;
    }
    for (uint32_t i = 0; i < g->n_ops; i++)
        for (int k = 0; k < 2; k++)
            if (g->ops[i].src[k] != NL_GRAPH_NONE)
                ex->last_use[g->ops[i].src[k]] = (int)i;
    for (uint32_t i = 0; i < g->n_outputs; i++)
        ex->is_output[g->outputs[i]] = 1;
    *pex = ex;
    return 0;
fail:
    nl_cl_exec_free(&ex);
    return ret;
}

/* Slot shapes from the input sizes (graph_exec.c's rules) and the MACs. */
static int shapes_compute(nl_cl_exec *ex, const int *h, const int *w, char *err, size_t errlen)
{
    const nl_graph *g = ex->g;
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        ex->view[g->inputs[i].slot].h = h[i];
        ex->view[g->inputs[i].slot].w = w[i];
    }
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const nl_graph_op *op = &g->ops[i];
        const nl_tensor *x = &ex->view[op->src[0]];
        const nl_tensor *y = op->src[1] != NL_GRAPH_NONE ? &ex->view[op->src[1]] : NULL;
        nl_tensor *d = &ex->view[op->dst];
        const int r = op->attr[NL_SHUFFLE_R];
        d->h = x->h;
        d->w = x->w;
        if (op->code == NL_OP_CONV) {
            const nl_conv_desc *cd = &g->bound[i].conv;
            d->h = nl_conv_out_size(x->h, cd->stride);
            d->w = nl_conv_out_size(x->w, cd->stride);
            ex->macs += (uint64_t)d->h * (uint64_t)d->w * (uint64_t)cd->cout *
                        (uint64_t)(cd->k * cd->k) * (uint64_t)cd->cin;
        } else if ((op->code == NL_OP_ADD || op->code == NL_OP_CONCAT) &&
                   (x->h != y->h || x->w != y->w)) {
            return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "op %u (%s): operands %dx%d and %dx%d",
                           (unsigned)i, nl_opcode_name(op->code), x->w, x->h, y->w, y->h);
        } else if (op->code == NL_OP_S2D) {
            if (x->h % r || x->w % r)
                return nv_fail(err, errlen, NEUVC_ERR(EINVAL),
                               "op %u (s2d): %dx%d not divisible by %d", (unsigned)i, x->w, x->h, r);
            d->h = x->h / r;
            d->w = x->w / r;
        } else if (op->code == NL_OP_D2S) {
            if (x->h > NL_GRAPH_MAX_SIDE / r || x->w > NL_GRAPH_MAX_SIDE / r)
                return nv_fail(err, errlen, NEUVC_ERR(ERANGE), "op %u (d2s): output beyond %d",
                               (unsigned)i, NL_GRAPH_MAX_SIDE);
            d->h = x->h * r;
            d->w = x->w * r;
        }
    }
    for (uint32_t s = 0; s < g->n_slots; s++) {
        nl_tensor *t = &ex->view[s];
        t->type = g->slots[s].type;
        t->c = g->slots[s].c;
        t->data = NULL;
        t->stride = (ptrdiff_t)t->w * t->c;
        uint64_t bytes = (uint64_t)t->h * (uint64_t)t->w * (uint64_t)t->c *
                         (uint64_t)nl_type_size(t->type);
        /* Kernels index elements with int: keep every tensor below 2^31. */
        if (bytes / nl_type_size(t->type) >= ((uint64_t)1 << 31))
            return nv_fail(err, errlen, NEUVC_ERR(ERANGE), "slot %u: %llu bytes", (unsigned)s,
                           (unsigned long long)bytes);
        ex->slot_bytes[s] = (size_t)bytes;
    }
    return 0;
}

static int buffer_take(nl_cl_exec *ex, int *n_free, size_t need)
{
    int best = -1, largest = -1;
    for (int k = 0; k < *n_free; k++) {
        size_t size = ex->buf_size[ex->free_bufs[k]];
        if (size >= need && (best < 0 || size < ex->buf_size[ex->free_bufs[best]]))
            best = k;
        if (largest < 0 || size > ex->buf_size[ex->free_bufs[largest]])
            largest = k;
    }
    int pick = best >= 0 ? best : largest;
    if (pick < 0) {
        ex->buf_size[ex->n_buf] = need;
        return ex->n_buf++;
    }
    int b = ex->free_bufs[pick];
    ex->free_bufs[pick] = ex->free_bufs[--*n_free];
    if (ex->buf_size[b] < need)
        ex->buf_size[b] = need;
    return b;
}

/* Inputs get their own buffers (they are written by uploads before any op
 * runs); op destinations follow the liveness plan. */
static void buffers_plan(nl_cl_exec *ex)
{
    const nl_graph *g = ex->g;
    int n_free = 0;
    for (uint32_t s = 0; s < g->n_slots; s++)
        ex->buf_of[s] = -1;
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        uint32_t s = g->inputs[i].slot;
        ex->buf_of[s] = buffer_take(ex, &n_free, ex->slot_bytes[s]);
        if (ex->last_use[s] < 0 && !ex->is_output[s])
            ex->free_bufs[n_free++] = ex->buf_of[s];
    }
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const nl_graph_op *op = &g->ops[i];
        const int b = buffer_take(ex, &n_free, ex->slot_bytes[op->dst]);
        ex->buf_of[op->dst] = b;
        for (int k = 0; k < 2; k++) {
            uint32_t s = op->src[k];
            if (s == NL_GRAPH_NONE || (k == 1 && s == op->src[0]))
                continue;
            if (ex->last_use[s] == (int)i && !ex->is_output[s])
                ex->free_bufs[n_free++] = ex->buf_of[s];
        }
        if (ex->last_use[op->dst] < 0 && !ex->is_output[op->dst])
            ex->free_bufs[n_free++] = b;
    }
}

int nl_cl_exec_prepare(nl_cl_exec *ex, const int *h, const int *w, char *err, size_t errlen)
{
    if (!ex || !h || !w)
        return NEUVC_ERR(EINVAL);
    const nl_graph *g = ex->g;
    int same = ex->prepared;
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        if (h[i] < 1 || h[i] > NL_GRAPH_MAX_SIDE || w[i] < 1 || w[i] > NL_GRAPH_MAX_SIDE)
            return nv_fail(err, errlen, NEUVC_ERR(ERANGE), "input %u: %dx%d (1..%d)", (unsigned)i,
                           w[i], h[i], NL_GRAPH_MAX_SIDE);
        same = same && h[i] == ex->in_h[i] && w[i] == ex->in_w[i];
    }
    if (same)
        return 0;
    exec_release(ex);
    int ret = shapes_compute(ex, h, w, err, errlen);
    if (ret < 0) {
        ex->macs = 0;
        return ret;
    }
    buffers_plan(ex);
    for (int b = 0; b < ex->n_buf; b++) {
        nlcl_int e = NLCL_SUCCESS;
        ex->buf[b] = buf_new(&ex->ks, ex->buf_size[b], &e);
        if (!ex->buf[b] || e != NLCL_SUCCESS) {
            exec_release(ex);
            return nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "OpenCL: out of device memory (%d)",
                           (int)e);
        }
        ex->bytes += ex->buf_size[b];
    }
    for (uint32_t i = 0; i < g->n_outputs; i++) {
        nl_tensor *t = &ex->view[g->outputs[i]];
        ex->host[i] = malloc(ex->slot_bytes[g->outputs[i]] ? ex->slot_bytes[g->outputs[i]] : 1);
        if (!ex->host[i]) {
            exec_release(ex);
            return nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
        }
        t->data = ex->host[i];
    }
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        ex->in_h[i] = h[i];
        ex->in_w[i] = w[i];
    }
    ex->prepared = 1;
    return 0;
}

/* Enqueues op i (buffers in ex->cur). */
static nlcl_int op_enqueue(nl_cl_exec *ex, uint32_t i)
{
    const nl_graph_op *op = &ex->g->ops[i];
    const nl_graph_bound *b = &ex->g->bound[i];
    const op_dev *od = &ex->od[i];
    const kset *ks = &ex->ks;
    const uint32_t sx = op->src[0], sy = op->src[1];
    const nl_tensor *x = &ex->view[sx], *d = &ex->view[op->dst];
    const nl_tensor *y = sy != NL_GRAPH_NONE ? &ex->view[sy] : NULL;
    nlcl_mem mx = ex->cur[sx], my = y ? ex->cur[sy] : NULL, md = ex->cur[op->dst];
    switch (op->code) {
    case NL_OP_CONV: return run_conv(ks, &b->conv, od, mx, x, md, d);
    case NL_OP_REQUANT: return run_requant(ks, &b->rq, od, mx, x, md, d);
    case NL_OP_ADD: return run_add(ks, &b->add, od, mx, x, my, y, md, d);
    case NL_OP_CLAMP:
        return run_clamp(ks, mx, md, d, op->attr[NL_CLAMP_LO], op->attr[NL_CLAMP_HI]);
    case NL_OP_S2D: return run_shuffle(ks, 0, mx, x, md, d, op->attr[NL_SHUFFLE_R]);
    case NL_OP_D2S: return run_shuffle(ks, 1, mx, x, md, d, op->attr[NL_SHUFFLE_R]);
    case NL_OP_CONCAT: return run_concat(ks, mx, x, my, y, md, d);
    default: return NLCL_SUCCESS; /* unreachable: validated opcodes only */
    }
}

int nl_cl_exec_run(nl_cl_exec *ex, const nl_tensor *in, nl_tensor *out, nl_stats *st, char *err,
                   size_t errlen)
{
    if (!ex || !in)
        return NEUVC_ERR(EINVAL);
    if (!ex->prepared)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "run before prepare");
    const nl_graph *g = ex->g;
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        const nl_tensor *t = &in[i];
        const nl_graph_input *gi = &g->inputs[i];
        if (!t->data || t->type != (nl_type)gi->type || t->c != (int)gi->c ||
            t->h != ex->in_h[i] || t->w != ex->in_w[i] || t->stride < (ptrdiff_t)t->w * t->c)
            return nv_fail(err, errlen, NEUVC_ERR(EINVAL),
                           "input %u: type %d, %dx%dx%d (data %s), prepared for type %u, %dx%dx%u",
                           (unsigned)i, (int)t->type, t->w, t->h, t->c, t->data ? "set" : "NULL",
                           (unsigned)gi->type, ex->in_w[i], ex->in_h[i], (unsigned)gi->c);
    }
    for (uint32_t s = 0; s < g->n_slots; s++)
        ex->cur[s] = ex->buf_of[s] >= 0 ? ex->buf[ex->buf_of[s]] : NULL;
    nlcl_int e = NLCL_SUCCESS;
    for (uint32_t i = 0; i < g->n_inputs && e == NLCL_SUCCESS; i++) {
        const uint32_t s = g->inputs[i].slot;
        const nl_cl_exec *src = ex->link_src[i];
        const nl_tensor *o = src ? nl_cl_exec_output(src, ex->link_out[i]) : NULL;
        const nlcl_mem m = o ? src->cur[src->g->outputs[ex->link_out[i]]] : NULL;
        if (m && o->data == in[i].data && o->h == in[i].h && o->w == in[i].w &&
            o->stride == in[i].stride && o->type == in[i].type && o->c == in[i].c)
            ex->cur[s] = m;
        else
            e = tensor_upload(&ex->ks, ex->cur[s], &in[i]);
    }
    for (uint32_t i = 0; i < g->n_ops && e == NLCL_SUCCESS; i++)
        e = op_enqueue(ex, i);
    for (uint32_t i = 0; i < g->n_outputs && e == NLCL_SUCCESS; i++) {
        const uint32_t s = g->outputs[i];
        e = ex->dev_only[i] ? ex->ks.cl->api.Finish(ex->ks.q)
                            : tensor_download(&ex->ks, ex->cur[s], &ex->view[s]);
    }
    if (e != NLCL_SUCCESS)
        return nv_fail(err, errlen, NEUVC_ERR(EIO), "OpenCL error %d", (int)e);
    if (st)
        st->macs += ex->macs;
    if (out)
        for (uint32_t i = 0; i < g->n_outputs; i++)
            out[i] = ex->view[g->outputs[i]];
    return 0;
}

const nl_tensor *nl_cl_exec_output(const nl_cl_exec *ex, uint32_t i)
{
    if (!ex || !ex->prepared || i >= ex->g->n_outputs)
        return NULL;
    return &ex->view[ex->g->outputs[i]];
}

uint64_t nl_cl_exec_macs(const nl_cl_exec *ex)
{
    return ex && ex->prepared ? ex->macs : 0;
}

size_t nl_cl_exec_bytes(const nl_cl_exec *ex)
{
    return ex && ex->prepared ? ex->bytes : 0;
}

int nl_cl_exec_device_only(nl_cl_exec *ex, uint32_t out)
{
    if (!ex || out >= ex->g->n_outputs)
        return NEUVC_ERR(EINVAL);
    ex->dev_only[out] = 1;
    return 0;
}

int nl_cl_exec_link(nl_cl_exec *ex, uint32_t in, const nl_cl_exec *src, uint32_t out)
{
    if (!ex || !src || in >= ex->g->n_inputs || out >= src->g->n_outputs)
        return NEUVC_ERR(EINVAL);
    const nl_graph_slot *so = &src->g->slots[src->g->outputs[out]];
    if ((uint32_t)so->type != ex->g->inputs[in].type || (uint32_t)so->c != ex->g->inputs[in].c)
        return NEUVC_ERR(EINVAL);
    ex->link_src[in] = src;
    ex->link_out[in] = out;
    return 0;
}

/* ------------------------------------------------------------ single ops
 * Each: a kernel set of its own, device copies of the operands, one
 * launch, the result read back, everything released. */

typedef struct one_op {
    kset ks;
    op_dev od;
    nlcl_mem m[3];               /* operands: up to two sources and the destination */
} one_op;

static int one_begin(one_op *o)
{
    memset(o, 0, sizeof(*o));
    return kset_init(&o->ks, NULL, 0);
}

/* Device buffer i for t, uploaded when up. */
static nlcl_int one_buf(one_op *o, int i, const nl_tensor *t, int up)
{
    nlcl_int e = NLCL_SUCCESS;
    o->m[i] = buf_new(&o->ks, tensor_bytes(t), &e);
    if (o->m[i] && e == NLCL_SUCCESS && up)
        e = tensor_upload(&o->ks, o->m[i], t);
    return o->m[i] ? e : (e != NLCL_SUCCESS ? e : -4);
}

/* Reads m[i] into t (when e is still a success), releases everything. */
static int one_end(one_op *o, nlcl_int e, int i, nl_tensor *t)
{
    if (e == NLCL_SUCCESS)
        e = tensor_download(&o->ks, o->m[i], t);
    op_dev_free(&o->ks, &o->od);
    for (int k = 0; k < 3; k++)
        mem_release(&o->ks, &o->m[k]);
    kset_free(&o->ks);
    return e == NLCL_SUCCESS ? 0 : NEUVC_ERR(EIO);
}

int nl_cl_conv(const nl_conv_desc *d, const nl_tensor *src, nl_tensor *dst)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = conv_consts(&o.ks, d, &o.od);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 0, src, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 2, dst, 0);
    if (e == NLCL_SUCCESS)
        e = run_conv(&o.ks, d, &o.od, o.m[0], src, o.m[2], dst);
    return one_end(&o, e, 2, dst);
}

int nl_cl_requant(const nl_requant *rq, const nl_tensor *src, nl_tensor *dst)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = requant_consts(&o.ks, rq, src->c, &o.od);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 0, src, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 2, dst, 0);
    if (e == NLCL_SUCCESS)
        e = run_requant(&o.ks, rq, &o.od, o.m[0], src, o.m[2], dst);
    return one_end(&o, e, 2, dst);
}

int nl_cl_add(const nl_add_desc *d, const nl_tensor *a, const nl_tensor *b, nl_tensor *dst)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = add_consts(&o.ks, d, dst->c, &o.od);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 0, a, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 1, b, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 2, dst, 0);
    if (e == NLCL_SUCCESS)
        e = run_add(&o.ks, d, &o.od, o.m[0], a, o.m[1], b, o.m[2], dst);
    return one_end(&o, e, 2, dst);
}

int nl_cl_clamp(nl_tensor *t, int32_t lo, int32_t hi)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = one_buf(&o, 0, t, 1);
    if (e == NLCL_SUCCESS)
        e = run_clamp(&o.ks, o.m[0], o.m[0], t, lo, hi);
    return one_end(&o, e, 0, t);
}

static int one_shuffle(int d2s, const nl_tensor *src, nl_tensor *dst, int r)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = one_buf(&o, 0, src, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 2, dst, 0);
    if (e == NLCL_SUCCESS)
        e = run_shuffle(&o.ks, d2s, o.m[0], src, o.m[2], dst, r);
    return one_end(&o, e, 2, dst);
}

int nl_cl_s2d(const nl_tensor *src, nl_tensor *dst, int r)
{
    return one_shuffle(0, src, dst, r);
}

int nl_cl_d2s(const nl_tensor *src, nl_tensor *dst, int r)
{
    return one_shuffle(1, src, dst, r);
}

int nl_cl_concat(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = one_buf(&o, 0, a, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 1, b, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 2, dst, 0);
    if (e == NLCL_SUCCESS)
        e = run_concat(&o.ks, o.m[0], a, o.m[1], b, o.m[2], dst);
    return one_end(&o, e, 2, dst);
}

/* ------------------------------------------------------------ OBMC */

struct nl_cl_mc {
    kset ks;
    int w, h;
    nlcl_mem ref[3], mvs, x6;
};

void nl_cl_mc_free(nl_cl_mc **pmc)
{
    if (!pmc || !*pmc)
        return;
    nl_cl_mc *mc = *pmc;
    if (mc->ks.cl) {
        for (int p = 0; p < 3; p++)
            mem_release(&mc->ks, &mc->ref[p]);
        mem_release(&mc->ks, &mc->mvs);
        mem_release(&mc->ks, &mc->x6);
    }
    kset_free(&mc->ks);
    free(mc);
    *pmc = NULL;
}

int nl_cl_mc_new(nl_cl_mc **pmc, int w, int h, char *err, size_t errlen)
{
    int ret;
    *pmc = NULL;
    if (w < 16 || h < 16 || w % 16 || h % 16 || w > NL_GRAPH_MAX_SIDE || h > NL_GRAPH_MAX_SIDE)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "OpenCL OBMC: size %dx%d", w, h);
    nl_cl_mc *mc = calloc(1, sizeof(*mc));
    if (!mc)
        return nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
    if ((ret = kset_init(&mc->ks, err, errlen)) < 0)
        goto fail;
    mc->w = w;
    mc->h = h;
    const size_t luma = (size_t)w * (size_t)h, chroma = luma / 4;
    const size_t nmv = (size_t)(w / 16) * (size_t)(h / 16);
    nlcl_int e = NLCL_SUCCESS;
    mc->ref[0] = buf_new(&mc->ks, luma, &e);
    if (e == NLCL_SUCCESS)
        mc->ref[1] = buf_new(&mc->ks, chroma, &e);
    if (e == NLCL_SUCCESS)
        mc->ref[2] = buf_new(&mc->ks, chroma, &e);
    if (e == NLCL_SUCCESS)
        mc->mvs = buf_new(&mc->ks, nmv * 4, &e);
    if (e == NLCL_SUCCESS)
        mc->x6 = buf_new(&mc->ks, chroma * 6, &e);
    if (e != NLCL_SUCCESS || !mc->x6) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "OpenCL: out of device memory (%d)", (int)e);
        goto fail;
    }
    *pmc = mc;
    return 0;
fail:
    nl_cl_mc_free(&mc);
    return ret;
}

int nl_cl_mc_obmc_x6(nl_cl_mc *mc, const uint8_t *const planes[3], const ptrdiff_t strides[3],
                     const int16_t *mvs, ptrdiff_t mv_stride, nl_tensor *x6)
{
    const kset *ks = &mc->ks;
    const int w = mc->w, h = mc->h, wb = w / 16, hb = h / 16;
    if (x6->type != NL_U8 || x6->c != 6 || x6->w != w / 2 || x6->h != h / 2 || mv_stride < wb)
        return NEUVC_ERR(EINVAL);
    nlcl_int e = NLCL_SUCCESS;
    for (int p = 0; p < 3 && e == NLCL_SUCCESS; p++) {
        const nl_tensor t = { (void *)planes[p], p ? h / 2 : h, p ? w / 2 : w, 1, strides[p],
                              NL_U8 };
        e = tensor_upload(ks, mc->ref[p], &t);
    }
    if (e == NLCL_SUCCESS) {
        const nl_tensor t = { (void *)mvs, hb, wb, 2, 2 * mv_stride, NL_S16 };
        e = tensor_upload(ks, mc->mvs, &t);
    }
    const int ys = w, cs = w / 2, mvs_w = wb;
    const karg args[] = { ARG(mc->ref[0]), ARG(ys), ARG(mc->ref[1]), ARG(mc->ref[2]), ARG(cs),
                          ARG(w), ARG(h), ARG(mc->mvs), ARG(mvs_w), ARG(mc->x6) };
    if (e == NLCL_SUCCESS)
        e = set_args(ks, K_MC, args, (int)(sizeof(args) / sizeof(args[0])));
    if (e == NLCL_SUCCESS) {
        size_t local[2] = { ks->wg >= 16 ? 16 : ks->wg, ks->wg >= 16 ? ks->wg / 16 : 1 };
        size_t global[2] = { round_up((size_t)w / 2, local[0]), round_up((size_t)h / 2, local[1]) };
        e = ks->cl->api.EnqueueNDRangeKernel(ks->q, ks->k[K_MC], 2, NULL, global, local, 0, NULL,
                                             NULL);
    }
    if (e == NLCL_SUCCESS)
        e = tensor_download(ks, mc->x6, x6);
    return e == NLCL_SUCCESS ? 0 : NEUVC_ERR(EIO);
}
