/* .nvm model files (common/nvm*.c), SHA-256 (common/sha256.c), graph
 * validation (netlib/graph.c) and the graph executor (netlib/graph_exec.c).
 *
 * Expected executor outputs were worked out independently of netlib/ref
 * (block (0,0) of the chain graph by hand, in the comment of
 * test_exec_chain; the rest with a separate integer model of the ops).
 *
 * Tool modes, used by tests/test_nvm_py.py to cross-check training/nvm.py:
 *     test_nvm --nvm-dump FILE        load FILE, print its content as text
 *     test_nvm --nvm-rewrite IN OUT   load IN, write it again with the C writer
 * Both exit 1 with the loader's message when the file is refused. */
#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/nvm.h"
#include "common/sha256.h"
#include "netlib/graph.h"
#include "neuvc/neuvc.h"

#define NONE NL_GRAPH_NONE
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define LIMIT ((size_t)1 << 20)
/* SHA-256 of the whole file of test_golden_digest; tests/test_nvm_py.py
 * checks the same value for the file training/nvm.py writes. */
#define GOLDEN_TINY_SHA256 "046572a44cf934fa20b3b29a75881dcdcb099e46dbb2af0277abcc8795ba7117"

/* ------------------------------------------------------------ sample model
 * Params, tensors of every dtype, and five graphs:
 *   g.main   all seven ops, two inputs (u8 HxWx1, s8 H/2xW/2x4), two outputs
 *   g.chain  s2d -> conv1x1 -> clamp -> d2s
 *   g.res    conv3x3 then a residual add, s8 -> s16
 *   g.s2     conv3x3 stride 2, u8 -> s32 (box sums)
 *   g.long   clamp on the input, then 4 x (requant +1, clamp): liveness */
enum {
    T_CONV_W, T_CONV_B, T_CONV_M, T_CONV_S, T_ADD_MA, T_ADD_MB, T_ADD_S, T_RQ_B, T_RQ_M, T_RQ_S,
    T_U16, T_U32, T_S16, T_W_NARROW, T_W_M128,
    T_CH_W, T_CH_B, T_CH_M, T_CH_S,
    T_RES_W, T_RES_B, T_RES_M, T_RES_S, T_RES_MA, T_RES_MB, T_RES_AS,
    T_ONES, T_ONE32, T_ZERO8, T_LONG_B, T_LONG_M, T_LONG_S,
    T_COUNT
};
#define NPARAMS 4
#define NGRAPHS 5

static const int8_t conv_w[16] = { 1, 0, -1, 0, 0, 2, 0, -1, 1, 1, 1, 1, -1, 0, 0, 3 };
static const int32_t conv_b[4] = { 0, -5, -30, 2 }, conv_m[4] = { 1, 1, 1, 1 };
static const uint8_t conv_s[4] = { 1, 1, 2, 0 };
static const int32_t add_ma[4] = { 1, 2, 1, 3 }, add_mb[4] = { 1, 1, 2, 1 };
static const uint8_t add_s[4] = { 0, 1, 1, 2 };
static const int32_t rq_b[8] = { 1, -1, 2, -2, 3, -3, 4, -4 };
static const int32_t rq_m[8] = { 100, 200, 300, 400, 500, 600, 700, 800 };
static const uint8_t rq_s[8] = { 3, 3, 4, 4, 5, 5, 6, 6 };
static const uint16_t t_u16[6] = { 0, 1, 65535, 300, 7, 42 };
static const uint32_t t_u32[2] = { 4000000000u, 5 };
static const int16_t t_s16[4] = { -32768, -1, 0, 32767 };
static const int8_t w_narrow[12] = { 0 };
static const int8_t w_m128[16] = { 1, 0, -128, 0 };
static const int8_t ch_w[16] = { 2, 0, 0, -1, 0, 1, 1, 0, -1, 0, 0, 1, 1, 1, 1, 1 };
static const int32_t ch_b[4] = { 3, -7, 0, -40 }, ch_m[4] = { 1, 3, 5, 1 };
static const uint8_t ch_s[4] = { 1, 2, 0, 2 };
static const int8_t res_w[36] = { 1, -1, 2, 0, -2, 1, 0, 1, -1, 3, 0, -1, 1, 1, 0, -1, 2, -2,
                                  0, 1, 1, -1, 0, 2, 1, -3, 1, 2, -2, 0, 1, -1, 1, 0, 0, 1 };
static const int32_t res_b[2] = { 4, -9 }, res_m[2] = { 3, 5 };
static const uint8_t res_s[2] = { 2, 3 };
static const int32_t res_ma[2] = { 3, 1 }, res_mb[2] = { 1, 2 };
static const uint8_t res_as[2] = { 1, 2 };
static const int8_t ones[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
static const int32_t one32[1] = { 1 };
static const uint8_t zero8[1] = { 0 };
static const int32_t long_b[4] = { 1, 1, 1, 1 }, long_m[4] = { 1, 1, 1, 1 };
static const uint8_t long_s[4] = { 0, 0, 0, 0 };

typedef struct tdef {
    const char *name;
    nvm_dtype dtype;
    int ndim;
    int dims[4];
    const void *data;
} tdef;

static const tdef sample_tensors[T_COUNT] = {
    [T_CONV_W] = { "conv.w", NVM_S8, 4, { 4, 1, 1, 4 }, conv_w },
    [T_CONV_B] = { "conv.b", NVM_S32, 1, { 4 }, conv_b },
    [T_CONV_M] = { "conv.m", NVM_S32, 1, { 4 }, conv_m },
    [T_CONV_S] = { "conv.s", NVM_U8, 1, { 4 }, conv_s },
    [T_ADD_MA] = { "add.ma", NVM_S32, 1, { 4 }, add_ma },
    [T_ADD_MB] = { "add.mb", NVM_S32, 1, { 4 }, add_mb },
    [T_ADD_S] = { "add.s", NVM_U8, 1, { 4 }, add_s },
    [T_RQ_B] = { "rq.b", NVM_S32, 1, { 8 }, rq_b },
    [T_RQ_M] = { "rq.m", NVM_S32, 1, { 8 }, rq_m },
    [T_RQ_S] = { "rq.s", NVM_U8, 1, { 8 }, rq_s },
    [T_U16] = { "u16", NVM_U16, 2, { 2, 3 }, t_u16 },
    [T_U32] = { "u32", NVM_U32, 3, { 1, 1, 2 }, t_u32 },
    [T_S16] = { "s16", NVM_S16, 1, { 4 }, t_s16 },
    [T_W_NARROW] = { "w.narrow", NVM_S8, 4, { 4, 1, 1, 3 }, w_narrow },
    [T_W_M128] = { "w.m128", NVM_S8, 4, { 4, 1, 1, 4 }, w_m128 },
    [T_CH_W] = { "chain.w", NVM_S8, 4, { 4, 1, 1, 4 }, ch_w },
    [T_CH_B] = { "chain.b", NVM_S32, 1, { 4 }, ch_b },
    [T_CH_M] = { "chain.m", NVM_S32, 1, { 4 }, ch_m },
    [T_CH_S] = { "chain.s", NVM_U8, 1, { 4 }, ch_s },
    [T_RES_W] = { "res.w", NVM_S8, 4, { 2, 3, 3, 2 }, res_w },
    [T_RES_B] = { "res.b", NVM_S32, 1, { 2 }, res_b },
    [T_RES_M] = { "res.m", NVM_S32, 1, { 2 }, res_m },
    [T_RES_S] = { "res.s", NVM_U8, 1, { 2 }, res_s },
    [T_RES_MA] = { "res.ma", NVM_S32, 1, { 2 }, res_ma },
    [T_RES_MB] = { "res.mb", NVM_S32, 1, { 2 }, res_mb },
    [T_RES_AS] = { "res.as", NVM_U8, 1, { 2 }, res_as },
    [T_ONES] = { "ones", NVM_S8, 4, { 1, 3, 3, 1 }, ones },
    [T_ONE32] = { "one32", NVM_S32, 1, { 1 }, one32 },
    [T_ZERO8] = { "zero8", NVM_U8, 1, { 1 }, zero8 },
    [T_LONG_B] = { "long.b", NVM_S32, 1, { 4 }, long_b },
    [T_LONG_M] = { "long.m", NVM_S32, 1, { 4 }, long_m },
    [T_LONG_S] = { "long.s", NVM_U8, 1, { 4 }, long_s },
};

static const struct { const char *name; int64_t value; } sample_params[NPARAMS] = {
    { "cy", 192 }, { "neg", -5 }, { "min", INT64_MIN }, { "max", INT64_MAX },
};

/* A graph under construction; n_slots follows inputs and ops. */
typedef struct gbuild {
    nl_graph g;
    nl_graph_input in[NL_GRAPH_MAX_IO];
    uint32_t out[NL_GRAPH_MAX_IO];
    nl_graph_op ops[16];
} gbuild;

static void gb_init(gbuild *b, const char *name)
{
    memset(b, 0, sizeof(*b));
    snprintf(b->g.name, sizeof(b->g.name), "%s", name);
    b->g.inputs = b->in;
    b->g.outputs = b->out;
    b->g.ops = b->ops;
}

static void gb_input(gbuild *b, uint32_t slot, nl_type type, uint32_t c)
{
    b->in[b->g.n_inputs++] = (nl_graph_input){ slot, (uint32_t)type, c };
    b->g.n_slots++;
}

static void gb_output(gbuild *b, uint32_t slot)
{
    b->out[b->g.n_outputs++] = slot;
}

static nl_graph_op *gb_op(gbuild *b, nl_opcode code, uint32_t dst, uint32_t x, uint32_t y)
{
    nl_graph_op *op = &b->ops[b->g.n_ops++];
    memset(op, 0, sizeof(*op));
    op->code = code;
    op->dst = dst;
    op->src[0] = x;
    op->src[1] = y;
    for (int t = 0; t < NL_GRAPH_NTENSOR; t++)
        op->tensor[t] = NONE;
    b->g.n_slots++;
    return op;
}

static void gb_conv(gbuild *b, uint32_t dst, uint32_t x, int k, int stride, int cin, int cout,
                    nl_type in, nl_type out, int32_t lo, int32_t hi, uint32_t tw, uint32_t tb,
                    uint32_t tm, uint32_t ts)
{
    nl_graph_op *op = gb_op(b, NL_OP_CONV, dst, x, NONE);
    const int32_t a[8] = { k, stride, cin, cout, (int32_t)in, (int32_t)out, lo, hi };
    memcpy(op->attr, a, sizeof(a));
    op->tensor[NL_CONV_WEIGHT] = tw;
    op->tensor[NL_CONV_BIAS] = tb;
    op->tensor[NL_CONV_MULT] = tm;
    op->tensor[NL_CONV_SHIFT] = ts;
}

static void gb_rq(gbuild *b, nl_opcode code, uint32_t dst, uint32_t x, uint32_t y, nl_type out,
                  int32_t lo, int32_t hi, uint32_t t0, uint32_t t1, uint32_t t2)
{
    nl_graph_op *op = gb_op(b, code, dst, x, y);
    op->attr[NL_RQ_OUT_TYPE] = (int32_t)out;
    op->attr[NL_RQ_LO] = lo;
    op->attr[NL_RQ_HI] = hi;
    op->tensor[0] = t0;
    op->tensor[1] = t1;
    op->tensor[2] = t2;
}

static void gb_clamp(gbuild *b, uint32_t dst, uint32_t x, int32_t lo, int32_t hi)
{
    nl_graph_op *op = gb_op(b, NL_OP_CLAMP, dst, x, NONE);
    op->attr[NL_CLAMP_LO] = lo;
    op->attr[NL_CLAMP_HI] = hi;
}

static void gb_shuffle(gbuild *b, nl_opcode code, uint32_t dst, uint32_t x, int r)
{
    gb_op(b, code, dst, x, NONE)->attr[NL_SHUFFLE_R] = r;
}

static void build_main(gbuild *b)
{
    gb_init(b, "g.main");
    gb_input(b, 0, NL_U8, 1);
    gb_input(b, 1, NL_S8, 4);
    gb_shuffle(b, NL_OP_S2D, 2, 0, 2);                                         /* op0 */
    gb_conv(b, 3, 2, 1, 1, 4, 4, NL_U8, NL_S8, -128, 127, T_CONV_W, T_CONV_B, T_CONV_M,
            T_CONV_S);                                                         /* op1 */
    gb_rq(b, NL_OP_ADD, 4, 3, 1, NL_S8, -128, 127, T_ADD_MA, T_ADD_MB, T_ADD_S); /* op2 */
    gb_clamp(b, 5, 4, 0, 20);                                                  /* op3 */
    gb_op(b, NL_OP_CONCAT, 6, 5, 1);                                           /* op4 */
    gb_rq(b, NL_OP_REQUANT, 7, 6, NONE, NL_S16, -NL_S16_MAX, NL_S16_MAX, T_RQ_B, T_RQ_M, T_RQ_S); /* op5 */
    gb_shuffle(b, NL_OP_D2S, 8, 7, 2);                                         /* op6 */
    gb_output(b, 8);
    gb_output(b, 3);
}

static void build_others(gbuild *chain, gbuild *res, gbuild *s2, gbuild *lng)
{
    gb_init(chain, "g.chain");
    gb_input(chain, 0, NL_U8, 1);
    gb_shuffle(chain, NL_OP_S2D, 1, 0, 2);
    gb_conv(chain, 2, 1, 1, 1, 4, 4, NL_U8, NL_S8, -128, 127, T_CH_W, T_CH_B, T_CH_M, T_CH_S);
    gb_clamp(chain, 3, 2, 0, 20);
    gb_shuffle(chain, NL_OP_D2S, 4, 3, 2);
    gb_output(chain, 4);

    gb_init(res, "g.res");
    gb_input(res, 0, NL_S8, 2);
    gb_conv(res, 1, 0, 3, 1, 2, 2, NL_S8, NL_S8, -128, 127, T_RES_W, T_RES_B, T_RES_M, T_RES_S);
    gb_rq(res, NL_OP_ADD, 2, 0, 1, NL_S16, -NL_S16_MAX, NL_S16_MAX, T_RES_MA, T_RES_MB, T_RES_AS);
    gb_output(res, 2);

    gb_init(s2, "g.s2");
    gb_input(s2, 0, NL_U8, 1);
    gb_conv(s2, 1, 0, 3, 2, 1, 1, NL_U8, NL_S32, INT32_MIN, INT32_MAX, T_ONES, NONE, T_ONE32,
            T_ZERO8);
    gb_output(s2, 1);

    gb_init(lng, "g.long");
    gb_input(lng, 0, NL_S16, 4);
    gb_clamp(lng, 1, 0, -100, NL_S16_MAX);
    for (uint32_t i = 0; i < 4; i++) {
        gb_rq(lng, NL_OP_REQUANT, 2 + 2 * i, 1 + 2 * i, NONE, NL_S16, -NL_S16_MAX, NL_S16_MAX, T_LONG_B,
              T_LONG_M, T_LONG_S);
        gb_clamp(lng, 3 + 2 * i, 2 + 2 * i, -NL_S16_MAX, NL_S16_MAX);
    }
    gb_output(lng, 9);
}

typedef void (*graph_mutator)(gbuild *main);

/* The sample file, with g.main changed by mutate when not NULL. */
static void sample_build(uint8_t **buf, size_t *size, graph_mutator mutate)
{
    nvm_writer *w;
    gbuild main, chain, res, s2, lng;
    ck_assert_int_eq(nvm_writer_new(&w, "neuvc-test-1"), 0);
    for (int i = 0; i < NPARAMS; i++)
        ck_assert_int_eq(nvm_writer_add_param(w, sample_params[i].name, sample_params[i].value), 0);
    for (int i = 0; i < T_COUNT; i++) {
        const tdef *t = &sample_tensors[i];
        ck_assert_int_eq(nvm_writer_add_tensor(w, t->name, t->dtype, t->ndim, t->dims, t->data), 0);
    }
    build_main(&main);
    if (mutate)
        mutate(&main);
    build_others(&chain, &res, &s2, &lng);
    ck_assert_int_eq(nvm_writer_add_graph(w, &main.g), 0);
    ck_assert_int_eq(nvm_writer_add_graph(w, &chain.g), 0);
    ck_assert_int_eq(nvm_writer_add_graph(w, &res.g), 0);
    ck_assert_int_eq(nvm_writer_add_graph(w, &s2.g), 0);
    ck_assert_int_eq(nvm_writer_add_graph(w, &lng.g), 0);
    ck_assert_int_eq(nvm_writer_finish(w, buf, size), 0);
    nvm_writer_free(&w);
    ck_assert_ptr_null(w);
}

static nvm_model *load_ok(const uint8_t *buf, size_t size)
{
    char err[NVM_ERRMSG_SIZE] = "";
    nvm_model *m = NULL;
    int ret = nvm_load_mem(&m, buf, size, LIMIT, 0, err, sizeof(err));
    ck_assert_msg(ret == 0, "load failed: %d: %s", ret, err);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* Loads a file that must be refused; returns the code, message in err. */
static int load_refused(const uint8_t *buf, size_t size, size_t limit, char *err, size_t errlen)
{
    nvm_model *m = (nvm_model *)&m; /* must come back NULL */
    int ret = nvm_load_mem(&m, buf, size, limit, 0, err, errlen);
    ck_assert_msg(ret < 0, "accepted a bad file");
    ck_assert_ptr_null(m);
    ck_assert_msg(err[0] != '\0' || ret == NEUVC_ERR(ENOMEM), "no message for %d", ret);
    return ret;
}

static void rehash(uint8_t *buf, size_t size)
{
    neuvc_sha256(buf + NVM_HEADER_SIZE, size - NVM_HEADER_SIZE, buf + NVM_OFF_SHA256);
}

/* File offsets of records in the sample. */
static size_t param_rec(int i)
{
    return NVM_HEADER_SIZE + NVM_COUNTS_SIZE + (size_t)i * NVM_PARAM_REC;
}

static size_t tensor_rec(int i)
{
    return param_rec(NPARAMS) + (size_t)i * NVM_TENSOR_REC;
}

static size_t graph_rec(const uint8_t *buf, int gi)
{
    size_t off = tensor_rec(T_COUNT);
    for (int i = 0; i < gi; i++) {
        const uint8_t *h = buf + off;
        off += NVM_GRAPH_HDR + bytes_load_u32le(h + 68) * (size_t)NVM_INPUT_REC +
               bytes_load_u32le(h + 72) * (size_t)NVM_OUTPUT_REC +
               bytes_load_u32le(h + 76) * (size_t)NVM_OP_REC;
    }
    return off;
}

static size_t tensor_data(const uint8_t *buf, int i)
{
    return NVM_HEADER_SIZE + (size_t)bytes_load_u64le(buf + tensor_rec(i) + 88);
}

/* ------------------------------------------------------------- SHA-256 */

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void check_digest(const void *msg, size_t n, const char *want)
{
    uint8_t d[NEUVC_SHA256_SIZE];
    char text[2 * NEUVC_SHA256_SIZE + 1];
    neuvc_sha256(msg, n, d);
    hex(d, sizeof(d), text);
    ck_assert_str_eq(text, want);
}

START_TEST(test_sha256_vectors)
{
    check_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_digest(m448, strlen(m448),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check_digest(m896, strlen(m896),
                 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* One million 'a', fed in uneven pieces. */
    static uint8_t a[1000];
    memset(a, 'a', sizeof(a));
    neuvc_sha256_ctx ctx;
    neuvc_sha256_init(&ctx);
    size_t fed = 0;
    for (size_t piece = 1; fed < 1000000; piece = piece % 997 + 1) {
        size_t n = piece < 1000000 - fed ? piece : 1000000 - fed;
        neuvc_sha256_update(&ctx, a, n);
        fed += n;
    }
    uint8_t d[NEUVC_SHA256_SIZE];
    char text[2 * NEUVC_SHA256_SIZE + 1];
    neuvc_sha256_final(&ctx, d);
    hex(d, sizeof(d), text);
    ck_assert_str_eq(text, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* Incremental hashing equals one-shot hashing for every split of messages
 * around the 55/56/64-byte padding boundaries. */
START_TEST(test_sha256_splits)
{
    uint8_t msg[130];
    for (int i = 0; i < NELEM(msg); i++)
        msg[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof(msg); n++) {
        uint8_t want[NEUVC_SHA256_SIZE];
        neuvc_sha256(msg, n, want);
        for (size_t cut = 0; cut <= n; cut++) {
            neuvc_sha256_ctx ctx;
            uint8_t got[NEUVC_SHA256_SIZE];
            neuvc_sha256_init(&ctx);
            neuvc_sha256_update(&ctx, msg, cut);
            neuvc_sha256_update(&ctx, NULL, 0);
            neuvc_sha256_update(&ctx, msg + cut, n - cut);
            neuvc_sha256_final(&ctx, got);
            ck_assert_mem_eq(got, want, sizeof(want));
        }
    }
}
END_TEST

/* --------------------------------------------------------- container */

/* Writes model m again with the C writer; the caller frees *buf. */
static int model_rewrite(const nvm_model *m, uint8_t **buf, size_t *size)
{
    nvm_writer *w = NULL;
    int ret = nvm_writer_new(&w, nvm_model_id(m));
    for (uint32_t i = 0; ret == 0 && i < nvm_num_params(m); i++)
        ret = nvm_writer_add_param(w, nvm_param_at(m, i)->name, nvm_param_at(m, i)->value);
    for (uint32_t i = 0; ret == 0 && i < nvm_num_tensors(m); i++) {
        const nvm_tensor *t = nvm_tensor_at(m, i);
        ret = nvm_writer_add_tensor(w, t->name, t->dtype, t->ndim, t->dims, t->data);
    }
    for (uint32_t i = 0; ret == 0 && i < nvm_num_graphs(m); i++)
        ret = nvm_writer_add_graph(w, nvm_graph_at(m, i));
    if (ret == 0)
        ret = nvm_writer_finish(w, buf, size);
    nvm_writer_free(&w);
    return ret;
}

START_TEST(test_roundtrip)
{
    uint8_t *buf, *again;
    size_t size, again_size;
    sample_build(&buf, &size, NULL);
    nvm_model *m = load_ok(buf, size);
    ck_assert_str_eq(nvm_model_id(m), "neuvc-test-1");
    ck_assert_mem_eq(nvm_payload_sha256(m), buf + NVM_OFF_SHA256, NEUVC_SHA256_SIZE);
    uint8_t fp[NVM_FINGERPRINT_SIZE], digest[NEUVC_SHA256_SIZE];
    nvm_fingerprint(m, fp);
    neuvc_sha256(buf + NVM_HEADER_SIZE, size - NVM_HEADER_SIZE, digest);
    ck_assert_mem_eq(fp, digest, NVM_FINGERPRINT_SIZE);

    ck_assert_uint_eq(nvm_num_params(m), NPARAMS);
    for (int i = 0; i < NPARAMS; i++) {
        const nvm_param *p = nvm_find_param(m, sample_params[i].name);
        ck_assert_ptr_eq(p, nvm_param_at(m, (uint32_t)i));
        ck_assert(p->value == sample_params[i].value);
    }
    int64_t v = 0;
    ck_assert_int_eq(nvm_get_param(m, "cy", 1, 1024, &v), 0);
    ck_assert(v == 192);
    ck_assert_int_eq(nvm_get_param(m, "cy", 1, 191, &v), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(nvm_get_param(m, "cz", 1, 1024, &v), NEUVC_ERR(ENOENT));
    ck_assert_ptr_null(nvm_find_param(m, "c"));
    ck_assert_ptr_null(nvm_param_at(m, NPARAMS));

    ck_assert_uint_eq(nvm_num_tensors(m), T_COUNT);
    for (int i = 0; i < T_COUNT; i++) {
        const tdef *d = &sample_tensors[i];
        const nvm_tensor *t = nvm_tensor_at(m, (uint32_t)i);
        ck_assert_str_eq(t->name, d->name);
        ck_assert_int_eq(t->dtype, d->dtype);
        ck_assert_int_eq(t->ndim, d->ndim);
        size_t count = 1;
        for (int k = 0; k < 4; k++) {
            ck_assert_int_eq(t->dims[k], k < d->ndim ? d->dims[k] : 1);
            count *= (size_t)t->dims[k];
        }
        ck_assert_uint_eq(t->count, count);
        ck_assert_uint_eq(t->size, count * nvm_dtype_size(d->dtype));
        ck_assert_mem_eq(t->data, d->data, t->size);
        ck_assert_uint_eq((uintptr_t)t->data % NVM_ALIGN, 0);
    }
    const nvm_tensor *u16 = nvm_tensor_at(m, T_U16);
    ck_assert_ptr_eq(nvm_find_tensor(m, "u16", NVM_U16, 2, 2, 3), u16);
    ck_assert_ptr_eq(nvm_find_tensor(m, "u16", NVM_U16, 2, NVM_ANY_DIM, 3), u16);
    ck_assert_ptr_null(nvm_find_tensor(m, "u16", NVM_S16, 2, 2, 3));
    ck_assert_ptr_null(nvm_find_tensor(m, "u16", NVM_U16, 2, 3, 2));
    ck_assert_ptr_null(nvm_find_tensor(m, "u16", NVM_U16, 1, 6));
    ck_assert_ptr_null(nvm_find_tensor(m, "u17", NVM_U16, 2, 2, 3));
    ck_assert_ptr_eq(nvm_find_tensor(m, "u32", NVM_U32, 3, 1, 1, 2), nvm_tensor_at(m, T_U32));
    ck_assert_uint_eq(((const uint32_t *)nvm_tensor_at(m, T_U32)->data)[0], 4000000000u);
    ck_assert_int_eq(((const int16_t *)nvm_tensor_at(m, T_S16)->data)[0], -32768);

    ck_assert_uint_eq(nvm_num_graphs(m), NGRAPHS);
    gbuild want;
    build_main(&want);
    const nl_graph *g = nvm_find_graph(m, "g.main");
    ck_assert_ptr_eq(g, nvm_graph_at(m, 0));
    ck_assert_uint_eq(g->n_slots, want.g.n_slots);
    ck_assert_uint_eq(g->n_inputs, 2);
    ck_assert_uint_eq(g->n_outputs, 2);
    ck_assert_uint_eq(g->n_ops, 7);
    ck_assert_mem_eq(g->inputs, want.in, 2 * sizeof(nl_graph_input));
    ck_assert_mem_eq(g->outputs, want.out, 2 * sizeof(uint32_t));
    ck_assert_mem_eq(g->ops, want.ops, 7 * sizeof(nl_graph_op));
    ck_assert_ptr_nonnull(g->slots);
    ck_assert_int_eq(g->slots[8].type, NL_S16);
    ck_assert_int_eq(g->slots[8].c, 2);
    ck_assert_int_eq(g->slots[6].c, 8);
    ck_assert_ptr_nonnull(nvm_find_graph(m, "g.long"));
    ck_assert_ptr_null(nvm_find_graph(m, "g.mai"));

    /* The C writer reproduces the file byte for byte from what it read. */
    ck_assert_int_eq(model_rewrite(m, &again, &again_size), 0);
    ck_assert_uint_eq(again_size, size);
    ck_assert_mem_eq(again, buf, size);
    free(again);
    nvm_free(&m);
    ck_assert_ptr_null(m);
    nvm_free(&m);
    free(buf);
}
END_TEST

/* A tiny model whose digest training/nvm.py checks too (same content). */
START_TEST(test_golden_digest)
{
    nvm_writer *w;
    gbuild b;
    uint8_t *buf;
    size_t size;
    const uint8_t t[3] = { 1, 2, 3 };
    const int dims[1] = { 3 };
    ck_assert_int_eq(nvm_writer_new(&w, "tiny"), 0);
    ck_assert_int_eq(nvm_writer_add_param(w, "a", 1), 0);
    ck_assert_int_eq(nvm_writer_add_tensor(w, "t", NVM_U8, 1, dims, t), 0);
    gb_init(&b, "g");
    gb_input(&b, 0, NL_U8, 1);
    gb_clamp(&b, 1, 0, 0, 1);
    gb_output(&b, 1);
    ck_assert_int_eq(nvm_writer_add_graph(w, &b.g), 0);
    ck_assert_int_eq(nvm_writer_finish(w, &buf, &size), 0);
    nvm_writer_free(&w);
    /* header, counts, 1 param, 1 tensor, graph (80 + 12 + 4 + 64): 456
     * bytes; the tensor data starts at the next multiple of 16. */
    ck_assert_uint_eq(size, 112 + 16 + 72 + 96 + 80 + 12 + 4 + 64 + 8 + 3);
    uint8_t d[NEUVC_SHA256_SIZE];
    char text[2 * NEUVC_SHA256_SIZE + 1];
    neuvc_sha256(buf, size, d);
    hex(d, sizeof(d), text);
    ck_assert_str_eq(text, GOLDEN_TINY_SHA256);
    free(buf);
}
END_TEST

START_TEST(test_writer_refuses)
{
    nvm_writer *w = NULL;
    const int dims[2] = { 2, 0 };
    const uint8_t data[4] = { 0 };
    gbuild b;
    ck_assert_int_eq(nvm_writer_new(&w, ""), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nvm_writer_new(&w, "has space"), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nvm_writer_new(&w, "0123456789012345678901234567890123456789012345678901234567890123"),
                     NEUVC_ERR(EINVAL)); /* 64 bytes */
    ck_assert_ptr_null(w);
    ck_assert_int_eq(nvm_writer_new(&w, "012345678901234567890123456789012345678901234567890123456789012"),
                     0); /* 63 bytes */
    ck_assert_int_eq(nvm_writer_add_param(w, "p", 1), 0);
    ck_assert_int_eq(nvm_writer_add_param(w, "p", 2), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nvm_writer_add_param(w, "p\x7f", 2), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nvm_writer_add_tensor(w, "t", NVM_U8, 2, dims, data), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nvm_writer_add_tensor(w, "t", NVM_U8, 0, dims, data), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nvm_writer_add_tensor(w, "t", NVM_U8, 5, dims, data), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nvm_writer_add_tensor(w, "t", NVM_NDTYPES, 1, dims, data), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nvm_writer_add_tensor(w, "t", NVM_U8, 1, dims, data), 0);
    ck_assert_int_eq(nvm_writer_add_tensor(w, "t", NVM_U8, 1, dims, data), NEUVC_ERR(EINVAL));
    gb_init(&b, "g g");
    ck_assert_int_eq(nvm_writer_add_graph(w, &b.g), NEUVC_ERR(EINVAL));
    gb_init(&b, "g");
    b.g.n_ops = NL_GRAPH_MAX_OPS + 1;
    ck_assert_int_eq(nvm_writer_add_graph(w, &b.g), NEUVC_ERR(ERANGE));
    nvm_writer_free(&w);
}
END_TEST

/* Borrowed (aligned) buffers are used in place; unaligned ones copied. */
START_TEST(test_borrow)
{
    uint8_t *buf;
    size_t size;
    char err[NVM_ERRMSG_SIZE];
    sample_build(&buf, &size, NULL);
    uint8_t *aligned = aligned_alloc(64, (size + 1 + 63) / 64 * 64);
    ck_assert_ptr_nonnull(aligned);
    memcpy(aligned, buf, size);
    nvm_model *m;
    ck_assert_int_eq(nvm_load_mem(&m, aligned, size, LIMIT, NVM_LOAD_BORROW, err, sizeof(err)), 0);
    const uint8_t *data = nvm_tensor_at(m, T_U16)->data;
    ck_assert(data >= aligned && data < aligned + size);
    nvm_free(&m);
    memmove(aligned + 1, aligned, size);
    ck_assert_int_eq(nvm_load_mem(&m, aligned + 1, size, LIMIT, NVM_LOAD_BORROW, err, sizeof(err)), 0);
    data = nvm_tensor_at(m, T_U16)->data;
    ck_assert(data < aligned || data >= aligned + size + 1);
    ck_assert_uint_eq((uintptr_t)data % NVM_ALIGN, 0);
    nvm_free(&m);
    free(aligned);
    free(buf);
}
END_TEST

/* NVM_LOAD_TRUSTED skips the digest check and nothing else. */
START_TEST(test_trusted)
{
    uint8_t *buf;
    size_t size;
    char err[NVM_ERRMSG_SIZE];
    nvm_model *m;
    sample_build(&buf, &size, NULL);
    buf[NVM_OFF_SHA256] ^= 1;
    ck_assert_int_eq(nvm_load_mem(&m, buf, size, LIMIT, 0, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(nvm_load_mem(&m, buf, size, LIMIT, NVM_LOAD_TRUSTED, err, sizeof(err)), 0);
    ck_assert_mem_eq(nvm_payload_sha256(m), buf + NVM_OFF_SHA256, NEUVC_SHA256_SIZE);
    nvm_free(&m);
    buf[size - 1] ^= 1;     /* the last tensor byte: still loads, the digest is not computed */
    ck_assert_int_eq(nvm_load_mem(&m, buf, size, LIMIT, NVM_LOAD_TRUSTED, err, sizeof(err)), 0);
    nvm_free(&m);
    buf[NVM_HEADER_SIZE] ^= 0x80;   /* the counts: still parsed and refused */
    ck_assert_int_eq(nvm_load_mem(&m, buf, size, LIMIT, NVM_LOAD_TRUSTED, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
    free(buf);
}
END_TEST

static void temp_path(char *path, size_t n)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, n, "%s/test_nvm_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

START_TEST(test_load_file)
{
    uint8_t *buf;
    size_t size;
    char path[512], err[NVM_ERRMSG_SIZE];
    nvm_model *m;
    nvm_writer *w;
    sample_build(&buf, &size, NULL);
    temp_path(path, sizeof(path));

    ck_assert_int_eq(nvm_writer_new(&w, "file-model"), 0);
    ck_assert_int_eq(nvm_writer_add_param(w, "x", 7), 0);
    ck_assert_int_eq(nvm_writer_save(w, path), 0);
    nvm_writer_free(&w);
    ck_assert_int_eq(nvm_load_file(&m, path, LIMIT, err, sizeof(err)), 0);
    ck_assert_str_eq(nvm_model_id(m), "file-model");
    ck_assert(nvm_find_param(m, "x")->value == 7);
    ck_assert_uint_eq(nvm_num_tensors(m), 0);
    nvm_free(&m);

    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, size, f), size);
    fclose(f);
    ck_assert_int_eq(nvm_load_file(&m, path, LIMIT, err, sizeof(err)), 0);
    ck_assert_str_eq(nvm_model_id(m), "neuvc-test-1");
    nvm_free(&m);
    /* The limit is checked against the header before anything is read. */
    ck_assert_int_eq(nvm_load_file(&m, path, size - NVM_HEADER_SIZE - 1, err, sizeof(err)),
                     NEUVC_ERR(ERANGE));
    ck_assert_ptr_null(m);
    ck_assert_int_eq(truncate(path, (off_t)size - 1), 0);
    ck_assert_int_eq(nvm_load_file(&m, path, LIMIT, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(truncate(path, 50), 0);
    ck_assert_int_eq(nvm_load_file(&m, path, LIMIT, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
    ck_assert_ptr_null(m);
    unlink(path);
    ck_assert_int_eq(nvm_load_file(&m, path, LIMIT, err, sizeof(err)), NEUVC_ERR(ENOENT));
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
    ck_assert_ptr_null(m);
    free(buf);
}
END_TEST

START_TEST(test_truncations)
{
    uint8_t *buf;
    size_t size;
    char err[NVM_ERRMSG_SIZE];
    sample_build(&buf, &size, NULL);
    for (size_t n = 0; n < size; n++) {
        err[0] = '\0';
        ck_assert_int_eq(load_refused(buf, n, LIMIT, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
    }
    /* One byte too many. */
    uint8_t *longer = malloc(size + 1);
    ck_assert_ptr_nonnull(longer);
    memcpy(longer, buf, size);
    longer[size] = 0;
    err[0] = '\0';
    ck_assert_int_eq(load_refused(longer, size + 1, LIMIT, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
    free(longer);
    free(buf);
}
END_TEST

START_TEST(test_flipped_bytes)
{
    uint8_t *buf;
    size_t size;
    char err[NVM_ERRMSG_SIZE];
    sample_build(&buf, &size, NULL);
    for (size_t i = NVM_HEADER_SIZE; i < size; i++) {
        buf[i] ^= 0x01;
        err[0] = '\0';
        ck_assert_int_eq(load_refused(buf, size, LIMIT, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
        ck_assert_msg(strstr(err, "SHA-256") != NULL, "byte %zu: %s", i, err);
        buf[i] ^= 0x01;
    }
    for (size_t i = NVM_OFF_SHA256; i < NVM_HEADER_SIZE; i++) {
        buf[i] ^= 0x80;
        err[0] = '\0';
        ck_assert_int_eq(load_refused(buf, size, LIMIT, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
        buf[i] ^= 0x80;
    }
    nvm_model *m = load_ok(buf, size); /* restored */
    nvm_free(&m);
    free(buf);
}
END_TEST

/* Declared sizes far beyond the file are refused before any allocation
 * of that size (under ASan, such an allocation would abort the test). */
START_TEST(test_huge_sizes)
{
    uint8_t *buf;
    size_t size;
    char err[NVM_ERRMSG_SIZE];
    sample_build(&buf, &size, NULL);
    uint8_t *p = malloc(size);
    ck_assert_ptr_nonnull(p);

    memcpy(p, buf, size);
    bytes_store_u64le(p + NVM_OFF_PAYLOAD_SIZE, UINT64_MAX - 5);
    ck_assert_int_eq(load_refused(p, size, LIMIT, err, sizeof(err)), NEUVC_ERR(ERANGE));
    ck_assert_int_eq(load_refused(p, size, SIZE_MAX, err, sizeof(err)), NEUVC_ERR(ERANGE));
    bytes_store_u64le(p + NVM_OFF_PAYLOAD_SIZE, (uint64_t)1 << 40);
    ck_assert_int_eq(load_refused(p, size, SIZE_MAX, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
    /* A valid file over the caller's limit. */
    ck_assert_int_eq(load_refused(buf, size, size - NVM_HEADER_SIZE - 1, err, sizeof(err)),
                     NEUVC_ERR(ERANGE));

    static const uint32_t counts[] = { 0xFFFFFFFFu, NVM_MAX_ITEMS + 1, 60000 };
    for (int field = 0; field < 3; field++)
        for (int k = 0; k < NELEM(counts); k++) {
            memcpy(p, buf, size);
            bytes_store_u32le(p + NVM_HEADER_SIZE + 4 * field, counts[k]);
            rehash(p, size);
            err[0] = '\0';
            ck_assert_int_eq(load_refused(p, size, LIMIT, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
        }
    /* Four dimensions of 2^31 - 1: the element count overflows 64 bits. */
    memcpy(p, buf, size);
    size_t t = tensor_rec(T_CONV_W);
    for (int d = 0; d < 4; d++)
        bytes_store_u32le(p + t + 68 + 4 * d, 0x7FFFFFFFu);
    rehash(p, size);
    ck_assert_int_eq(load_refused(p, size, LIMIT, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
    ck_assert_ptr_nonnull(strstr(err, "beyond the payload"));
    /* Graph op counts. */
    static const uint32_t ops[] = { 0xFFFFFFFFu, NL_GRAPH_MAX_OPS, 0 };
    for (int k = 0; k < NELEM(ops); k++) {
        memcpy(p, buf, size);
        bytes_store_u32le(p + graph_rec(buf, 0) + 76, ops[k]);
        rehash(p, size);
        ck_assert_int_eq(load_refused(p, size, LIMIT, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
    }
    free(p);
    free(buf);
}
END_TEST

/* Container-level corruptions (SHA-256 recomputed so the parser sees them). */
typedef struct patch_case {
    const char *what;
    void (*patch)(uint8_t *p, size_t *size);
    const char *msg;              /* expected in the error message */
} patch_case;

static void p_magic(uint8_t *p, size_t *n) { (void)n; p[0] = 'X'; }
static void p_version(uint8_t *p, size_t *n) { (void)n; bytes_store_u32le(p + NVM_OFF_VERSION, 2); }
static void p_id_empty(uint8_t *p, size_t *n) { (void)n; p[NVM_OFF_ID] = 0; }
static void p_id_unpadded(uint8_t *p, size_t *n) { (void)n; p[NVM_OFF_ID + 63] = 'x'; }
static void p_id_full(uint8_t *p, size_t *n) { (void)n; memset(p + NVM_OFF_ID, 'a', 64); }
static void p_small_payload(uint8_t *p, size_t *n)
{
    *n = NVM_HEADER_SIZE + 8;
    bytes_store_u64le(p + NVM_OFF_PAYLOAD_SIZE, 8);
}
static void p_counts_reserved(uint8_t *p, size_t *n) { (void)n; p[NVM_HEADER_SIZE + 12] = 1; }
static void p_params_beyond(uint8_t *p, size_t *n) { (void)n; bytes_store_u32le(p + NVM_HEADER_SIZE, 1000); }
static void p_dtype(uint8_t *p, size_t *n) { (void)n; p[tensor_rec(T_U16) + 64] = NVM_NDTYPES; }
static void p_ndim0(uint8_t *p, size_t *n) { (void)n; p[tensor_rec(T_U16) + 65] = 0; }
static void p_ndim5(uint8_t *p, size_t *n) { (void)n; p[tensor_rec(T_U16) + 65] = 5; }
static void p_dim0(uint8_t *p, size_t *n) { (void)n; bytes_store_u32le(p + tensor_rec(T_U16) + 72, 0); }
static void p_dim_big(uint8_t *p, size_t *n) { (void)n; bytes_store_u32le(p + tensor_rec(T_U16) + 68, 0x80000000u); }
static void p_dim_unused(uint8_t *p, size_t *n) { (void)n; bytes_store_u32le(p + tensor_rec(T_U16) + 76, 1); }
static void p_reserved16(uint8_t *p, size_t *n) { (void)n; p[tensor_rec(T_U16) + 66] = 1; }
static void p_reserved32(uint8_t *p, size_t *n) { (void)n; p[tensor_rec(T_U16) + 87] = 1; }
static void p_offset(uint8_t *p, size_t *n)
{
    (void)n;
    size_t r = tensor_rec(T_U16) + 88;
    bytes_store_u64le(p + r, bytes_load_u64le(p + r) + 16);
}
static void p_padding(uint8_t *p, size_t *n) { (void)n; p[tensor_data(p, T_CONV_S) + 4] = 1; }
static void p_trailing(uint8_t *p, size_t *n)
{
    p[*n] = 0;
    *n += 1;
    bytes_store_u64le(p + NVM_OFF_PAYLOAD_SIZE, *n - NVM_HEADER_SIZE);
}
static void p_name_space(uint8_t *p, size_t *n) { (void)n; p[tensor_rec(T_U16)] = ' '; }
static void p_name_empty(uint8_t *p, size_t *n) { (void)n; memset(p + tensor_rec(T_U16), 0, 64); }
static void p_name_unpadded(uint8_t *p, size_t *n) { (void)n; p[tensor_rec(T_U16) + 60] = 'z'; }
static void p_name_full(uint8_t *p, size_t *n) { (void)n; memset(p + param_rec(1), 'q', 64); }
static void p_dup_tensor(uint8_t *p, size_t *n)
{
    (void)n;
    memcpy(p + tensor_rec(T_U32), p + tensor_rec(T_U16), 64);
}
static void p_dup_param(uint8_t *p, size_t *n)
{
    (void)n;
    memcpy(p + param_rec(3), p + param_rec(0), 64);
}
static void p_dup_graph(uint8_t *p, size_t *n)
{
    (void)n;
    memcpy(p + graph_rec(p, 4), p + graph_rec(p, 1), 64);
}
static void p_graph_name(uint8_t *p, size_t *n) { (void)n; p[graph_rec(p, 2)] = 0x80; }
static void p_graph_inputs(uint8_t *p, size_t *n) { (void)n; bytes_store_u32le(p + graph_rec(p, 0) + 68, 17); }

static const patch_case patch_cases[] = {
    { "magic", p_magic, "bad magic" },
    { "version", p_version, "version 2" },
    { "empty id", p_id_empty, "model id" },
    { "unpadded id", p_id_unpadded, "model id" },
    { "id without terminator", p_id_full, "model id" },
    { "payload below 16 bytes", p_small_payload, "too small" },
    { "counts reserved", p_counts_reserved, "bad counts" },
    { "param table beyond payload", p_params_beyond, "param table beyond" },
    { "dtype", p_dtype, "unknown dtype 6" },
    { "ndim 0", p_ndim0, "ndim 0" },
    { "ndim 5", p_ndim5, "ndim 5" },
    { "dimension 0", p_dim0, "dimension 1 is 0" },
    { "dimension 2^31", p_dim_big, "dimension 0 is 2147483648" },
    { "unused dimension", p_dim_unused, "unused dimension 2" },
    { "reserved u16", p_reserved16, "reserved" },
    { "reserved u32", p_reserved32, "reserved" },
    { "data offset", p_offset, "data offset" },
    { "padding", p_padding, "padding" },
    { "trailing payload", p_trailing, "unused bytes" },
    { "name with space", p_name_space, "tensor 10: invalid name" },
    { "empty name", p_name_empty, "tensor 10: invalid name" },
    { "name not zero padded", p_name_unpadded, "tensor 10: invalid name" },
    { "name without terminator", p_name_full, "param 1: invalid name" },
    { "duplicate tensor", p_dup_tensor, "duplicate tensor name 'u16'" },
    { "duplicate param", p_dup_param, "duplicate param name 'cy'" },
    { "duplicate graph", p_dup_graph, "duplicate graph name 'g.chain'" },
    { "graph name", p_graph_name, "graph 2: invalid name" },
    { "graph inputs", p_graph_inputs, "17 inputs" },
};

START_TEST(test_container_errors)
{
    const patch_case *c = &patch_cases[_i];
    uint8_t *buf;
    size_t size;
    char err[NVM_ERRMSG_SIZE] = "";
    sample_build(&buf, &size, NULL);
    uint8_t *p = malloc(size + 16);
    ck_assert_ptr_nonnull(p);
    memcpy(p, buf, size);
    c->patch(p, &size);
    if (size > NVM_HEADER_SIZE)
        rehash(p, size);
    ck_assert_int_eq(load_refused(p, size, LIMIT, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
    ck_assert_msg(strstr(err, c->msg) != NULL, "%s: message '%s' lacks '%s'", c->what, err, c->msg);
    free(p);
    free(buf);
}
END_TEST

/* -------------------------------------------------- graph validation */

typedef struct graph_case {
    const char *what;
    graph_mutator mutate;
    const char *msg;
} graph_case;

static void m_read_early(gbuild *b) { b->ops[1].src[0] = 4; }
static void m_double_write(gbuild *b) { b->ops[3].dst = 4; }
static void m_write_input(gbuild *b) { b->ops[0].dst = 1; }
static void m_dtype(gbuild *b) { b->ops[1].tensor[NL_CONV_MULT] = T_S16; }
static void m_weight_shape(gbuild *b) { b->ops[1].tensor[NL_CONV_WEIGHT] = T_W_NARROW; }
static void m_cin(gbuild *b) { b->ops[1].attr[NL_CONV_CIN] = 3; }
static void m_cout(gbuild *b) { b->ops[1].attr[NL_CONV_COUT] = 5; }
static void m_missing(gbuild *b) { b->ops[1].tensor[NL_CONV_MULT] = NONE; }
static void m_tensor_range(gbuild *b) { b->ops[1].tensor[NL_CONV_SHIFT] = T_COUNT; }
static void m_opcode0(gbuild *b) { b->ops[3].code = 0; }
static void m_opcode8(gbuild *b) { b->ops[3].code = 8; }
static void m_conv_weight(gbuild *b) { b->ops[1].tensor[NL_CONV_WEIGHT] = T_W_M128; }
static void m_conv_lo(gbuild *b) { b->ops[1].attr[NL_CONV_LO] = -129; }
static void m_conv_k(gbuild *b) { b->ops[1].attr[NL_CONV_K] = 2; }
static void m_in_type(gbuild *b) { b->ops[1].attr[NL_CONV_IN_TYPE] = NL_S8; }
static void m_slots(gbuild *b) { b->g.n_slots++; }
static void m_unused_attr(gbuild *b) { b->ops[0].attr[1] = 5; }
static void m_unused_src(gbuild *b) { b->ops[0].src[1] = 0; }
static void m_unused_tensor(gbuild *b) { b->ops[3].tensor[0] = 0; }
static void m_d2s_r(gbuild *b) { b->ops[6].attr[NL_SHUFFLE_R] = 3; }
static void m_s2d_r(gbuild *b) { b->ops[0].attr[NL_SHUFFLE_R] = 1; }
static void m_clamp(gbuild *b) { b->ops[3].attr[NL_CLAMP_LO] = -129; }
static void m_clamp_empty(gbuild *b) { b->ops[3].attr[NL_CLAMP_LO] = 21; }
static void m_add_c(gbuild *b) { b->ops[2].src[1] = 0; }
static void m_add_check(gbuild *b) { b->ops[2].attr[NL_RQ_HI] = 128; }
static void m_concat_type(gbuild *b) { b->ops[4].src[1] = 2; }
static void m_rq_type(gbuild *b) { b->ops[5].attr[NL_RQ_OUT_TYPE] = 4; }
static void m_rq_check(gbuild *b) { b->ops[5].attr[NL_RQ_LO] = 100; b->ops[5].attr[NL_RQ_HI] = 0; }
static void m_rq_shape(gbuild *b) { b->ops[5].tensor[NL_RQ_MULT] = T_CONV_M; }
static void m_out_input(gbuild *b) { b->out[1] = 0; }
static void m_out_twice(gbuild *b) { b->out[1] = 8; }
static void m_out_range(gbuild *b) { b->out[0] = 99; }
static void m_in_range(gbuild *b) { b->in[1].slot = 50; }
static void m_in_twice(gbuild *b) { b->in[1].slot = 0; }
static void m_in_type_bad(gbuild *b) { b->in[0].type = NL_NTYPES; }
static void m_in_c0(gbuild *b) { b->in[0].c = 0; }
static void m_dst_range(gbuild *b) { b->ops[6].dst = 9; }
static void m_src_range(gbuild *b) { b->ops[6].src[0] = 77; }
static void m_no_inputs(gbuild *b) { b->g.n_inputs = 0; }

static const graph_case graph_cases[] = {
    { "slot read before written", m_read_early, "op 1 (conv): reads slot 4 before it is written" },
    { "slot written twice", m_double_write, "op 3 (clamp): writes slot 4 a second time" },
    { "input slot written", m_write_input, "op 0 (s2d): writes slot 1 a second time" },
    { "wrong dtype", m_dtype, "mult tensor 's16' is s16 [4], expected s32 [4]" },
    { "wrong weight shape", m_weight_shape, "weight tensor 'w.narrow' is s8 [4x1x1x3], expected s8 [4x1x1x4]" },
    { "cin mismatch", m_cin, "cin 3, but the source has 4 channels" },
    { "cout mismatch", m_cout, "weight tensor 'conv.w' is s8 [4x1x1x4], expected s8 [5x1x1x4]" },
    { "missing tensor", m_missing, "mult tensor missing" },
    { "tensor index out of range", m_tensor_range, "shift tensor index 32 out of range" },
    { "opcode 0", m_opcode0, "unknown opcode 0" },
    { "opcode 8", m_opcode8, "unknown opcode 8" },
    { "weight -128", m_conv_weight, "nl_conv_check" },
    { "conv lo outside s8", m_conv_lo, "nl_conv_check" },
    { "conv k 2", m_conv_k, "k 2, stride 1" },
    { "in_type mismatch", m_in_type, "in_type 1, but the source is u8" },
    { "slot count", m_slots, "10 slots, but inputs + ops = 9" },
    { "unused attribute", m_unused_attr, "unused attribute 1" },
    { "unused source", m_unused_src, "unused source 1" },
    { "unused tensor", m_unused_tensor, "unused tensor reference 0" },
    { "d2s channels", m_d2s_r, "8 channels not divisible by r * r = 9" },
    { "s2d r", m_s2d_r, "op 0 (s2d): r 1" },
    { "clamp below s8", m_clamp, "bounds [-129, 20] outside s8" },
    { "clamp empty", m_clamp_empty, "bounds [21, 20]" },
    { "add channels", m_add_c, "operands have 4 and 1 channels" },
    { "add bounds", m_add_check, "nl_add_check" },
    { "concat types", m_concat_type, "operands of types s8 and u8" },
    { "requant out_type", m_rq_type, "op 5 (requant): out_type 4" },
    { "requant bounds", m_rq_check, "nl_requant_check" },
    { "requant shape", m_rq_shape, "mult tensor 'conv.m' is s32 [4], expected s32 [8]" },
    { "output is input", m_out_input, "output 1: slot 0 is not written by an op" },
    { "output twice", m_out_twice, "output 1: slot 8 listed twice" },
    { "output range", m_out_range, "output 0: slot 99" },
    { "input slot range", m_in_range, "input 1: slot 50 out of range" },
    { "input slot twice", m_in_twice, "input 1: slot 0 out of range or used twice" },
    { "input type", m_in_type_bad, "input 0: type 4" },
    { "input channels", m_in_c0, "input 0: type 0, 0 channels" },
    { "dst range", m_dst_range, "destination slot 9 out of range" },
    { "src range", m_src_range, "source slot 77 out of range" },
    { "no inputs", m_no_inputs, "0 inputs" },
};

START_TEST(test_graph_errors)
{
    const graph_case *c = &graph_cases[_i];
    uint8_t *buf;
    size_t size;
    char err[NVM_ERRMSG_SIZE] = "";
    sample_build(&buf, &size, c->mutate);
    ck_assert_int_eq(load_refused(buf, size, LIMIT, err, sizeof(err)), NEUVC_ERR_INVALIDDATA);
    ck_assert_msg(strstr(err, c->msg) != NULL, "%s: message '%s' lacks '%s'", c->what, err, c->msg);
    ck_assert_msg(strstr(err, "g.main") != NULL, "%s: '%s' does not name the graph", c->what, err);
    free(buf);
}
END_TEST

/* ----------------------------------------------------------- executor */

typedef struct exec_fixture {
    uint8_t *buf;
    size_t size;
    nvm_model *m;
    nl_graph_exec *ex;
} exec_fixture;

static const nl_graph *fixture_open(exec_fixture *f, const char *graph)
{
    sample_build(&f->buf, &f->size, NULL);
    f->m = load_ok(f->buf, f->size);
    const nl_graph *g = nvm_find_graph(f->m, graph);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(nl_graph_exec_new(&f->ex, g), 0);
    return g;
}

static void fixture_close(exec_fixture *f)
{
    nl_graph_exec_free(&f->ex);
    ck_assert_ptr_null(f->ex);
    nl_graph_exec_free(&f->ex);
    nvm_free(&f->m);
    free(f->buf);
}

static int32_t elem(const nl_tensor *t, int y, int x, int c)
{
    ptrdiff_t i = (ptrdiff_t)y * t->stride + (ptrdiff_t)x * t->c + c;
    switch (t->type) {
    case NL_U8: return ((const uint8_t *)t->data)[i];
    case NL_S8: return ((const int8_t *)t->data)[i];
    case NL_S16: return ((const int16_t *)t->data)[i];
    default: return ((const int32_t *)t->data)[i];
    }
}

static void check_tensor(const nl_tensor *t, int h, int w, int c, nl_type type, const int32_t *want)
{
    ck_assert_int_eq(t->h, h);
    ck_assert_int_eq(t->w, w);
    ck_assert_int_eq(t->c, c);
    ck_assert_int_eq(t->type, type);
    int n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++, n++)
                ck_assert_msg(elem(t, y, x, k) == want[n], "(%d,%d,%d): %d, expected %d", y, x,
                              k, (int)elem(t, y, x, k), (int)want[n]);
}

/* Input pixel v = 3 * (4y + x).  Block (0,0) by hand: s2d gives
 * x = (0, 3, 12, 15); conv channel o = sum w[o][i] x[i] + bias[o], then
 * the rounding rule:
 *   o0: 2*0 - 15 + 3 = -12;  (-12*1 + 1) >> 1 = -6  -> clamp [0,20] -> 0
 *   o1: 3 + 12 - 7 = 8;      (8*3 + 2) >> 2 = 6                    -> 6
 *   o2: -0 + 15 + 0 = 15;    15*5 = 75 (shift 0)                   -> 20
 *   o3: 30 - 40 = -10;       (-10*1 + 2) >> 2 = -2                 -> 0
 * and d2s puts them at (0,0) (0,1) (1,0) (1,1). */
static const int32_t chain_out[16] = { 0, 6, 0, 15, 20, 0, 20, 4, 6, 20, 9, 20, 20, 20, 20, 20 };

START_TEST(test_exec_chain)
{
    exec_fixture f;
    fixture_open(&f, "g.chain");
    uint8_t pix[16];
    for (int i = 0; i < 16; i++)
        pix[i] = (uint8_t)(3 * i);
    nl_tensor in = { pix, 4, 4, 1, 4, NL_U8 }, out;
    const int h = 4, w = 4;
    nl_stats st = { 0 };
    ck_assert_int_eq(nl_graph_prepare(f.ex, &h, &w), 0);
    ck_assert_int_eq(nl_graph_run(f.ex, &in, &out, &st), 0);
    check_tensor(&out, 4, 4, 1, NL_S8, chain_out);
    ck_assert_uint_eq(st.macs, 2 * 2 * 4 * 4);
    ck_assert_uint_eq(nl_graph_exec_macs(f.ex), 2 * 2 * 4 * 4);
    ck_assert_ptr_eq(nl_graph_output(f.ex, 0)->data, out.data);
    ck_assert_ptr_null(nl_graph_output(f.ex, 1));

    /* Same sizes again: nothing reallocated, same result. */
    size_t bytes = nl_graph_exec_bytes(f.ex);
    ck_assert_int_eq(nl_graph_prepare(f.ex, &h, &w), 0);
    ck_assert_ptr_eq(nl_graph_output(f.ex, 0)->data, out.data);
    ck_assert_uint_eq(nl_graph_exec_bytes(f.ex), bytes);
    ck_assert_int_eq(nl_graph_run(f.ex, &in, &out, &st), 0);
    check_tensor(&out, 4, 4, 1, NL_S8, chain_out);
    ck_assert_uint_eq(st.macs, 2 * 2 * 2 * 4 * 4);

    /* New sizes, row stride wider than the row: the graph is pointwise per
     * 2x2 block, so an input tiled 3 x 2 gives the output tiled 3 x 2. */
    uint8_t big[12][10];
    memset(big, 0xEE, sizeof(big));
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 8; x++)
            big[y][x] = pix[(y % 4) * 4 + x % 4];
    const int h2 = 12, w2 = 8;
    nl_tensor in2 = { big, 12, 8, 1, 10, NL_U8 };
    ck_assert_int_eq(nl_graph_prepare(f.ex, &h2, &w2), 0);
    ck_assert_int_eq(nl_graph_run(f.ex, &in2, &out, NULL), 0);
    ck_assert_int_eq(out.h, 12);
    ck_assert_int_eq(out.w, 8);
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 8; x++)
            ck_assert_int_eq(elem(&out, y, x, 0), chain_out[(y % 4) * 4 + x % 4]);
    fixture_close(&f);
}
END_TEST

/* Executors that share one block: each still computes its own result,
 * from the block's start, and leaves it when prepared at other sizes. */
START_TEST(test_exec_share)
{
    exec_fixture f;
    const nl_graph *g = fixture_open(&f, "g.chain");
    nl_graph_exec *b = NULL, *c = NULL;
    ck_assert_int_eq(nl_graph_exec_new(&b, g), 0);
    ck_assert_int_eq(nl_graph_exec_new(&c, g), 0);
    uint8_t pix[16], big[12][8];
    for (int i = 0; i < 16; i++)
        pix[i] = (uint8_t)(3 * i);
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 8; x++)
            big[y][x] = pix[(y % 4) * 4 + x % 4];
    nl_tensor in = { pix, 4, 4, 1, 4, NL_U8 }, in2 = { big, 12, 8, 1, 8, NL_U8 }, out;
    const int h = 4, w = 4, h2 = 12, w2 = 8;
    nl_graph_exec *two[3] = { f.ex, NULL, b };
    ck_assert_int_eq(nl_graph_prepare(f.ex, &h, &w), 0);
    ck_assert_int_eq(nl_graph_exec_share(two, 3), NEUVC_ERR(EINVAL));  /* b unprepared */
    ck_assert_int_eq(nl_graph_prepare(b, &h2, &w2), 0);
    nl_graph_exec *dup[2] = { b, b };
    ck_assert_int_eq(nl_graph_exec_share(dup, 2), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nl_graph_exec_share(two, 1), 0);                   /* one user: nothing */
    ck_assert_int_eq(nl_graph_exec_share(NULL, 2), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nl_graph_exec_share(two, 3), 0);
    ck_assert_ptr_eq(nl_graph_output(f.ex, 0)->data, nl_graph_output(b, 0)->data);
    for (int rep = 0; rep < 2; rep++) {
        ck_assert_int_eq(nl_graph_run(f.ex, &in, &out, NULL), 0);
        check_tensor(&out, 4, 4, 1, NL_S8, chain_out);
        ck_assert_int_eq(nl_graph_run(b, &in2, &out, NULL), 0);
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 8; x++)
                ck_assert_int_eq(elem(&out, y, x, 0), chain_out[(y % 4) * 4 + x % 4]);
    }
    /* A third joins (b and f.ex leave their block for a new one), then
     * f.ex takes a block of its own at other sizes. */
    ck_assert_int_eq(nl_graph_prepare(c, &h, &w), 0);
    nl_graph_exec *bc[2] = { b, c };
    ck_assert_int_eq(nl_graph_exec_share(bc, 2), 0);
    ck_assert_int_eq(nl_graph_prepare(f.ex, &h2, &w2), 0);
    ck_assert_ptr_ne(nl_graph_output(f.ex, 0)->data, nl_graph_output(b, 0)->data);
    ck_assert_int_eq(nl_graph_run(c, &in, &out, NULL), 0);
    check_tensor(&out, 4, 4, 1, NL_S8, chain_out);
    ck_assert_int_eq(nl_graph_run(f.ex, &in2, &out, NULL), 0);
    ck_assert_int_eq(elem(&out, 11, 7, 0), chain_out[15]);
    nl_graph_exec_free(&b);
    ck_assert_int_eq(nl_graph_run(c, &in, &out, NULL), 0);             /* c keeps the block */
    check_tensor(&out, 4, 4, 1, NL_S8, chain_out);
    nl_graph_exec_free(&c);
    fixture_close(&f);
}
END_TEST

START_TEST(test_exec_residual)
{
    exec_fixture f;
    fixture_open(&f, "g.res");
    const int8_t x[18] = { 5, -3, 0, 7, -8, 2, 1, 1, -2, -6, 4, 0, 9, -1, 3, 3, -5, 8 };
    /* conv3x3: (-7, -9), (27, 21), ... ; then 3a+b >> 1, a+2b >> 2 per channel */
    static const int32_t want[18] = { 4, -5, 14, 12, -5, -7, 13, 10, -5, -7, -5, 1, 10, -6,
                                      1, 9, 11, 0 };
    nl_tensor in = { (void *)x, 3, 3, 2, 6, NL_S8 }, out;
    const int h = 3, w = 3;
    nl_stats st = { 0 };
    ck_assert_int_eq(nl_graph_prepare(f.ex, &h, &w), 0);
    ck_assert_int_eq(nl_graph_run(f.ex, &in, &out, &st), 0);
    check_tensor(&out, 3, 3, 2, NL_S16, want);
    ck_assert_uint_eq(st.macs, 3 * 3 * 2 * 9 * 2);
    fixture_close(&f);
}
END_TEST

START_TEST(test_exec_main)
{
    exec_fixture f;
    fixture_open(&f, "g.main");
    uint8_t p[16];
    for (int i = 0; i < 16; i++)
        p[i] = (uint8_t)(i * 7 % 23);
    const int8_t q[16] = { -3, 5, 0, 12, 7, -1, -9, 2, 4, 4, -2, -6, 0, 1, 10, -11 };
    static const int32_t want0[32] = { 13, 0, 25, 38, 75, 156, 400, -75, 38, 44, 450, 100, 38,
                                       -55, -50, -25, 38, 109, 125, 19, 13, 47, -25, -37, 94,
                                       22, 450, -125, 225, 153, 450, -187 };
    static const int32_t want1[16] = { -2, -1, -1, 38, -2, 17, 7, -3, -2, 4, 9, 58, -2, -1,
                                       0, 40 };
    nl_tensor in[2] = { { p, 4, 4, 1, 4, NL_U8 }, { (void *)q, 2, 2, 4, 8, NL_S8 } };
    nl_tensor out[2];
    const int h[2] = { 4, 2 }, w[2] = { 4, 2 };
    nl_stats st = { 0 };
    ck_assert_int_eq(nl_graph_prepare(f.ex, h, w), 0);
    ck_assert_int_eq(nl_graph_run(f.ex, in, out, &st), 0);
    check_tensor(&out[0], 4, 4, 2, NL_S16, want0);
    check_tensor(&out[1], 2, 2, 4, NL_S8, want1);
    check_tensor(nl_graph_output(f.ex, 1), 2, 2, 4, NL_S8, want1);
    ck_assert_uint_eq(st.macs, 64);

    /* Sizes the graph cannot take. */
    const int h_odd[2] = { 5, 2 }, w_odd[2] = { 4, 2 };
    ck_assert_int_eq(nl_graph_prepare(f.ex, h_odd, w_odd), NEUVC_ERR(EINVAL));
    ck_assert_ptr_nonnull(strstr(nl_graph_exec_error(f.ex), "not divisible"));
    ck_assert_ptr_null(nl_graph_output(f.ex, 0));
    ck_assert_int_eq(nl_graph_run(f.ex, in, out, NULL), NEUVC_ERR(EINVAL));
    const int h_mis[2] = { 4, 3 }, w_mis[2] = { 4, 2 };
    ck_assert_int_eq(nl_graph_prepare(f.ex, h_mis, w_mis), NEUVC_ERR(EINVAL));
    ck_assert_ptr_nonnull(strstr(nl_graph_exec_error(f.ex), "op 2 (add)"));
    const int h0[2] = { 0, 2 }, hbig[2] = { NL_GRAPH_MAX_SIDE + 2, 2 };
    ck_assert_int_eq(nl_graph_prepare(f.ex, h0, w), NEUVC_ERR(ERANGE));
    ck_assert_int_eq(nl_graph_prepare(f.ex, hbig, w), NEUVC_ERR(ERANGE));
    ck_assert_uint_eq(nl_graph_exec_bytes(f.ex), 0);

    /* Inputs that do not match what was prepared. */
    ck_assert_int_eq(nl_graph_prepare(f.ex, h, w), 0);
    nl_tensor bad[2] = { in[0], in[1] };
    bad[1].c = 3;
    ck_assert_int_eq(nl_graph_run(f.ex, bad, out, NULL), NEUVC_ERR(EINVAL));
    bad[1] = in[1];
    bad[0].type = NL_S8;
    ck_assert_int_eq(nl_graph_run(f.ex, bad, out, NULL), NEUVC_ERR(EINVAL));
    bad[0] = in[0];
    bad[0].w = 2;
    bad[0].stride = 2;
    ck_assert_int_eq(nl_graph_run(f.ex, bad, out, NULL), NEUVC_ERR(EINVAL));
    bad[0] = in[0];
    bad[0].stride = 3;
    ck_assert_int_eq(nl_graph_run(f.ex, bad, out, NULL), NEUVC_ERR(EINVAL));
    bad[0] = in[0];
    bad[0].data = NULL;
    ck_assert_int_eq(nl_graph_run(f.ex, bad, out, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nl_graph_run(f.ex, in, out, NULL), 0);
    check_tensor(&out[0], 4, 4, 2, NL_S16, want0);
    fixture_close(&f);
}
END_TEST

/* Stride 2 on odd sizes: output (n + 1) / 2, 3x3 box sums with zero
 * padding, sampled at even positions. */
START_TEST(test_exec_stride2)
{
    exec_fixture f;
    fixture_open(&f, "g.s2");
    uint8_t pix[5][3];
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 3; x++)
            pix[y][x] = (uint8_t)(10 * y + x + 200);
    nl_tensor in = { pix, 5, 3, 1, 3, NL_U8 }, out;
    const int h = 5, w = 3;
    ck_assert_int_eq(nl_graph_prepare(f.ex, &h, &w), 0);
    ck_assert_int_eq(nl_graph_run(f.ex, &in, &out, NULL), 0);
    ck_assert_int_eq(out.h, 3);
    ck_assert_int_eq(out.w, 2);
    for (int oy = 0; oy < 3; oy++)
        for (int ox = 0; ox < 2; ox++) {
            int32_t sum = 0;
            for (int y = 2 * oy - 1; y <= 2 * oy + 1; y++)
                for (int x = 2 * ox - 1; x <= 2 * ox + 1; x++)
                    if (y >= 0 && y < 5 && x >= 0 && x < 3)
                        sum += pix[y][x];
            ck_assert_int_eq(elem(&out, oy, ox, 0), sum);
        }
    ck_assert_int_eq(elem(&out, 0, 0, 0), 200 + 201 + 210 + 211);
    fixture_close(&f);
}
END_TEST

/* Buffers are shared between slots that are not live together, the first
 * CLAMP (on a caller input) copies instead of writing to the input, and
 * the other CLAMPs run in place. */
START_TEST(test_exec_liveness)
{
    exec_fixture f;
    fixture_open(&f, "g.long");
    enum { H = 64, W = 48, C = 4 };
    int16_t *x = malloc(sizeof(int16_t) * H * W * C), *copy = malloc(sizeof(int16_t) * H * W * C);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(copy);
    for (int i = 0; i < H * W * C; i++)
        x[i] = (int16_t)((i * 7919) % (2 * NL_S16_MAX + 1) - NL_S16_MAX);
    memcpy(copy, x, sizeof(int16_t) * H * W * C);
    nl_tensor in = { x, H, W, C, W * C, NL_S16 }, out;
    const int h = H, w = W;
    ck_assert_int_eq(nl_graph_prepare(f.ex, &h, &w), 0);
    ck_assert_int_eq(nl_graph_run(f.ex, &in, &out, NULL), 0);
    ck_assert_mem_eq(x, copy, sizeof(int16_t) * H * W * C);
    for (int i = 0; i < H * W * C; i++) {
        int v = x[i] < -100 ? -100 : x[i];
        v += 4;
        if (v > NL_S16_MAX)
            v = NL_S16_MAX;
        ck_assert_int_eq(((const int16_t *)out.data)[i], v);
    }
    /* 9 slots of H*W*C*2 bytes, 8 written by ops: two buffers suffice. */
    size_t slot = sizeof(int16_t) * H * W * C;
    ck_assert_uint_ge(nl_graph_exec_bytes(f.ex), 2 * slot);
    ck_assert_uint_lt(nl_graph_exec_bytes(f.ex), 3 * slot);
    free(x);
    free(copy);
    fixture_close(&f);
}
END_TEST

START_TEST(test_exec_misuse)
{
    nl_graph_exec *ex = (nl_graph_exec *)&ex;
    nl_graph g;
    memset(&g, 0, sizeof(g));
    ck_assert_int_eq(nl_graph_exec_new(&ex, &g), NEUVC_ERR(EINVAL)); /* not validated */
    ck_assert_ptr_null(ex);
    ck_assert_int_eq(nl_graph_exec_new(&ex, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nl_graph_prepare(NULL, NULL, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nl_graph_run(NULL, NULL, NULL, NULL), NEUVC_ERR(EINVAL));
    ck_assert_uint_eq(nl_graph_exec_macs(NULL), 0);
    exec_fixture f;
    fixture_open(&f, "g.chain");
    uint8_t pix[16] = { 0 };
    nl_tensor in = { pix, 4, 4, 1, 4, NL_U8 };
    ck_assert_int_eq(nl_graph_run(f.ex, &in, NULL, NULL), NEUVC_ERR(EINVAL)); /* unprepared */
    ck_assert_ptr_nonnull(strstr(nl_graph_exec_error(f.ex), "before prepare"));
    fixture_close(&f);
}
END_TEST

/* ------------------------------------------------------------- tools */

static int tool_dump(const char *path)
{
    char err[NVM_ERRMSG_SIZE];
    nvm_model *m;
    int ret = nvm_load_file(&m, path, NVM_DEFAULT_MAX_PAYLOAD, err, sizeof(err));
    if (ret < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char sha[2 * NEUVC_SHA256_SIZE + 1];
    hex(nvm_payload_sha256(m), NEUVC_SHA256_SIZE, sha);
    printf("id %s\nsha256 %s\n", nvm_model_id(m), sha);
    for (uint32_t i = 0; i < nvm_num_params(m); i++)
        printf("param %s %" PRId64 "\n", nvm_param_at(m, i)->name, nvm_param_at(m, i)->value);
    for (uint32_t i = 0; i < nvm_num_tensors(m); i++) {
        const nvm_tensor *t = nvm_tensor_at(m, i);
        printf("tensor %s %s", t->name, nvm_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++)
            printf("%c%d", d ? 'x' : ' ', t->dims[d]);
        putchar(' ');
        for (size_t k = 0; k < t->size; k++)
            printf("%02x", ((const uint8_t *)t->data)[k]);
        putchar('\n');
    }
    for (uint32_t i = 0; i < nvm_num_graphs(m); i++) {
        const nl_graph *g = nvm_graph_at(m, i);
        printf("graph %s slots %u\n", g->name, (unsigned)g->n_slots);
        for (uint32_t k = 0; k < g->n_inputs; k++)
            printf("input %u %u %u\n", (unsigned)g->inputs[k].slot, (unsigned)g->inputs[k].type,
                   (unsigned)g->inputs[k].c);
        for (uint32_t k = 0; k < g->n_outputs; k++)
            printf("output %u\n", (unsigned)g->outputs[k]);
        for (uint32_t k = 0; k < g->n_ops; k++) {
            const nl_graph_op *op = &g->ops[k];
            printf("op %s %u %u %u", nl_opcode_name(op->code), (unsigned)op->dst,
                   (unsigned)op->src[0], (unsigned)op->src[1]);
            for (int a = 0; a < NL_GRAPH_NATTR; a++)
                printf(" %d", (int)op->attr[a]);
            for (int t = 0; t < NL_GRAPH_NTENSOR; t++)
                printf(" %u", (unsigned)op->tensor[t]);
            putchar('\n');
        }
    }
    nvm_free(&m);
    return 0;
}

static int tool_rewrite(const char *in, const char *out)
{
    char err[NVM_ERRMSG_SIZE];
    nvm_model *m;
    uint8_t *buf = NULL;
    size_t size = 0;
    int ret = nvm_load_file(&m, in, NVM_DEFAULT_MAX_PAYLOAD, err, sizeof(err));
    if (ret < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    ret = model_rewrite(m, &buf, &size);
    nvm_free(&m);
    FILE *f = ret == 0 ? fopen(out, "wb") : NULL;
    int ok = f && fwrite(buf, 1, size, f) == size;
    if (f && fclose(f) != 0)
        ok = 0;
    free(buf);
    if (!ok) {
        fprintf(stderr, "cannot write '%s' (%d)\n", out, ret);
        return 1;
    }
    return 0;
}

static Suite *nvm_suite(void)
{
    Suite *s = suite_create("nvm");
    TCase *tc = tcase_create("sha256");
    tcase_add_test(tc, test_sha256_vectors);
    tcase_add_test(tc, test_sha256_splits);
    suite_add_tcase(s, tc);
    tc = tcase_create("container");
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_golden_digest);
    tcase_add_test(tc, test_writer_refuses);
    tcase_add_test(tc, test_borrow);
    tcase_add_test(tc, test_trusted);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_truncations);
    tcase_add_test(tc, test_flipped_bytes);
    tcase_add_test(tc, test_huge_sizes);
    tcase_add_loop_test(tc, test_container_errors, 0, NELEM(patch_cases));
    suite_add_tcase(s, tc);
    tc = tcase_create("graph");
    tcase_add_loop_test(tc, test_graph_errors, 0, NELEM(graph_cases));
    suite_add_tcase(s, tc);
    tc = tcase_create("exec");
    tcase_add_test(tc, test_exec_chain);
    tcase_add_test(tc, test_exec_share);
    tcase_add_test(tc, test_exec_residual);
    tcase_add_test(tc, test_exec_main);
    tcase_add_test(tc, test_exec_stride2);
    tcase_add_test(tc, test_exec_liveness);
    tcase_add_test(tc, test_exec_misuse);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--nvm-dump") == 0)
        return tool_dump(argv[2]);
    if (argc == 4 && strcmp(argv[1], "--nvm-rewrite") == 0)
        return tool_rewrite(argv[2], argv[3]);
    if (argc > 1) {
        fprintf(stderr, "usage: %s [--nvm-dump FILE | --nvm-rewrite IN OUT]\n", argv[0]);
        return 2;
    }
    SRunner *sr = srunner_create(nvm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
