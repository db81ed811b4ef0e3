/* The reach of a graph (common/reach.h) on hand-made op lists, and on the
 * built-in model's inter graphs checked against the graphs themselves:
 * inputs changed in every row at or below a line leave every output row
 * above the first affected row unchanged (random inputs, byte comparison),
 * and the intra refresh guard the encoder derives (encoder/refresh.h) is
 * the smallest that gives the exact rows it needs. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/model.h"
#include "common/reach.h"
#include "encoder/refresh.h"
#include "netlib/graph.h"

static uint32_t rng_state = 777;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* conv3 (scale 16) -> d2s 2 -> add input 1 -> conv3 -> s2d 4 -> conv1
 * stride 2. */
START_TEST(reach_hand_made)
{
    nl_graph_input in[2] = { { 0, NL_S16, 8 }, { 1, NL_S16, 2 } };
    nl_graph_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0] = (nl_graph_op){ NL_OP_CONV, 2, { 0, 0 }, { 3, 1, 8, 8 }, { 0 } };
    ops[1] = (nl_graph_op){ NL_OP_D2S, 3, { 2, 0 }, { 2 }, { 0 } };
    ops[2] = (nl_graph_op){ NL_OP_ADD, 4, { 3, 1 }, { 0 }, { 0 } };
    ops[3] = (nl_graph_op){ NL_OP_CONV, 5, { 4, 0 }, { 3, 1, 2, 2 }, { 0 } };
    ops[4] = (nl_graph_op){ NL_OP_S2D, 6, { 5, 0 }, { 4 }, { 0 } };
    ops[5] = (nl_graph_op){ NL_OP_CONV, 7, { 6, 0 }, { 1, 2, 32, 32 }, { 0 } };
    uint32_t outs[2] = { 7, 5 };
    nl_graph g;
    memset(&g, 0, sizeof(g));
    g.n_slots = 8;
    g.n_inputs = 2;
    g.n_outputs = 2;
    g.n_ops = 6;
    g.inputs = in;
    g.outputs = outs;
    g.ops = ops;
    int r, s;
    /* input 0 (scale 16) from row 256 (sample 16): conv3 -> 15, d2s -> 30
     * (scale 8), conv3 -> 29: luma row 232 */
    ck_assert_int_eq(nv_graph_first_affected(&g, 0, 16, 1, 256, &r, &s), 0);
    ck_assert_int_eq(r, 232);
    ck_assert_int_eq(s, 8);
    /* ... s2d 4 -> 7 (scale 32), 1x1 stride 2 -> 4 (scale 64): row 256 */
    ck_assert_int_eq(nv_graph_first_affected(&g, 0, 16, 0, 256, &r, &s), 0);
    ck_assert_int_eq(r, 256);
    ck_assert_int_eq(s, 64);
    /* a line inside a sample: the whole sample counts */
    ck_assert_int_eq(nv_graph_first_affected(&g, 0, 16, 1, 260, &r, &s), 0);
    ck_assert_int_eq(r, 232);
    /* input 1 (scale 8) from row 80 (sample 10): conv3 -> 9: row 72 */
    ck_assert_int_eq(nv_graph_first_affected(&g, 1, 8, 1, 80, &r, &s), 0);
    ck_assert_int_eq(r, 72);
    /* near the top: clamped at row 0 */
    ck_assert_int_eq(nv_graph_first_affected(&g, 0, 16, 1, 0, &r, &s), 0);
    ck_assert_int_eq(r, 0);
    /* misuse */
    ck_assert_int_eq(nv_graph_first_affected(&g, 2, 8, 0, 0, &r, &s), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nv_graph_first_affected(&g, 0, 8, 2, 0, &r, &s), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nv_graph_first_affected(&g, 0, 0, 0, 0, &r, &s), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nv_graph_first_affected(&g, 0, 8, 0, -1, &r, &s), NEUVC_ERR(EINVAL));
    /* operands of different scales */
    ops[2].src[1] = 2;          /* d2s output (scale 8) + slot 2 (scale 16) */
    ck_assert_int_eq(nv_graph_first_affected(&g, 0, 16, 0, 0, &r, &s), NEUVC_ERR(EINVAL));
    /* an output that does not depend on the input */
    ops[2].src[1] = 1;
    outs[1] = 1;
    ck_assert_int_eq(nv_graph_first_affected(&g, 0, 16, 1, 0, &r, &s), 1);
    ck_assert_int_eq(r, NV_REACH_NONE);
}
END_TEST

static void fill(nl_tensor *t, int type, int h, int w, int c, int lo, int hi)
{
    const size_t n = (size_t)h * w * c, es = type == NL_U8 ? 1 : 2;
    *t = (nl_tensor){ malloc(n * es), h, w, c, (ptrdiff_t)w * c, (nl_type)type };
    ck_assert_ptr_nonnull(t->data);
    for (size_t i = 0; i < n; i++) {
        const int v = lo + (int)(rng() % (uint32_t)(hi - lo + 1));
        if (type == NL_U8)
            ((uint8_t *)t->data)[i] = (uint8_t)v;
        else
            ((int16_t *)t->data)[i] = (int16_t)v;
    }
}

/* Changes rows at or below luma row `line` of input t (scale luma rows
 * per tensor row). */
static void perturb(nl_tensor *t, int scale, int line)
{
    for (int r = line / scale; r < t->h; r++)
        for (int i = 0; i < t->w * t->c; i++) {
            if (t->type == NL_U8) {
                uint8_t *p = (uint8_t *)t->data + (size_t)r * t->stride + i;
                *p = (uint8_t)(255 - *p);
            } else {
                int16_t *p = (int16_t *)t->data + (size_t)r * t->stride + i;
                *p = (int16_t)(*p > 0 ? -(*p) / 2 - 7 : 300 - *p / 3);
            }
        }
}

/* The first output row (luma) that differs between a and b; h * scale if none. */
static int first_diff(const nl_tensor *a, const nl_tensor *b, int scale)
{
    const size_t es = a->type == NL_U8 ? 1 : a->type == NL_S16 ? 2 : 4;
    for (int r = 0; r < a->h; r++)
        if (memcmp((const uint8_t *)a->data + (size_t)r * a->stride * es,
                   (const uint8_t *)b->data + (size_t)r * b->stride * es,
                   (size_t)a->w * a->c * es))
            return r * scale;
    return a->h * scale;
}

/* Runs g on in (n inputs) twice, input k changed from `line` on the
 * second time; the first changed row of output o must lie at or below
 * line - reach.  Returns that row. */
static int check_reach(const nl_graph *g, nl_tensor *in, int n, int k, int scale_k, int o,
                       int out_scale, int line)
{
    nl_graph_exec *ex = NULL;
    int h[4], w[4];
    for (int i = 0; i < n; i++) {
        h[i] = in[i].h;
        w[i] = in[i].w;
    }
    ck_assert_int_eq(nl_graph_exec_new(&ex, g), 0);
    ck_assert_int_eq(nl_graph_prepare(ex, h, w), 0);
    nl_tensor out[2], keep;
    ck_assert_int_eq(nl_graph_run(ex, in, out, NULL), 0);
    const size_t es = out[o].type == NL_U8 ? 1 : out[o].type == NL_S16 ? 2 : 4;
    const size_t bytes = (size_t)out[o].h * out[o].stride * es;
    keep = out[o];
    keep.data = malloc(bytes);
    ck_assert_ptr_nonnull(keep.data);
    memcpy(keep.data, out[o].data, bytes);
    perturb(&in[k], scale_k, line);
    ck_assert_int_eq(nl_graph_run(ex, in, out, NULL), 0);
    int fa, s;
    ck_assert_int_eq(nv_graph_first_affected(g, (unsigned)k, scale_k, (unsigned)o, line, &fa, &s), 0);
    ck_assert_int_eq(s, out_scale);
    const int d = first_diff(&keep, &out[o], out_scale);
    /* nothing above the bound changes; something at or below the line does */
    ck_assert_msg(d >= fa && d <= line, "%s input %d from row %d: output %d changes from row %d, "
                  "first affected row %d", g->name, k, line, o, d, fa);
    if (getenv("REACH_DEBUG"))
        fprintf(stderr, "%s input %d -> output %d from row %d: first affected row %d, first "
                "changed %d\n", g->name, k, o, line, fa, d);
    free(keep.data);
    nl_graph_exec_free(&ex);
    return d;
}

START_TEST(reach_model_checked)
{
    nv_model *m = NULL;
    char err[256];
    ck_assert_int_eq(nv_model_open(&m, NULL, err, sizeof(err)), 0);
    ck_assert(m->has_inter);
    const int W = 128, H = 512, line = 256;
    nl_tensor syn[3], hs[2], pr[1];
    for (int k = 0; k < 3; k++) {
        fill(&syn[0], NL_S16, H / 16, W / 16, m->cy, -300, 300);
        fill(&syn[1], NL_S16, H / 8, W / 8, m->inter.cpt, -300, 300);
        fill(&syn[2], NL_U8, H / 2, W / 2, 6, 0, 255);
        static const int sc[3] = { 16, 8, 2 };
        check_reach(m->inter.synthesis, syn, 3, k, sc[k], 0, 2, line);
        for (int i = 0; i < 3; i++)
            free(syn[i].data);
    }
    for (int o = 0; o < 2; o++) {
        fill(&hs[0], NL_S16, H / 64, W / 64, m->cz, -20, 20);
        fill(&hs[1], NL_U8, H / 16, W / 16, m->inter.cpf, 0, 255);
        check_reach(m->inter.hyper_synthesis, hs, 2, 1, 16, o, 16, line);
        free(hs[0].data);
        free(hs[1].data);
    }
    for (int o = 0; o < 2; o++) {
        fill(&pr[0], NL_U8, H / 2, W / 2, 6, 0, 255);
        check_reach(m->inter.pred, pr, 1, 0, 2, o, o ? 16 : 8, line);
        free(pr[0].data);
    }
    /* The guard: the smallest whose refreshed rows make rows up to the
     * next band plus the slack exact. */
    nv_refresh r;
    ck_assert_int_eq(nv_refresh_init(&r, m, err, sizeof(err)), 0);
    const int g = nv_refresh_guard(&r);
    const int y1 = 64 + 16 * g;
    ck_assert_int_ge(nv_refresh_exact_rows(&r, y1, 1 << 20), 64 + NV_REFRESH_SLACK);
    ck_assert_int_lt(nv_refresh_exact_rows(&r, y1 - 16, 1 << 20), 64 + NV_REFRESH_SLACK);
    /* translation by whole bands (the encoder uses one guard for all) */
    ck_assert_int_eq(nv_refresh_exact_rows(&r, y1 + 3 * 64, 1 << 20),
                     nv_refresh_exact_rows(&r, y1, 1 << 20) + 3 * 64);
    if (getenv("REACH_DEBUG"))
        fprintf(stderr, "guard %d block rows: rows [64k, 64k + %d) from the strip, exact up to "
                "64k + %d\n", g, y1, nv_refresh_exact_rows(&r, y1, 1 << 20));
    nv_model_close(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("refresh");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, reach_hand_made);
    tcase_add_test(tc, reach_model_checked);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
