/*
 * The graph executor on OpenCL (opencl.h).
 *
 * Per executor: a command queue, its own kernel objects (clSetKernelArg is
 * not thread-safe on a shared kernel), the op constants on the device
 * (convolution weights repacked to HWIO, see kernels.cl; biases,
 * multipliers, shifts), and, once prepared, device buffers on the
 * liveness plan of graph_plan.h (shared with the CPU executor), inputs in
 * buffers of their own.  So no op overwrites a value a later op reads.
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
#include "netlib/graph_plan.h"
#include "netlib/opencl/launch.h"
#include "neuvc/neuvc.h"

struct nl_cl_exec {
    const nl_graph *g;
    nl_cl_kset ks;
    nl_cl_op_dev *od;            /* [n_ops] */
    int prepared;
    nl_graph_plan p;             /* shapes (view data: host mirrors of outputs), buffer plan
                                    (inputs too), MACs */
    nlcl_mem *buf;               /* [n_slots] */
    nlcl_mem *cur;               /* [n_slots] the buffer a slot reads at this run */
    void **host;                 /* [n_outputs] host mirrors */
    const nl_cl_exec **link_src; /* [n_inputs] */
    uint32_t *link_out;          /* [n_inputs] */
    uint8_t *dev_only;           /* [n_outputs] not read back (nl_cl_exec_device_only) */
    size_t bytes;
};

static void exec_release(nl_cl_exec *ex)
{
    for (int b = 0; b < ex->p.n_buf; b++)
        nl_cl_mem_release(&ex->ks, &ex->buf[b]);
    for (uint32_t i = 0; ex->host && i < ex->g->n_outputs; i++) {
        free(ex->host[i]);
        ex->host[i] = NULL;
    }
    for (uint32_t s = 0; ex->cur && s < ex->g->n_slots; s++)
        ex->cur[s] = NULL;
    ex->p.n_buf = 0;
    ex->prepared = 0;
    ex->p.macs = 0;
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
    nl_graph_plan_free(&ex->p);
    free(ex->buf);
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
    ex->buf = calloc(ns, sizeof(nlcl_mem));
    ex->cur = calloc(ns, sizeof(nlcl_mem));
    ex->host = calloc(g->n_outputs, sizeof(void *));
    ex->link_src = calloc(g->n_inputs, sizeof(*ex->link_src));
    ex->link_out = calloc(g->n_inputs, sizeof(uint32_t));
    ex->dev_only = calloc(g->n_outputs, 1);
    if (!ex->od || !ex->buf || !ex->cur || !ex->host ||
        !ex->link_src || !ex->link_out || !ex->dev_only || nl_graph_plan_init(&ex->p, g) < 0) {
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
    *pex = ex;
    return 0;
fail:
    nl_cl_exec_free(&ex);
    return ret;
}

int nl_cl_exec_prepare(nl_cl_exec *ex, const int *h, const int *w, char *err, size_t errlen)
{
    if (!ex || !h || !w)
        return NEUVC_ERR(EINVAL);
    const nl_graph *g = ex->g;
    int same = nl_graph_plan_same_sizes(&ex->p, ex->prepared, h, w, err, errlen);
    if (same != 0)
        return same < 0 ? same : 0;
    exec_release(ex);
    /* Kernels index elements with int: keep every tensor below 2^31. */
    int ret = nl_graph_plan_shapes(&ex->p, h, w, ((uint64_t)1 << 31) - 1, NULL, err, errlen);
    if (ret < 0) {
        ex->p.macs = 0;
        return ret;
    }
    nl_graph_plan_buffers(&ex->p, NL_PLAN_INPUT_BUFFERS);
    for (int b = 0; b < ex->p.n_buf; b++) {
        nlcl_int e = NLCL_SUCCESS;
        ex->buf[b] = nl_cl_buf_new(&ex->ks, ex->p.buf_size[b], &e);
        if (!ex->buf[b] || e != NLCL_SUCCESS) {
            exec_release(ex);
            return nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "OpenCL: out of device memory (%d)",
                           (int)e);
        }
        ex->bytes += ex->p.buf_size[b];
    }
    for (uint32_t i = 0; i < g->n_outputs; i++) {
        nl_tensor *t = &ex->p.view[g->outputs[i]];
        const size_t bytes = ex->p.slot_bytes[g->outputs[i]];
        ex->host[i] = malloc(bytes ? bytes : 1);
        if (!ex->host[i]) {
            exec_release(ex);
            return nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
        }
        t->data = ex->host[i];
    }
    nl_graph_plan_set_sizes(&ex->p, h, w);
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
    const nl_tensor *x = &ex->p.view[sx], *d = &ex->p.view[op->dst];
    const nl_tensor *y = sy != NL_GRAPH_NONE ? &ex->p.view[sy] : NULL;
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
    int ret = nl_graph_plan_check_inputs(&ex->p, in, err, errlen);
    if (ret < 0)
        return ret;
    for (uint32_t s = 0; s < g->n_slots; s++)
        ex->cur[s] = ex->p.buf_of[s] >= 0 ? ex->buf[ex->p.buf_of[s]] : NULL;
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
                            : nl_cl_tensor_download(&ex->ks, ex->cur[s], &ex->p.view[s]);
    }
    if (e != NLCL_SUCCESS)
        return nv_fail(err, errlen, NEUVC_ERR(EIO), "OpenCL error %d", (int)e);
    if (st)
        st->macs += ex->p.macs;
    if (out)
        for (uint32_t i = 0; i < g->n_outputs; i++)
            out[i] = ex->p.view[g->outputs[i]];
    return 0;
}

const nl_tensor *nl_cl_exec_output(const nl_cl_exec *ex, uint32_t i)
{
    if (!ex || !ex->prepared || i >= ex->g->n_outputs)
        return NULL;
    return &ex->p.view[ex->g->outputs[i]];
}

uint64_t nl_cl_exec_macs(const nl_cl_exec *ex)
{
    return ex && ex->prepared ? ex->p.macs : 0;
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
