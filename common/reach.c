#include "common/reach.h"

#include <stdlib.h>

int nv_graph_reach(const nl_graph *g, unsigned in, int in_scale, unsigned out, int *reach,
                   int *out_scale)
{
    int ret = NEUVC_ERR(EINVAL);
    if (!g || !reach || in >= g->n_inputs || out >= g->n_outputs || in_scale < 1)
        return ret;
    /* Per slot: scale (luma rows per sample row) and reach; reach < 0: the
     * slot does not depend on the input. */
    int *sc = calloc(g->n_slots, sizeof(*sc)), *rd = malloc(g->n_slots * sizeof(*rd));
    if (!sc || !rd) {
        ret = NEUVC_ERR(ENOMEM);
        goto fail;
    }
    for (uint32_t i = 0; i < g->n_slots; i++)
        rd[i] = -1;
    sc[g->inputs[in].slot] = in_scale;
    rd[g->inputs[in].slot] = 0;
    for (uint32_t k = 0; k < g->n_ops; k++) {
        const nl_graph_op *op = &g->ops[k];
        const uint32_t a = op->src[0];
        const uint32_t b = op->code == NL_OP_ADD || op->code == NL_OP_CONCAT ? op->src[1] : a;
        if (a >= g->n_slots || b >= g->n_slots || op->dst >= g->n_slots)
            goto fail;
        int s, d;
        if (rd[a] < 0 && rd[b] < 0)
            continue;
        if (rd[a] >= 0 && rd[b] >= 0) {
            if (sc[a] != sc[b])
                goto fail;
            s = sc[a];
            d = rd[a] > rd[b] ? rd[a] : rd[b];
        } else {
            s = rd[a] >= 0 ? sc[a] : sc[b];
            d = rd[a] >= 0 ? rd[a] : rd[b];
        }
        switch (op->code) {
        case NL_OP_CONV: {
            const int kk = op->attr[NL_CONV_K], st = op->attr[NL_CONV_STRIDE];
            if (kk < 1 || st < 1 || kk > 64 || st > 64)
                goto fail;
            d += (kk / 2) * s;
            s *= st;
            break;
        }
        case NL_OP_S2D:
            s *= op->attr[NL_SHUFFLE_R];
            break;
        case NL_OP_D2S: {
            const int r = op->attr[NL_SHUFFLE_R];
            if (r < 1 || s % r)
                goto fail;
            d += s - s / r;
            s /= r;
            break;
        }
        default:
            break;
        }
        if (s > (1 << 20) || d > (1 << 20))
            goto fail;
        sc[op->dst] = s;
        rd[op->dst] = d;
    }
    const uint32_t o = g->outputs[out];
    if (o >= g->n_slots)
        goto fail;
    if (out_scale)
        *out_scale = rd[o] >= 0 ? sc[o] : 0;
    *reach = rd[o] >= 0 ? rd[o] : 0;
    ret = rd[o] >= 0 ? 0 : 1;
fail:
    free(sc);
    free(rd);
    return ret;
}
