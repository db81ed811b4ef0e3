/*
 * Graph executor: shapes from the input sizes, one buffer plan per size,
 * and the op loop on the reference kernels.
 *
 * Buffer plan: graph_plan.h's liveness plan, inputs read in place from
 * the caller's memory, and a CLAMP whose source dies at that op run in
 * place on the source's buffer.  So run() cannot overwrite a value that a
 * later op still reads.
 *
 * Concat fusion: a CONCAT read by one CONV alone whose plan has run2
 * (dsp.h; the AMX kernels), and not a graph output, does not run: the
 * CONV reads the CONCAT's two sources instead, with the same bytes out
 * (graph_plan.h keeps the sources alive until then).  The CONCAT's slot
 * then has no data (nl_graph_exec_view: NULL data).
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
#include "netlib/graph_plan.h"
#include "netlib/opencl/opencl.h"

#define EXEC_ALIGN 64            /* buffer alignment, and slack after each */

/* The block of an executor's slot buffers, or of several executors' that
 * never run at the same time (nl_graph_exec_share); freed by its last
 * user. */
typedef struct exec_arena {
    void *mem;
    int refs;
} exec_arena;

struct nl_graph_exec {
    const nl_graph *g;
    int prepared;
    nl_graph_plan p;             /* shapes (view: data once prepared), buffer plan, MACs */
    void **buf;                  /* [n_ops] */
    exec_arena *arena;           /* buf[] lie in this block once prepared */
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

/* Bytes of buffer b with its slack: a multiple of EXEC_ALIGN. */
static size_t buf_bytes(const nl_graph_exec *ex, int b)
{
    return (ex->p.buf_size[b] / EXEC_ALIGN + 2) * EXEC_ALIGN;
}

/* A block of n bytes (a multiple of EXEC_ALIGN) with one user. */
static exec_arena *arena_new(size_t n)
{
    exec_arena *ar = malloc(sizeof(*ar));
    if (!ar)
        return NULL;
    ar->refs = 1;
    ar->mem = aligned_alloc(EXEC_ALIGN, n ? n : EXEC_ALIGN);
    if (!ar->mem) {
        free(ar);
        return NULL;
    }
    return ar;
}

static void arena_unref(exec_arena **par)
{
    if (*par && --(*par)->refs == 0) {
        free((*par)->mem);
        free(*par);
    }
    *par = NULL;
}

/* Points ex's buffers and slot views into ar, buffer after buffer. */
static void arena_bind(nl_graph_exec *ex, exec_arena *ar)
{
    size_t off = 0; /* the sum of buf_bytes() is ex->bytes */
    ex->arena = ar;
    for (int b = 0; b < ex->p.n_buf; b++) {
        ex->buf[b] = (char *)ar->mem + off;
        off += buf_bytes(ex, b);
    }
    for (uint32_t s = 0; s < ex->g->n_slots; s++)
        if (ex->p.buf_of[s] >= 0)
            ex->p.view[s].data = ex->buf[ex->p.buf_of[s]];
}

static void exec_release(nl_graph_exec *ex)
{
    for (int b = 0; b < ex->p.n_buf; b++)
        ex->buf[b] = NULL;
    arena_unref(&ex->arena);
    ex->p.n_buf = 0;
    ex->prepared = 0;
    ex->p.macs = 0;
    ex->bytes = 0;
}

/* Fusion test (nl_graph_plan_fuse_concat): CONV op i's plan has run2. */
static int conv_takes_pair(void *ctx, uint32_t i)
{
    const nl_graph_exec *ex = ctx;
    return ex->plan[i] && ex->plan[i]->run2;
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
    ex->buf = calloc(g->n_ops, sizeof(void *));
    ex->plan = calloc(g->n_ops, sizeof(nl_conv_plan *));
    ex->op_cost = calloc(g->n_ops, sizeof(uint64_t));
    if (!ex->op_cost || !ex->buf || !ex->plan || nl_graph_plan_init(&ex->p, g) < 0) {
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
    nl_graph_plan_fuse_concat(&ex->p, conv_takes_pair, ex);
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
    nl_graph_plan_free(&ex->p);
    free(ex->buf);
    for (uint32_t i = 0; ex->plan && i < ex->g->n_ops; i++)
        nl_conv_plan_free(&ex->plan[i]);
    free(ex->plan);
    free(ex->op_cost);
    free(ex);
    *pex = NULL;
}

int nl_graph_prepare(nl_graph_exec *ex, const int *h, const int *w)
{
    if (!ex || !h || !w)
        return NEUVC_ERR(EINVAL);
    if (ex->cl)
        return nl_cl_exec_prepare(ex->cl, h, w, ex->err, sizeof(ex->err));
    const nl_graph *g = ex->g;
    int same = nl_graph_plan_same_sizes(&ex->p, ex->prepared, h, w, ex->err, sizeof(ex->err));
    if (same != 0)
        return same < 0 ? same : 0;
    exec_release(ex);
    int ret = nl_graph_plan_shapes(&ex->p, h, w, UINT64_MAX, ex->op_cost, ex->err,
                                   sizeof(ex->err));
    if (ret < 0) {
        ex->p.macs = 0;
        return ret;
    }
    /* Work of the other ops: bytes written (an element op moves a few
     * bytes per byte written, a MAC costs about as much as a byte). */
    for (uint32_t i = 0; i < g->n_ops; i++)
        if (g->ops[i].code != NL_OP_CONV)
            ex->op_cost[i] = 4 * ex->p.slot_bytes[g->ops[i].dst];
    nl_graph_plan_buffers(&ex->p, NL_PLAN_CLAMP_IN_PLACE);
    for (int b = 0; b < ex->p.n_buf; b++)
        ex->bytes += buf_bytes(ex, b);
    exec_arena *ar = arena_new(ex->bytes);
    if (!ar) {
        exec_release(ex);
        return exec_fail(ex, NEUVC_ERR(ENOMEM), "out of memory");
    }
    arena_bind(ex, ar);
    nl_graph_plan_set_sizes(&ex->p, h, w);
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
    const nl_tensor *x = &ex->p.view[op->src[0]];
    const nl_tensor *y = op->src[1] != NL_GRAPH_NONE ? &ex->p.view[op->src[1]] : NULL;
    nl_tensor *d = &ex->p.view[op->dst];
    switch (op->code) {
    case NL_OP_CONV:
        if (ex->p.fused[i] >= 0) {
            const nl_graph_op *cat = &ex->g->ops[ex->p.fused[i]];
            if (y1 > y0)
                ex->plan[i]->run2(ex->plan[i], &ex->p.view[cat->src[0]],
                                  &ex->p.view[cat->src[1]], d, y0, y1);
        } else {
            nl_conv_plan_run(ex->plan[i], x, d, y0, y1, NULL);
        }
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
    const int h = ex->p.view[ex->g->ops[ex->cur_op].dst].h, n = ex->cur_jobs;
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
    int ret = nl_graph_plan_check_inputs(&ex->p, in, ex->err, sizeof(ex->err));
    if (ret < 0)
        return ret;
    for (uint32_t i = 0; i < g->n_inputs; i++)
        ex->p.view[g->inputs[i].slot] = in[i];
    const int threads = nv_pool_threads(ex->pool);
    const uint64_t t_run = now_ns();
    for (uint32_t i = 0; i < g->n_ops; i++) {
        if (g->ops[i].code == NL_OP_CONCAT && ex->p.fused[i] >= 0)
            continue; /* runs inside its CONV */
        uint64_t t0 = ex->prof_ns ? now_ns() : 0;
        const int h = ex->p.view[g->ops[i].dst].h;
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
        st->macs += ex->p.macs;
    if (out)
        for (uint32_t i = 0; i < g->n_outputs; i++)
            out[i] = ex->p.view[g->outputs[i]];
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
    return &ex->p.view[slot];
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
    case NL_OP_CONCAT: return ex->p.fused[i] >= 0 ? "(fused into its conv)" : d->concat_name;
    default: return NULL;
    }
}

const nl_tensor *nl_graph_output(const nl_graph_exec *ex, uint32_t i)
{
    if (ex && ex->cl)
        return nl_cl_exec_output(ex->cl, i);
    if (!ex || !ex->prepared || i >= ex->g->n_outputs)
        return NULL;
    return &ex->p.view[ex->g->outputs[i]];
}

uint64_t nl_graph_exec_macs(const nl_graph_exec *ex)
{
    if (ex && ex->cl)
        return nl_cl_exec_macs(ex->cl);
    return ex && ex->prepared ? ex->p.macs : 0;
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

int nl_graph_exec_share(nl_graph_exec *const *ex, int n)
{
    size_t bytes = 0;
    int users = 0;
    if (!ex || n < 0)
        return NEUVC_ERR(EINVAL);
    for (int i = 0; i < n; i++) {
        if (!ex[i] || ex[i]->cl)
            continue; /* device buffers stay apart */
        if (!ex[i]->prepared)
            return NEUVC_ERR(EINVAL);
        for (int k = 0; k < i; k++)
            if (ex[k] == ex[i])
                return NEUVC_ERR(EINVAL);
        bytes = ex[i]->bytes > bytes ? ex[i]->bytes : bytes;
        users++;
    }
    if (users < 2)
        return 0;
    exec_arena *ar = arena_new(bytes);
    if (!ar)
        return NEUVC_ERR(ENOMEM);
    for (int i = 0; i < n; i++)
        if (ex[i] && !ex[i]->cl) {
            arena_unref(&ex[i]->arena);
            arena_bind(ex[i], ar);
        }
    ar->refs = users;
    return 0;
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
