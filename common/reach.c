#include "common/reach.h"

#include <string.h>

#define REACH_LIMIT (1 << 20)

static int floor_div(int a, int b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int nv_graph_first_affected(const nl_graph *g, unsigned in, int in_scale, unsigned out, int line,
                            int *row, int *out_scale)
{
    int ret = NEUVC_ERR(EINVAL);
    if (!g || !row || in >= g->n_inputs || out >= g->n_outputs || in_scale < 1 ||
        in_scale > REACH_LIMIT || line < 0 || line > REACH_LIMIT)
        return ret;
    /* Per slot: scale, first affected sample row; dep 0: independent of the
     * input.  On the stack (about 9 KiB): no allocation, so nothing here
     * can fail for want of memory. */
    if (g->n_slots > NV_REACH_MAX_SLOTS)
        return ret;
    int sc[NV_REACH_MAX_SLOTS], fa[NV_REACH_MAX_SLOTS];
    char dep[NV_REACH_MAX_SLOTS];
    memset(sc, 0, g->n_slots * sizeof(*sc));
    memset(fa, 0, g->n_slots * sizeof(*fa));
    memset(dep, 0, g->n_slots);
    const uint32_t is = g->inputs[in].slot;
    if (is >= g->n_slots)
        goto fail;
    sc[is] = in_scale;
    fa[is] = line / in_scale;
    dep[is] = 1;
    for (uint32_t k = 0; k < g->n_ops; k++) {
        const nl_graph_op *op = &g->ops[k];
        const uint32_t a = op->src[0];
        const uint32_t b = op->code == NL_OP_ADD || op->code == NL_OP_CONCAT ? op->src[1] : a;
        if (a >= g->n_slots || b >= g->n_slots || op->dst >= g->n_slots)
            goto fail;
        if (!dep[a] && !dep[b])
            continue;
        int s, f;
        if (dep[a] && dep[b]) {
            if (sc[a] != sc[b])
                goto fail;
            s = sc[a];
            f = fa[a] < fa[b] ? fa[a] : fa[b];
        } else {
            s = dep[a] ? sc[a] : sc[b];
            f = dep[a] ? fa[a] : fa[b];
        }
        switch (op->code) {
        case NL_OP_CONV: {
            const int kk = op->attr[NL_CONV_K], st = op->attr[NL_CONV_STRIDE];
            if (kk < 1 || st < 1 || kk > 64 || st > 64)
                goto fail;
            /* output y reads y*st + kk/2 at the lowest: affected once that reaches f */
            f = -floor_div(-(f - kk / 2), st);
            s *= st;
            break;
        }
        case NL_OP_S2D: {
            const int r = op->attr[NL_SHUFFLE_R];
            if (r < 1 || r > 64)
                goto fail;
            f = floor_div(f, r);
            s *= r;
            break;
        }
        case NL_OP_D2S: {
            const int r = op->attr[NL_SHUFFLE_R];
            if (r < 1 || s % r)
                goto fail;
            f *= r;
            s /= r;
            break;
        }
        default:
            break;
        }
        if (s > REACH_LIMIT || f > REACH_LIMIT || f < -REACH_LIMIT)
            goto fail;
        sc[op->dst] = s;
        fa[op->dst] = f;
        dep[op->dst] = 1;
    }
    const uint32_t o = g->outputs[out];
    if (o >= g->n_slots)
        goto fail;
    if (out_scale)
        *out_scale = dep[o] ? sc[o] : 0;
    *row = dep[o] ? (fa[o] > 0 ? fa[o] * sc[o] : 0) : NV_REACH_NONE;
    ret = dep[o] ? 0 : 1;
fail:
    return ret;
}
