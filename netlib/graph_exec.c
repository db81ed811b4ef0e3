/*
 * Graph executor: shapes from the input sizes, one buffer plan per size,
 * and the op loop on the reference kernels.
 *
 * Buffer plan (liveness): walking the ops in order, each destination slot
 * takes a free buffer (the smallest that is large enough, else the largest
 * free one, grown, else a new one); a source slot's buffer becomes free
 * after the last op that reads it.  Graph outputs are never freed, and a
 * CLAMP whose source dies at that op runs in place on the source's buffer.
 * So a buffer holds at most one live slot at any time, and run() cannot
 * overwrite a value that a later op still reads.
 *
 * Threads: with a pool (nl_graph_exec_set_pool), each op large enough to
 * pay for it is cut into bands of output rows run as the pool's jobs, one
 * op after another (every kernel computes any row range of its output
 * from the whole input, dsp.h).  A band's bytes do not depend on which
 * thread computes it or how rows are cut, so the output is the same for
 * every thread count.
 */
#include "netlib/graph.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "neuvc/neuvc.h"
#include "common/threadpool.h"
#include "netlib/dsp.h"
#include "netlib/opencl/opencl.h"

#define EXEC_ALIGN 64            /* buffer alignment, and slack after each */

struct nl_graph_exec {
    const nl_graph *g;
    int prepared;
    int *in_h, *in_w;            /* [n_inputs] sizes of the current plan */
    int *last_use;               /* [n_slots] last op reading the slot; -1 none */
    uint8_t *is_output;          /* [n_slots] */
    nl_tensor *view;             /* [n_slots] shapes, data once prepared */
    size_t *slot_bytes;          /* [n_slots] */
    int *buf_of;                 /* [n_slots] buffer index; -1 for inputs */
    void **buf;                  /* [n_ops] */
    size_t *buf_size;            /* [n_ops] */
    int *free_bufs;              /* [n_ops] planning scratch */
    int n_buf;
    uint64_t macs;
    size_t bytes;
    char err[160];
    nl_dsp dsp;                  /* the kernels (a copy of the table given at creation) */
    nl_conv_plan **plan;         /* [n_ops] a plan (packed weights) per CONV op */
    nv_pool *pool;               /* borrowed; NULL: one thread */
    uint64_t *op_cost;           /* [n_ops] work of each op as prepared (MACs or bytes) */
    uint64_t *prof_ns;           /* borrowed [n_ops] per-op time, or NULL */
    uint64_t run_ns;             /* wall time of every run so far */
    uint32_t cur_op;             /* the op the pool's jobs belong to */
    int cur_jobs;                /* and its number of bands */
    nl_cl_exec *cl;              /* set when dsp.opencl: every call goes there */
};

__attribute__((format(printf, 3, 4)))
static int exec_fail(nl_graph_exec *ex, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->err, sizeof(ex->err), fmt, ap);
    va_end(ap);
    return code;
}

static void exec_release(nl_graph_exec *ex)
{
    for (int b = 0; b < ex->n_buf; b++) {
        free(ex->buf[b]);
        ex->buf[b] = NULL;
    }
    ex->n_buf = 0;
    ex->prepared = 0;
    ex->macs = 0;
    ex->bytes = 0;
}

int nl_graph_exec_new(nl_graph_exec **pex, const nl_graph *g)
{
    return nl_graph_exec_new_dsp(pex, g, nl_dsp_default());
}

int nl_graph_exec_new_dsp(nl_graph_exec **pex, const nl_graph *g, const nl_dsp *dsp)
{
    if (!pex || !dsp)
        return NEUVC_ERR(EINVAL);
    *pex = NULL;
    if (!g || !g->slots || !g->bound)
        return NEUVC_ERR(EINVAL);
    nl_graph_exec *ex = calloc(1, sizeof(*ex));
    if (!ex)
        return NEUVC_ERR(ENOMEM);
    ex->g = g;
    ex->dsp = *dsp;
    if (dsp->opencl) {
        int ret = nl_cl_exec_new(&ex->cl, g, ex->err, sizeof(ex->err));
        if (ret < 0) {
            free(ex);
            return ret;
        }
        *pex = ex;
        return 0;
    }
    ex->in_h = calloc(g->n_inputs, sizeof(int));
    ex->in_w = calloc(g->n_inputs, sizeof(int));
    ex->last_use = malloc(g->n_slots * sizeof(int));
    ex->is_output = calloc(g->n_slots, 1);
    ex->view = calloc(g->n_slots, sizeof(nl_tensor));
    ex->slot_bytes = calloc(g->n_slots, sizeof(size_t));
    ex->buf_of = malloc(g->n_slots * sizeof(int));
    ex->buf = calloc(g->n_ops, sizeof(void *));
    ex->buf_size = calloc(g->n_ops, sizeof(size_t));
    ex->free_bufs = calloc(g->n_ops, sizeof(int));
    ex->plan = calloc(g->n_ops, sizeof(nl_conv_plan *));
    ex->op_cost = calloc(g->n_ops, sizeof(uint64_t));
    if (!ex->op_cost || !ex->in_h || !ex->in_w || !ex->last_use || !ex->is_output || !ex->view ||
        !ex->slot_bytes || !ex->buf_of || !ex->buf || !ex->buf_size || !ex->free_bufs ||
        !ex->plan) {
        nl_graph_exec_free(&ex);
        return NEUVC_ERR(ENOMEM);
    }
    /* Weights are packed here, once per executor, not per run. */
    for (uint32_t i = 0; i < g->n_ops; i++) {
        int ret = g->ops[i].code == NL_OP_CONV
                  ? nl_conv_plan_new(&ex->plan[i], &ex->dsp, &g->bound[i].conv) : 0;
        if (ret < 0) {
            nl_graph_exec_free(&ex);
            return ret;
        }
    }
    for (uint32_t s = 0; s < g->n_slots; s++) {
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
}

void nl_graph_exec_free(nl_graph_exec **pex)
{
    if (!pex || !*pex)
        return;
    nl_graph_exec *ex = *pex;
    nl_cl_exec_free(&ex->cl);
    if (ex->buf)
        exec_release(ex);
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
    for (uint32_t i = 0; ex->plan && i < ex->g->n_ops; i++)
        nl_conv_plan_free(&ex->plan[i]);
    free(ex->plan);
    free(ex->op_cost);
    free(ex);
    *pex = NULL;
}

/* Shape of every slot from the input sizes; MACs of one run. */
static int shapes_compute(nl_graph_exec *ex, const int *h, const int *w)
{
    const nl_graph *g = ex->g;
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        nl_tensor *t = &ex->view[g->inputs[i].slot];
        t->h = h[i];
        t->w = w[i];
    }
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const nl_graph_op *op = &g->ops[i];
        const nl_tensor *x = &ex->view[op->src[0]];
        const nl_tensor *y = op->src[1] != NL_GRAPH_NONE ? &ex->view[op->src[1]] : NULL;
        nl_tensor *d = &ex->view[op->dst];
        int r = op->attr[NL_SHUFFLE_R];
        const char *name = nl_opcode_name(op->code);
        d->h = x->h;
        d->w = x->w;
        switch (op->code) {
        case NL_OP_CONV: {
            const nl_conv_desc *cd = &g->bound[i].conv;
            d->h = nl_conv_out_size(x->h, cd->stride);
            d->w = nl_conv_out_size(x->w, cd->stride);
            ex->op_cost[i] = (uint64_t)d->h * (uint64_t)d->w * (uint64_t)cd->cout *
                             (uint64_t)(cd->k * cd->k) * (uint64_t)cd->cin;
            ex->macs += ex->op_cost[i];
            break;
        }
        case NL_OP_ADD:
        case NL_OP_CONCAT:
            if (x->h != y->h || x->w != y->w)
                return exec_fail(ex, NEUVC_ERR(EINVAL), "op %u (%s): operands %dx%d and %dx%d",
                                 (unsigned)i, name, x->w, x->h, y->w, y->h);
            break;
        case NL_OP_S2D:
            if (x->h % r != 0 || x->w % r != 0)
                return exec_fail(ex, NEUVC_ERR(EINVAL), "op %u (s2d): %dx%d not divisible by %d",
                                 (unsigned)i, x->w, x->h, r);
            d->h = x->h / r;
            d->w = x->w / r;
            break;
        case NL_OP_D2S:
            if (x->h > NL_GRAPH_MAX_SIDE / r || x->w > NL_GRAPH_MAX_SIDE / r)
                return exec_fail(ex, NEUVC_ERR(ERANGE), "op %u (d2s): output beyond %d",
                                 (unsigned)i, NL_GRAPH_MAX_SIDE);
            d->h = x->h * r;
            d->w = x->w * r;
            break;
        default:
            break;
        }
    }
    for (uint32_t s = 0; s < g->n_slots; s++) {
        nl_tensor *t = &ex->view[s];
        t->type = g->slots[s].type;
        t->c = g->slots[s].c;
        t->data = NULL;
        /* h, w <= 2^16, c <= 2^16, element <= 4 bytes: < 2^50, exact. */
        uint64_t bytes = (uint64_t)t->h * (uint64_t)t->w * (uint64_t)t->c *
                         (uint64_t)nl_type_size(t->type);
        if (bytes > (uint64_t)(PTRDIFF_MAX / 2))
            return exec_fail(ex, NEUVC_ERR(ERANGE), "slot %u: %llu bytes", (unsigned)s,
                             (unsigned long long)bytes);
        t->stride = (ptrdiff_t)t->w * t->c;
        ex->slot_bytes[s] = (size_t)bytes;
    }
    /* Work of the other ops: bytes written (an element op moves a few
     * bytes per byte written, a MAC costs about as much as a byte). */
    for (uint32_t i = 0; i < g->n_ops; i++)
        if (g->ops[i].code != NL_OP_CONV)
            ex->op_cost[i] = 4 * ex->slot_bytes[g->ops[i].dst];
    return 0;
}

/* A free buffer for need bytes (removed from the free list), or a new one. */
static int buffer_take(nl_graph_exec *ex, int *n_free, size_t need)
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

static void buffers_plan(nl_graph_exec *ex)
{
    const nl_graph *g = ex->g;
    int n_free = 0;
    for (uint32_t s = 0; s < g->n_slots; s++)
        ex->buf_of[s] = -1;
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const nl_graph_op *op = &g->ops[i];
        uint32_t x = op->src[0], y = op->src[1];
        int b;
        if (op->code == NL_OP_CLAMP && ex->buf_of[x] >= 0 && ex->last_use[x] == (int)i &&
            !ex->is_output[x])
            b = ex->buf_of[x]; /* in place: x dies here */
        else
            b = buffer_take(ex, &n_free, ex->slot_bytes[op->dst]);
        ex->buf_of[op->dst] = b;
        for (int k = 0; k < 2; k++) {
            uint32_t s = k == 0 ? x : y;
            if (s == NL_GRAPH_NONE || (k == 1 && y == x))
                continue;
            if (ex->buf_of[s] >= 0 && ex->buf_of[s] != b && ex->last_use[s] == (int)i &&
                !ex->is_output[s])
                ex->free_bufs[n_free++] = ex->buf_of[s];
        }
        if (ex->last_use[op->dst] < 0 && !ex->is_output[op->dst])
            ex->free_bufs[n_free++] = b;
    }
}

int nl_graph_prepare(nl_graph_exec *ex, const int *h, const int *w)
{
    if (!ex || !h || !w)
        return NEUVC_ERR(EINVAL);
    if (ex->cl)
        return nl_cl_exec_prepare(ex->cl, h, w, ex->err, sizeof(ex->err));
    const nl_graph *g = ex->g;
    int same = ex->prepared;
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        if (h[i] < 1 || h[i] > NL_GRAPH_MAX_SIDE || w[i] < 1 || w[i] > NL_GRAPH_MAX_SIDE)
            return exec_fail(ex, NEUVC_ERR(ERANGE), "input %u: %dx%d (1..%d)", (unsigned)i,
                             w[i], h[i], NL_GRAPH_MAX_SIDE);
        same = same && h[i] == ex->in_h[i] && w[i] == ex->in_w[i];
    }
    if (same)
        return 0;
    exec_release(ex);
    int ret = shapes_compute(ex, h, w);
    if (ret < 0) {
        ex->macs = 0;
        return ret;
    }
    buffers_plan(ex);
    for (int b = 0; b < ex->n_buf; b++) {
        size_t size = (ex->buf_size[b] / EXEC_ALIGN + 2) * EXEC_ALIGN;
        ex->buf[b] = aligned_alloc(EXEC_ALIGN, size);
        if (!ex->buf[b]) {
            exec_release(ex);
            return exec_fail(ex, NEUVC_ERR(ENOMEM), "out of memory");
        }
        ex->bytes += size;
    }
    for (uint32_t s = 0; s < g->n_slots; s++)
        if (ex->buf_of[s] >= 0)
            ex->view[s].data = ex->buf[ex->buf_of[s]];
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        ex->in_h[i] = h[i];
        ex->in_w[i] = w[i];
    }
    ex->prepared = 1;
    ex->err[0] = '\0';
    return 0;
}

static void rows_copy(const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    size_t row = (size_t)dst->w * (size_t)dst->c * nl_type_size(dst->type);
    size_t esize = nl_type_size(dst->type);
    for (int y = y0; y < y1; y++)
        memcpy((char *)dst->data + (size_t)y * (size_t)dst->stride * esize,
               (const char *)src->data + (size_t)y * (size_t)src->stride * esize, row);
}

/* The one place that calls kernels, all through the executor's dispatch
 * table (convolutions through the plans made at creation): output rows
 * [y0, y1) of op i. */
static void op_run(nl_graph_exec *ex, uint32_t i, int y0, int y1)
{
    const nl_graph_op *op = &ex->g->ops[i];
    const nl_graph_bound *b = &ex->g->bound[i];
    const nl_dsp *dsp = &ex->dsp;
    const nl_tensor *x = &ex->view[op->src[0]];
    const nl_tensor *y = op->src[1] != NL_GRAPH_NONE ? &ex->view[op->src[1]] : NULL;
    nl_tensor *d = &ex->view[op->dst];
    switch (op->code) {
    case NL_OP_CONV:
        nl_conv_plan_run(ex->plan[i], x, d, y0, y1, NULL);
        break;
    case NL_OP_REQUANT:
        dsp->requant(&b->rq, x, d, y0, y1);
        break;
    case NL_OP_ADD:
        dsp->add(&b->add, x, y, d, y0, y1);
        break;
    case NL_OP_CLAMP:
        if (d->data != x->data)
            rows_copy(x, d, y0, y1);
        dsp->clamp(d, op->attr[NL_CLAMP_LO], op->attr[NL_CLAMP_HI], y0, y1);
        break;
    case NL_OP_S2D:
        dsp->s2d(x, d, op->attr[NL_SHUFFLE_R], y0, y1);
        break;
    case NL_OP_D2S:
        dsp->d2s(x, d, op->attr[NL_SHUFFLE_R], y0, y1);
        break;
    case NL_OP_CONCAT:
        dsp->concat(x, y, d, y0, y1);
        break;
    default:
        break; /* unreachable: validated opcodes only */
    }
}

/* Work per band: below this an op runs on one thread (a band then costs
 * more to hand over than to compute). */
#define BAND_MIN_COST (1u << 20)
#define BANDS_PER_THREAD 4       /* bands per thread, for balance under load */

static void band_job(void *arg, int job, int thread)
{
    nl_graph_exec *ex = arg;
    const int h = ex->view[ex->g->ops[ex->cur_op].dst].h, n = ex->cur_jobs;
    (void)thread;
    /* Band j: rows [j * h / n, (j + 1) * h / n); h < 2^17, n <= h. */
    op_run(ex, ex->cur_op, (int)((int64_t)job * h / n), (int)((int64_t)(job + 1) * h / n));
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int nl_graph_run(nl_graph_exec *ex, const nl_tensor *in, nl_tensor *out, nl_stats *st)
{
    if (!ex || !in)
        return NEUVC_ERR(EINVAL);
    if (ex->cl)
        return nl_cl_exec_run(ex->cl, in, out, st, ex->err, sizeof(ex->err));
    if (!ex->prepared)
        return exec_fail(ex, NEUVC_ERR(EINVAL), "run before prepare");
    const nl_graph *g = ex->g;
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        const nl_tensor *t = &in[i];
        const nl_graph_input *gi = &g->inputs[i];
        if (!t->data || t->type != (nl_type)gi->type || t->c != (int)gi->c ||
            t->h != ex->in_h[i] || t->w != ex->in_w[i] || t->stride < (ptrdiff_t)t->w * t->c)
            return exec_fail(ex, NEUVC_ERR(EINVAL),
                             "input %u: type %d, %dx%dx%d (data %s), prepared for type %u, %dx%dx%u",
                             (unsigned)i, (int)t->type, t->w, t->h, t->c, t->data ? "set" : "NULL",
                             (unsigned)gi->type, ex->in_w[i], ex->in_h[i], (unsigned)gi->c);
    }
    for (uint32_t i = 0; i < g->n_inputs; i++)
        ex->view[g->inputs[i].slot] = in[i];
    const int threads = nv_pool_threads(ex->pool);
    const uint64_t t_run = now_ns();
    for (uint32_t i = 0; i < g->n_ops; i++) {
        uint64_t t0 = ex->prof_ns ? now_ns() : 0;
        const int h = ex->view[g->ops[i].dst].h;
        uint64_t bands = ex->op_cost[i] / BAND_MIN_COST;
        if (bands > (uint64_t)threads * BANDS_PER_THREAD)
            bands = (uint64_t)threads * BANDS_PER_THREAD;
        if (bands > (uint64_t)h)
            bands = (uint64_t)h;
        if (threads > 1 && bands > 1) {
            ex->cur_op = i;
            ex->cur_jobs = (int)bands;
            nv_pool_run(ex->pool, band_job, ex, (int)bands);
        } else {
            op_run(ex, i, 0, h);
        }
        if (ex->prof_ns)
            ex->prof_ns[i] += now_ns() - t0;
    }
    ex->run_ns += now_ns() - t_run;
    if (st)
        st->macs += ex->macs;
    if (out)
        for (uint32_t i = 0; i < g->n_outputs; i++)
            out[i] = ex->view[g->outputs[i]];
    return 0;
}

void nl_graph_exec_set_pool(nl_graph_exec *ex, struct nv_pool *pool)
{
    if (ex)
        ex->pool = pool;
}

uint64_t nl_graph_exec_run_ns(const nl_graph_exec *ex)
{
    return ex ? ex->run_ns : 0;
}

void nl_graph_exec_set_profile(nl_graph_exec *ex, uint64_t *ns)
{
    if (ex)
        ex->prof_ns = ns;
}

const nl_tensor *nl_graph_exec_view(const nl_graph_exec *ex, uint32_t slot)
{
    if (!ex || ex->cl || !ex->prepared || slot >= ex->g->n_slots)
        return NULL;
    return &ex->view[slot];
}

uint64_t nl_graph_exec_op_macs(const nl_graph_exec *ex, uint32_t i)
{
    if (!ex || ex->cl || !ex->prepared || i >= ex->g->n_ops || ex->g->ops[i].code != NL_OP_CONV)
        return 0;
    return ex->op_cost[i];
}

const char *nl_graph_exec_kernel(const nl_graph_exec *ex, uint32_t i)
{
    if (!ex || ex->cl || i >= ex->g->n_ops)
        return NULL;
    const nl_dsp *d = &ex->dsp;
    switch (ex->g->ops[i].code) {
    case NL_OP_CONV: return ex->plan[i]->kern.name;
    case NL_OP_REQUANT: return d->requant_name;
    case NL_OP_ADD: return d->add_name;
    case NL_OP_CLAMP: return d->clamp_name;
    case NL_OP_S2D: return d->s2d_name;
    case NL_OP_D2S: return d->d2s_name;
    case NL_OP_CONCAT: return d->concat_name;
    default: return NULL;
    }
}

const nl_tensor *nl_graph_output(const nl_graph_exec *ex, uint32_t i)
{
    if (ex && ex->cl)
        return nl_cl_exec_output(ex->cl, i);
    if (!ex || !ex->prepared || i >= ex->g->n_outputs)
        return NULL;
    return &ex->view[ex->g->outputs[i]];
}

uint64_t nl_graph_exec_macs(const nl_graph_exec *ex)
{
    if (ex && ex->cl)
        return nl_cl_exec_macs(ex->cl);
    return ex && ex->prepared ? ex->macs : 0;
}

size_t nl_graph_exec_bytes(const nl_graph_exec *ex)
{
    if (ex && ex->cl)
        return nl_cl_exec_bytes(ex->cl);
    return ex && ex->prepared ? ex->bytes : 0;
}

const char *nl_graph_exec_error(const nl_graph_exec *ex)
{
    return ex ? ex->err : "";
}

int nl_graph_exec_link(nl_graph_exec *ex, uint32_t in, const nl_graph_exec *src, uint32_t out)
{
    if (!ex || !src || in >= ex->g->n_inputs || out >= src->g->n_outputs)
        return NEUVC_ERR(EINVAL);
    if (ex->cl && src->cl)
        return nl_cl_exec_link(ex->cl, in, src->cl, out);
    return 0; /* on the CPU an input is read where it lies */
}

int nl_graph_exec_device_only(nl_graph_exec *ex, uint32_t out)
{
    if (!ex || out >= ex->g->n_outputs)
        return NEUVC_ERR(EINVAL);
    return ex->cl ? nl_cl_exec_device_only(ex->cl, out) : 0;
}

int nl_graph_exec_on_device(const nl_graph_exec *ex)
{
    return ex && ex->cl;
}
