#include "netlib/graph_plan.h"

#include <errno.h>
#include <stdlib.h>

#include "common/errmsg.h"
#include "neuvc/neuvc.h"

int nl_graph_plan_init(nl_graph_plan *p, const nl_graph *g)
{
    const size_t ns = g->n_slots;
    p->g = g;
    p->in_h = calloc(g->n_inputs, sizeof(int));
    p->in_w = calloc(g->n_inputs, sizeof(int));
    p->last_use = malloc(ns * sizeof(int));
    p->is_output = calloc(ns, 1);
    p->view = calloc(ns, sizeof(nl_tensor));
    p->slot_bytes = calloc(ns, sizeof(size_t));
    p->buf_of = malloc(ns * sizeof(int));
    p->buf_size = calloc(ns, sizeof(size_t));
    p->free_bufs = calloc(ns, sizeof(int));
    p->fused = malloc((g->n_ops ? g->n_ops : 1) * sizeof(int));
    if (!p->in_h || !p->in_w || !p->last_use || !p->is_output || !p->view || !p->slot_bytes || !p->buf_of ||
        !p->buf_size || !p->free_bufs || !p->fused)
        return NEUVC_ERR(ENOMEM);
    for (uint32_t i = 0; i < g->n_ops; i++)
        p->fused[i] = -1;
    for (uint32_t s = 0; s < ns; s++) {
        p->last_use[s] = -1;
        p->buf_of[s] = -1;
    }
    for (uint32_t i = 0; i < g->n_ops; i++)
        for (int k = 0; k < 2; k++)
            if (g->ops[i].src[k] != NL_GRAPH_NONE)
                p->last_use[g->ops[i].src[k]] = (int)i;
    for (uint32_t i = 0; i < g->n_outputs; i++)
        p->is_output[g->outputs[i]] = 1;
    return 0;
}

void nl_graph_plan_free(nl_graph_plan *p)
{
    free(p->in_h);
    free(p->in_w);
    free(p->last_use);
    free(p->is_output);
    free(p->view);
    free(p->slot_bytes);
    free(p->buf_of);
    free(p->buf_size);
    free(p->free_bufs);
    free(p->fused);
    p->fused = NULL;
    p->in_h = p->in_w = p->last_use = p->buf_of = p->free_bufs = NULL;
    p->is_output = NULL;
    p->view = NULL;
    p->slot_bytes = p->buf_size = NULL;
}

int nl_graph_plan_fuse_concat(nl_graph_plan *p, int (*can)(void *ctx, uint32_t op), void *ctx)
{
    const nl_graph *g = p->g;
    int *readers = p->free_bufs; /* scratch, [n_slots]: ops reading each slot */
    int n = 0;
    for (uint32_t s = 0; s < g->n_slots; s++)
        readers[s] = 0;
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const uint32_t x = g->ops[i].src[0], y = g->ops[i].src[1];
        readers[x]++;
        if (y != NL_GRAPH_NONE && y != x)
            readers[y]++;
    }
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const nl_graph_op *op = &g->ops[i];
        const uint32_t s = op->dst;
        if (op->code != NL_OP_CONCAT || p->is_output[s] || readers[s] != 1)
            continue;
        const int j = p->last_use[s]; /* the one reader, after i (SSA) */
        if (g->ops[j].code != NL_OP_CONV || g->ops[j].src[0] != s || !can(ctx, (uint32_t)j))
            continue;
        p->fused[i] = j;
        p->fused[j] = (int)i;
        for (int k = 0; k < 2; k++)
            if (p->last_use[op->src[k]] < j)
                p->last_use[op->src[k]] = j;
        n++;
    }
    return n;
}

int nl_graph_plan_same_sizes(const nl_graph_plan *p, int planned, const int *h, const int *w,
                             char *err, size_t errlen)
{
    int same = planned;
    for (uint32_t i = 0; i < p->g->n_inputs; i++) {
        if (h[i] < 1 || h[i] > NL_GRAPH_MAX_SIDE || w[i] < 1 || w[i] > NL_GRAPH_MAX_SIDE)
            return nv_fail(err, errlen, NEUVC_ERR(ERANGE), "input %u: %dx%d (1..%d)", (unsigned)i,
                           w[i], h[i], NL_GRAPH_MAX_SIDE);
        same = same && h[i] == p->in_h[i] && w[i] == p->in_w[i];
    }
    return same;
}

void nl_graph_plan_set_sizes(nl_graph_plan *p, const int *h, const int *w)
{
    for (uint32_t i = 0; i < p->g->n_inputs; i++) {
        p->in_h[i] = h[i];
        p->in_w[i] = w[i];
    }
}

int nl_graph_plan_check_inputs(const nl_graph_plan *p, const nl_tensor *in, char *err,
                               size_t errlen)
{
    for (uint32_t i = 0; i < p->g->n_inputs; i++) {
        const nl_tensor *t = &in[i];
        const nl_graph_input *gi = &p->g->inputs[i];
        if (!t->data || t->type != (nl_type)gi->type || t->c != (int)gi->c ||
            t->h != p->in_h[i] || t->w != p->in_w[i] || t->stride < (ptrdiff_t)t->w * t->c)
            return nv_fail(err, errlen, NEUVC_ERR(EINVAL),
                           "input %u: type %d, %dx%dx%d (data %s), prepared for type %u, %dx%dx%u",
                           (unsigned)i, (int)t->type, t->w, t->h, t->c, t->data ? "set" : "NULL",
                           (unsigned)gi->type, p->in_w[i], p->in_h[i], (unsigned)gi->c);
    }
    return 0;
}

int nl_graph_plan_shapes(nl_graph_plan *p, const int *h, const int *w, uint64_t max_elems,
                         uint64_t *op_cost, char *err, size_t errlen)
{
    const nl_graph *g = p->g;
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        nl_tensor *t = &p->view[g->inputs[i].slot];
        t->h = h[i];
        t->w = w[i];
    }
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const nl_graph_op *op = &g->ops[i];
        const nl_tensor *x = &p->view[op->src[0]];
        const nl_tensor *y = op->src[1] != NL_GRAPH_NONE ? &p->view[op->src[1]] : NULL;
        nl_tensor *d = &p->view[op->dst];
        const int r = op->attr[NL_SHUFFLE_R];
        d->h = x->h;
        d->w = x->w;
        switch (op->code) {
        case NL_OP_CONV: {
            const nl_conv_desc *cd = &g->bound[i].conv;
            d->h = nl_conv_out_size(x->h, cd->stride);
            d->w = nl_conv_out_size(x->w, cd->stride);
            uint64_t macs = (uint64_t)d->h * (uint64_t)d->w * (uint64_t)cd->cout *
                            (uint64_t)(cd->k * cd->k) * (uint64_t)cd->cin;
            if (op_cost)
                op_cost[i] = macs;
            p->macs += macs;
            break;
        }
        case NL_OP_ADD:
        case NL_OP_CONCAT:
            if (x->h != y->h || x->w != y->w)
                return nv_fail(err, errlen, NEUVC_ERR(EINVAL),
                               "op %u (%s): operands %dx%d and %dx%d", (unsigned)i,
                               nl_opcode_name(op->code), x->w, x->h, y->w, y->h);
            break;
        case NL_OP_S2D:
            if (x->h % r != 0 || x->w % r != 0)
                return nv_fail(err, errlen, NEUVC_ERR(EINVAL),
                               "op %u (s2d): %dx%d not divisible by %d", (unsigned)i, x->w,
                               x->h, r);
            d->h = x->h / r;
            d->w = x->w / r;
            break;
        case NL_OP_D2S:
            if (x->h > NL_GRAPH_MAX_SIDE / r || x->w > NL_GRAPH_MAX_SIDE / r)
                return nv_fail(err, errlen, NEUVC_ERR(ERANGE), "op %u (d2s): output beyond %d",
                               (unsigned)i, NL_GRAPH_MAX_SIDE);
            d->h = x->h * r;
            d->w = x->w * r;
            break;
        default:
            break;
        }
    }
    for (uint32_t s = 0; s < g->n_slots; s++) {
        nl_tensor *t = &p->view[s];
        t->type = g->slots[s].type;
        t->c = g->slots[s].c;
        t->data = NULL;
        /* h, w <= 2^16, c <= 2^16, element <= 4 bytes: < 2^50, exact. */
        uint64_t elems = (uint64_t)t->h * (uint64_t)t->w * (uint64_t)t->c;
        uint64_t bytes = elems * (uint64_t)nl_type_size(t->type);
        if (elems > max_elems || bytes > (uint64_t)(PTRDIFF_MAX / 2))
            return nv_fail(err, errlen, NEUVC_ERR(ERANGE), "slot %u: %llu bytes", (unsigned)s,
                           (unsigned long long)bytes);
        t->stride = (ptrdiff_t)t->w * t->c;
        p->slot_bytes[s] = (size_t)bytes;
    }
    return 0;
}

/* A free buffer for need bytes (removed from the free list), or a new one. */
static int buffer_take(nl_graph_plan *p, int *n_free, size_t need)
{
    int best = -1, largest = -1;
    for (int k = 0; k < *n_free; k++) {
        size_t size = p->buf_size[p->free_bufs[k]];
        if (size >= need && (best < 0 || size < p->buf_size[p->free_bufs[best]]))
            best = k;
        if (largest < 0 || size > p->buf_size[p->free_bufs[largest]])
            largest = k;
    }
    int pick = best >= 0 ? best : largest;
    if (pick < 0) {
        p->buf_size[p->n_buf] = need;
        return p->n_buf++;
    }
    int b = p->free_bufs[pick];
    p->free_bufs[pick] = p->free_bufs[--*n_free];
    if (p->buf_size[b] < need)
        p->buf_size[b] = need;
    return b;
}

void nl_graph_plan_buffers(nl_graph_plan *p, int flags)
{
    const nl_graph *g = p->g;
    int n_free = 0;
    for (uint32_t s = 0; s < g->n_slots; s++)
        p->buf_of[s] = -1;
    for (uint32_t i = 0; (flags & NL_PLAN_INPUT_BUFFERS) && i < g->n_inputs; i++) {
        uint32_t s = g->inputs[i].slot;
        p->buf_of[s] = buffer_take(p, &n_free, p->slot_bytes[s]);
        if (p->last_use[s] < 0 && !p->is_output[s])
            p->free_bufs[n_free++] = p->buf_of[s];
    }
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const nl_graph_op *op = &g->ops[i];
        uint32_t x = op->src[0], y = op->src[1];
        int b;
        if (op->code == NL_OP_CONCAT && p->fused[i] >= 0)
            continue; /* runs inside its CONV: no buffer; its sources live on */
        if (op->code == NL_OP_CONV && p->fused[i] >= 0) {
            /* The sources are the fused CONCAT's (its slot has no buffer). */
            x = g->ops[p->fused[i]].src[0];
            y = g->ops[p->fused[i]].src[1];
        }
        if ((flags & NL_PLAN_CLAMP_IN_PLACE) && op->code == NL_OP_CLAMP &&
            p->buf_of[x] >= 0 && p->last_use[x] == (int)i && !p->is_output[x])
            b = p->buf_of[x]; /* in place: x dies here */
        else
            b = buffer_take(p, &n_free, p->slot_bytes[op->dst]);
        p->buf_of[op->dst] = b;
        for (int k = 0; k < 2; k++) {
            uint32_t s = k == 0 ? x : y;
            if (s == NL_GRAPH_NONE || (k == 1 && y == x))
                continue;
            if (p->buf_of[s] >= 0 && p->buf_of[s] != b && p->last_use[s] == (int)i &&
                !p->is_output[s])
                p->free_bufs[n_free++] = p->buf_of[s];
        }
        if (p->last_use[op->dst] < 0 && !p->is_output[op->dst])
            p->free_bufs[n_free++] = b;
    }
}
