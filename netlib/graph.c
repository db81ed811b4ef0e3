/*
 * Graph validation: every rule of netlib/graph.h, checked once at load time
 * so that the executor (netlib/graph_exec.c) never meets a bad slot index,
 * a wrong tensor shape or a descriptor the kernels refuse.
 */
#include "netlib/graph.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "neuvc/neuvc.h"

#define SLOT_UNDEFINED (-2)      /* nl_graph_slot.producer before definition */

/* Fields each opcode uses; the others must be 0 / NL_GRAPH_NONE. */
typedef struct op_info {
    const char *name;
    int nsrc, nattr, ntensor;
} op_info;

static const op_info op_infos[] = {
    [NL_OP_CONV] = { "conv", 1, 8, 4 },
    [NL_OP_REQUANT] = { "requant", 1, 3, 3 },
    [NL_OP_ADD] = { "add", 2, 3, 3 },
    [NL_OP_CLAMP] = { "clamp", 1, 2, 0 },
    [NL_OP_S2D] = { "s2d", 1, 1, 0 },
    [NL_OP_D2S] = { "d2s", 1, 1, 0 },
    [NL_OP_CONCAT] = { "concat", 2, 0, 0 },
};

const char *nl_opcode_name(uint32_t code)
{
    if (code < NL_OP_CONV || code > NL_OP_CONCAT)
        return NULL;
    return op_infos[code].name;
}

static const char *type_name(nl_type t)
{
    static const char *const names[NL_NTYPES] = { "u8", "s8", "s16", "s32" };
    return t >= NL_U8 && t < NL_NTYPES ? names[t] : "?";
}

static int type_code_valid(int64_t code)
{
    return code >= NL_U8 && code < NL_NTYPES;
}

typedef struct vctx {
    nl_graph *g;
    const nvm_tensor *tensors;
    uint32_t n_tensors;
    nl_graph_slot *slots;
    uint32_t op;                 /* op being checked, for messages */
    char *err;
    size_t errlen;
} vctx;

__attribute__((format(printf, 2, 3)))
static int graph_fail(vctx *v, const char *fmt, ...)
{
    if (v->err && v->errlen > 0) {
        char msg[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(v->err, v->errlen, "graph '%s': %s", v->g->name, msg);
    }
    return NEUVC_ERR_INVALIDDATA;
}

__attribute__((format(printf, 2, 3)))
static int op_fail(vctx *v, const char *fmt, ...)
{
    if (v->err && v->errlen > 0) {
        char msg[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        const char *name = nl_opcode_name(v->g->ops[v->op].code);
        snprintf(v->err, v->errlen, "graph '%s' op %u (%s): %s", v->g->name, (unsigned)v->op,
                 name ? name : "?", msg);
    }
    return NEUVC_ERR_INVALIDDATA;
}

static void shape_text(char *buf, size_t n, int ndim, const int *dims)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < ndim && used < n; d++) {
        int k = snprintf(buf + used, n - used, d ? "x%d" : "%d", dims[d]);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

/* Tensor reference pos of the current op: dtype and dims exactly as given.
 * An optional reference may be NL_GRAPH_NONE (*data = NULL). */
static int op_tensor(vctx *v, int pos, const char *what, nvm_dtype dtype, int ndim,
                     const int *dims, int optional, const void **data)
{
    uint32_t ref = v->g->ops[v->op].tensor[pos];
    *data = NULL;
    if (ref == NL_GRAPH_NONE) {
        if (optional)
            return 0;
        return op_fail(v, "%s tensor missing", what);
    }
    if (ref >= v->n_tensors)
        return op_fail(v, "%s tensor index %u out of range (%u tensors)", what, (unsigned)ref,
                       (unsigned)v->n_tensors);
    const nvm_tensor *t = &v->tensors[ref];
    int ok = t->dtype == dtype && t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++)
        ok = t->dims[d] == dims[d];
    if (!ok) {
        char have[48], want[48];
        shape_text(have, sizeof(have), t->ndim, t->dims);
        shape_text(want, sizeof(want), ndim, dims);
        return op_fail(v, "%s tensor '%s' is %s [%s], expected %s [%s]", what, t->name,
                       nvm_dtype_name(t->dtype), have, nvm_dtype_name(dtype), want);
    }
    *data = t->data;
    return 0;
}

static int conv_validate(vctx *v, const nl_graph_slot *x, nl_conv_desc *d, nl_graph_slot *out)
{
    const int32_t *a = v->g->ops[v->op].attr;
    int k = a[NL_CONV_K], stride = a[NL_CONV_STRIDE], cin = a[NL_CONV_CIN], cout = a[NL_CONV_COUT];
    if ((k != 1 && k != 3) || (stride != 1 && stride != 2))
        return op_fail(v, "k %d, stride %d (k 1 or 3, stride 1 or 2)", k, stride);
    if (cin != x->c)
        return op_fail(v, "cin %d, but the source has %d channels", cin, x->c);
    if (a[NL_CONV_IN_TYPE] != (int32_t)x->type)
        return op_fail(v, "in_type %d, but the source is %s", (int)a[NL_CONV_IN_TYPE],
                       type_name(x->type));
    if (cout < 1 || cout > NL_CHANNELS_MAX || !type_code_valid(a[NL_CONV_OUT_TYPE]))
        return op_fail(v, "cout %d, out_type %d", cout, (int)a[NL_CONV_OUT_TYPE]);
    const int wdims[4] = { cout, k, k, cin };
    const void *weight, *bias, *mult, *shift;
    int ret;
    if ((ret = op_tensor(v, NL_CONV_WEIGHT, "weight", NVM_S8, 4, wdims, 0, &weight)) < 0 ||
        (ret = op_tensor(v, NL_CONV_BIAS, "bias", NVM_S32, 1, &cout, 1, &bias)) < 0 ||
        (ret = op_tensor(v, NL_CONV_MULT, "mult", NVM_S32, 1, &cout, 0, &mult)) < 0 ||
        (ret = op_tensor(v, NL_CONV_SHIFT, "shift", NVM_U8, 1, &cout, 0, &shift)) < 0)
        return ret;
    d->k = k;
    d->stride = stride;
    d->cin = cin;
    d->cout = cout;
    d->in_type = x->type;
    d->out_type = (nl_type)a[NL_CONV_OUT_TYPE];
    d->weight = weight;
    d->rq.bias = bias;
    d->rq.mult = mult;
    d->rq.shift = shift;
    d->rq.lo = a[NL_CONV_LO];
    d->rq.hi = a[NL_CONV_HI];
    ret = nl_conv_check(d);
    if (ret == NEUVC_ERR(ERANGE))
        return op_fail(v, "k*k*cin = %d too large for the int32 accumulator", k * k * cin);
    if (ret < 0)
        return op_fail(v, "refused by nl_conv_check (weights, requantization or lo/hi out of range)");
    out->type = d->out_type;
    out->c = cout;
    return 0;
}

static int requant_validate(vctx *v, const nl_graph_slot *x, nl_requant *rq, nl_graph_slot *out)
{
    const int32_t *a = v->g->ops[v->op].attr;
    int c = x->c;
    if (!type_code_valid(a[NL_RQ_OUT_TYPE]))
        return op_fail(v, "out_type %d", (int)a[NL_RQ_OUT_TYPE]);
    const void *bias, *mult, *shift;
    int ret;
    if ((ret = op_tensor(v, NL_RQ_BIAS, "bias", NVM_S32, 1, &c, 1, &bias)) < 0 ||
        (ret = op_tensor(v, NL_RQ_MULT, "mult", NVM_S32, 1, &c, 0, &mult)) < 0 ||
        (ret = op_tensor(v, NL_RQ_SHIFT, "shift", NVM_U8, 1, &c, 0, &shift)) < 0)
        return ret;
    rq->bias = bias;
    rq->mult = mult;
    rq->shift = shift;
    rq->lo = a[NL_RQ_LO];
    rq->hi = a[NL_RQ_HI];
    out->type = (nl_type)a[NL_RQ_OUT_TYPE];
    out->c = c;
    if (nl_requant_check(rq, c, out->type) < 0)
        return op_fail(v, "refused by nl_requant_check (mult, shift, bias or lo/hi out of range)");
    return 0;
}

static int add_validate(vctx *v, const nl_graph_slot *x, const nl_graph_slot *y,
                        nl_add_desc *d, nl_graph_slot *out)
{
    const int32_t *a = v->g->ops[v->op].attr;
    int c = x->c;
    if (y->c != c)
        return op_fail(v, "operands have %d and %d channels", x->c, y->c);
    /* nl_add_ref needs |a|, |b| <= 2^15: no s32 operands. */
    if (x->type == NL_S32 || y->type == NL_S32)
        return op_fail(v, "s32 operand");
    if (!type_code_valid(a[NL_RQ_OUT_TYPE]))
        return op_fail(v, "out_type %d", (int)a[NL_RQ_OUT_TYPE]);
    const void *ma, *mb, *shift;
    int ret;
    if ((ret = op_tensor(v, NL_ADD_MA, "ma", NVM_S32, 1, &c, 0, &ma)) < 0 ||
        (ret = op_tensor(v, NL_ADD_MB, "mb", NVM_S32, 1, &c, 0, &mb)) < 0 ||
        (ret = op_tensor(v, NL_ADD_SHIFT, "shift", NVM_U8, 1, &c, 0, &shift)) < 0)
        return ret;
    d->ma = ma;
    d->mb = mb;
    d->shift = shift;
    d->lo = a[NL_RQ_LO];
    d->hi = a[NL_RQ_HI];
    out->type = (nl_type)a[NL_RQ_OUT_TYPE];
    out->c = c;
    if (nl_add_check(d, c, out->type) < 0)
        return op_fail(v, "refused by nl_add_check (ma, mb, shift or lo/hi out of range)");
    return 0;
}

/* CLAMP, S2D, D2S, CONCAT: no tensors, shape rules only. */
static int layout_validate(vctx *v, const nl_graph_slot *x, const nl_graph_slot *y,
                           nl_graph_slot *out)
{
    const nl_graph_op *op = &v->g->ops[v->op];
    int32_t tlo, thi;
    int r = op->attr[NL_SHUFFLE_R];
    out->type = x->type;
    switch (op->code) {
    case NL_OP_CLAMP:
        nl_type_range(x->type, &tlo, &thi);
        if (op->attr[NL_CLAMP_LO] < tlo || op->attr[NL_CLAMP_LO] > op->attr[NL_CLAMP_HI] ||
            op->attr[NL_CLAMP_HI] > thi)
            return op_fail(v, "bounds [%ld, %ld] outside %s or empty",
                           (long)op->attr[NL_CLAMP_LO], (long)op->attr[NL_CLAMP_HI],
                           type_name(x->type));
        out->c = x->c;
        return 0;
    case NL_OP_S2D:
        if (r < NL_GRAPH_R_MIN || r > NL_GRAPH_R_MAX)
            return op_fail(v, "r %d (%d..%d)", r, NL_GRAPH_R_MIN, NL_GRAPH_R_MAX);
        if (x->c > NL_CHANNELS_MAX / (r * r))
            return op_fail(v, "%d channels * r * r exceeds %d", x->c, NL_CHANNELS_MAX);
        out->c = x->c * r * r;
        return 0;
    case NL_OP_D2S:
        if (r < NL_GRAPH_R_MIN || r > NL_GRAPH_R_MAX)
            return op_fail(v, "r %d (%d..%d)", r, NL_GRAPH_R_MIN, NL_GRAPH_R_MAX);
        if (x->c % (r * r) != 0)
            return op_fail(v, "%d channels not divisible by r * r = %d", x->c, r * r);
        out->c = x->c / (r * r);
        return 0;
    default: /* NL_OP_CONCAT */
        if (x->type != y->type)
            return op_fail(v, "operands of types %s and %s", type_name(x->type),
                           type_name(y->type));
        if (x->c > NL_CHANNELS_MAX - y->c)
            return op_fail(v, "%d + %d channels exceed %d", x->c, y->c, NL_CHANNELS_MAX);
        out->c = x->c + y->c;
        return 0;
    }
}

static int op_validate(vctx *v, nl_graph_bound *b)
{
    const nl_graph_op *op = &v->g->ops[v->op];
    nl_graph_slot *slots = v->slots;
    if (!nl_opcode_name(op->code))
        return op_fail(v, "unknown opcode %u", (unsigned)op->code);
    const op_info *info = &op_infos[op->code];
    for (int s = 0; s < 2; s++) {
        if (s >= info->nsrc) {
            if (op->src[s] != NL_GRAPH_NONE)
                return op_fail(v, "unused source %d is not NONE", s);
            continue;
        }
        if (op->src[s] >= v->g->n_slots)
            return op_fail(v, "source slot %u out of range", (unsigned)op->src[s]);
        if (slots[op->src[s]].producer == SLOT_UNDEFINED)
            return op_fail(v, "reads slot %u before it is written", (unsigned)op->src[s]);
    }
    for (int a = info->nattr; a < NL_GRAPH_NATTR; a++)
        if (op->attr[a] != 0)
            return op_fail(v, "unused attribute %d is not 0", a);
    for (int t = info->ntensor; t < NL_GRAPH_NTENSOR; t++)
        if (op->tensor[t] != NL_GRAPH_NONE)
            return op_fail(v, "unused tensor reference %d is not NONE", t);
    if (op->dst >= v->g->n_slots)
        return op_fail(v, "destination slot %u out of range", (unsigned)op->dst);
    if (slots[op->dst].producer != SLOT_UNDEFINED)
        return op_fail(v, "writes slot %u a second time", (unsigned)op->dst);
    const nl_graph_slot *x = &slots[op->src[0]];
    const nl_graph_slot *y = info->nsrc > 1 ? &slots[op->src[1]] : NULL;
    nl_graph_slot out = { NL_U8, 0, (int)v->op };
    int ret;
    switch (op->code) {
    case NL_OP_CONV: ret = conv_validate(v, x, &b->conv, &out); break;
    case NL_OP_REQUANT: ret = requant_validate(v, x, &b->rq, &out); break;
    case NL_OP_ADD: ret = add_validate(v, x, y, &b->add, &out); break;
    default: ret = layout_validate(v, x, y, &out); break;
    }
    if (ret < 0)
        return ret;
    slots[op->dst] = out;
    return 0;
}

int nl_graph_validate(nl_graph *g, const nvm_tensor *tensors, uint32_t n_tensors,
                      char *err, size_t errlen)
{
    vctx v = { g, tensors, n_tensors, NULL, 0, err, errlen };
    nl_graph_bound *bound = NULL;
    int ret;
    if (!g)
        return NEUVC_ERR(EINVAL);
    nl_graph_free_derived(g);
    if (g->n_inputs < 1 || g->n_inputs > NL_GRAPH_MAX_IO || g->n_outputs < 1 ||
        g->n_outputs > NL_GRAPH_MAX_IO || g->n_ops < 1 || g->n_ops > NL_GRAPH_MAX_OPS ||
        !g->inputs || !g->outputs || !g->ops)
        return graph_fail(&v, "%u inputs, %u outputs, %u ops (1..%d, 1..%d, 1..%d)",
                          (unsigned)g->n_inputs, (unsigned)g->n_outputs, (unsigned)g->n_ops,
                          NL_GRAPH_MAX_IO, NL_GRAPH_MAX_IO, NL_GRAPH_MAX_OPS);
    if (g->n_slots != g->n_inputs + g->n_ops)
        return graph_fail(&v, "%u slots, but inputs + ops = %u", (unsigned)g->n_slots,
                          (unsigned)(g->n_inputs + g->n_ops));
    v.slots = malloc(g->n_slots * sizeof(*v.slots));
    bound = calloc(g->n_ops, sizeof(*bound));
    if (!v.slots || !bound) {
        ret = NEUVC_ERR(ENOMEM);
        goto fail;
    }
    for (uint32_t s = 0; s < g->n_slots; s++)
        v.slots[s].producer = SLOT_UNDEFINED;
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        const nl_graph_input *in = &g->inputs[i];
        if (in->slot >= g->n_slots || v.slots[in->slot].producer != SLOT_UNDEFINED) {
            ret = graph_fail(&v, "input %u: slot %u out of range or used twice", (unsigned)i,
                             (unsigned)in->slot);
            goto fail;
        }
        if (in->type >= NL_NTYPES || in->c < 1 || in->c > NL_CHANNELS_MAX) {
            ret = graph_fail(&v, "input %u: type %u, %u channels", (unsigned)i,
                             (unsigned)in->type, (unsigned)in->c);
            goto fail;
        }
        v.slots[in->slot] = (nl_graph_slot){ (nl_type)in->type, (int)in->c, -1 };
    }
    for (v.op = 0; v.op < g->n_ops; v.op++)
        if ((ret = op_validate(&v, &bound[v.op])) < 0)
            goto fail;
    for (uint32_t i = 0; i < g->n_outputs; i++) {
        uint32_t s = g->outputs[i];
        if (s >= g->n_slots || v.slots[s].producer < 0) {
            ret = graph_fail(&v, "output %u: slot %u is not written by an op", (unsigned)i,
                             (unsigned)s);
            goto fail;
        }
        for (uint32_t j = 0; j < i; j++)
            if (g->outputs[j] == s) {
                ret = graph_fail(&v, "output %u: slot %u listed twice", (unsigned)i, (unsigned)s);
                goto fail;
            }
    }
    g->slots = v.slots;
    g->bound = bound;
    return 0;
fail:
    free(v.slots);
    free(bound);
    return ret;
}

void nl_graph_free_derived(nl_graph *g)
{
    if (!g)
        return;
    free(g->slots);
    free(g->bound);
    g->slots = NULL;
    g->bound = NULL;
}
