/*
 * The graph executor on OpenCL (opencl.h).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errmsg.h"
#include "netlib/opencl/launch.h"
#include "neuvc/neuvc.h"

struct nl_cl_exec {
    const nl_graph *g;
    nl_cl_kset ks;
    nl_cl_op_dev *od;            /* [n_ops] */
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
        nl_cl_mem_release(&ex->ks, &ex->buf[b]);
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
        nl_cl_op_dev_free(&ex->ks, &ex->od[i]);
    nl_cl_kset_free(&ex->ks);
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
    ex->od = calloc(g->n_ops, sizeof(nl_cl_op_dev));
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
    if ((ret = nl_cl_kset_init(&ex->ks, err, errlen)) < 0)
        goto fail;
    /* The op constants go to the device once, here. */
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const nl_graph_op *op = &g->ops[i];
        const nl_graph_bound *b = &g->bound[i];
        const int c = g->slots[op->dst].c;
        nlcl_int e = NLCL_SUCCESS;
        if (op->code == NL_OP_CONV)
            e = nl_cl_conv_consts(&ex->ks, &b->conv, &ex->od[i]);
        else if (op->code == NL_OP_REQUANT)
            e = nl_cl_requant_consts(&ex->ks, &b->rq, c, &ex->od[i]);
        else if (op->code == NL_OP_ADD)
            e = nl_cl_add_consts(&ex->ks, &b->add, c, &ex->od[i]);
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
                return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "op %u (s2d): %dx%d not divisible by %d",
                               (unsigned)i, x->w, x->h, r);
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
        ex->buf[b] = nl_cl_buf_new(&ex->ks, ex->buf_size[b], &e);
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
    const nl_cl_op_dev *od = &ex->od[i];
    const nl_cl_kset *ks = &ex->ks;
    const uint32_t sx = op->src[0], sy = op->src[1];
    const nl_tensor *x = &ex->view[sx], *d = &ex->view[op->dst];
    const nl_tensor *y = sy != NL_GRAPH_NONE ? &ex->view[sy] : NULL;
    nlcl_mem mx = ex->cur[sx], my = y ? ex->cur[sy] : NULL, md = ex->cur[op->dst];
    switch (op->code) {
    case NL_OP_CONV: return nl_cl_run_conv(ks, &b->conv, od, mx, x, md, d);
    case NL_OP_REQUANT: return nl_cl_run_requant(ks, &b->rq, od, mx, x, md, d);
    case NL_OP_ADD: return nl_cl_run_add(ks, &b->add, od, mx, x, my, y, md, d);
    case NL_OP_CLAMP:
        return nl_cl_run_clamp(ks, mx, md, d, op->attr[NL_CLAMP_LO], op->attr[NL_CLAMP_HI]);
    case NL_OP_S2D: return nl_cl_run_shuffle(ks, 0, mx, x, md, d, op->attr[NL_SHUFFLE_R]);
    case NL_OP_D2S: return nl_cl_run_shuffle(ks, 1, mx, x, md, d, op->attr[NL_SHUFFLE_R]);
    case NL_OP_CONCAT: return nl_cl_run_concat(ks, mx, x, my, y, md, d);
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
            e = nl_cl_tensor_upload(&ex->ks, ex->cur[s], &in[i]);
    }
    for (uint32_t i = 0; i < g->n_ops && e == NLCL_SUCCESS; i++)
        e = op_enqueue(ex, i);
    for (uint32_t i = 0; i < g->n_outputs && e == NLCL_SUCCESS; i++) {
        const uint32_t s = g->outputs[i];
        e = ex->dev_only[i] ? ex->ks.cl->api.Finish(ex->ks.q)
                            : nl_cl_tensor_download(&ex->ks, ex->cur[s], &ex->view[s]);
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
