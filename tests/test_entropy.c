/* Range coder (entropy/): round trips over many random and degenerate
 * tables, escape values of every length, bypass bits of every width,
 * adaptive models, interleaved streams, coded size against the ideal
 * information content, carries against an exact reference, and decoding of
 * truncated and random streams (run under ASan too).  All randomness comes
 * from a fixed-seed splitmix64. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entropy/adaptive.h"
#include "entropy/cdf.h"
#include "entropy/escape.h"
#include "entropy/rangecoder.h"
#include "neuvc/neuvc.h"

/* ------------------------------------------------------------ helpers */

/* Check's ck_assert records a location on every pass, which is slow in
 * loops of millions; REQUIRE only reports failures. */
#define REQUIRE(cond)                                                      \
    do {                                                                   \
        if (!(cond))                                                       \
            ck_abort_msg("%s:%d: failed: %s", __FILE__, __LINE__, #cond); \
    } while (0)

typedef struct prng {
    uint64_t s;
} prng;

static uint64_t prng_next(prng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint32_t prng_below(prng *r, uint32_t n)
{
    return (uint32_t)(((prng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in (0, 1). */
static double prng_unit(prng *r)
{
    return ((double)(prng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

/* A symbol drawn with the table's own probabilities. */
static int sample_table(prng *r, const uint16_t *cdf, int n)
{
    uint32_t u = (uint32_t)(prng_next(r) >> 49);   /* [0, 2^15) */
    int lo = 0, hi = n;

    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (u >= cdf[mid])
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static double sym_bits(const uint16_t *cdf, int s)
{
    return -log2((double)(cdf[s + 1] - cdf[s]) / RC_PROB_ONE);
}

enum {
    SHAPE_RANDOM,      /* independent random counts */
    SHAPE_PEAK,        /* Laplacian-like around a random centre */
    SHAPE_SPIKE,       /* one symbol has all the mass, others frequency 1 */
    SHAPE_SPARSE,      /* a few random symbols, the rest frequency 1 */
    SHAPE_CUTS,        /* random cut points: raw random frequencies */
    SHAPE_GEOMETRIC,   /* halves from symbol 0 on */
    SHAPE_COUNT
};

static void make_table(prng *r, uint16_t *cdf, int n, int shape)
{
    uint32_t counts[RC_MAX_SYMBOLS];

    memset(counts, 0, sizeof(counts));
    switch (shape) {
    case SHAPE_RANDOM:
        for (int i = 0; i < n; i++)
            counts[i] = prng_below(r, 1000);
        break;
    case SHAPE_PEAK: {
        double c = prng_below(r, (uint32_t)n), b = 0.05 + 8.0 * prng_unit(r);
        for (int i = 0; i < n; i++)
            counts[i] = (uint32_t)(1e9 * exp(-fabs(i - c) / b));
        break;
    }
    case SHAPE_SPIKE:
        counts[prng_below(r, (uint32_t)n)] = 1;
        break;
    case SHAPE_SPARSE:
        for (int k = 0; k < 3; k++)
            counts[prng_below(r, (uint32_t)n)] = 1 + prng_below(r, 100000);
        break;
    case SHAPE_CUTS: {
        /* n - 1 distinct cut points in [1, 2^15 - 1]. */
        uint8_t used[RC_PROB_ONE];
        int k = 0;
        memset(used, 0, sizeof(used));
        while (k < n - 1) {
            uint32_t c = 1 + prng_below(r, RC_PROB_ONE - 1);
            if (!used[c]) {
                used[c] = 1;
                k++;
            }
        }
        cdf[0] = 0;
        k = 1;
        for (uint32_t c = 1; c < RC_PROB_ONE; c++)
            if (used[c])
                cdf[k++] = (uint16_t)c;
        cdf[n] = RC_PROB_ONE;
        return;
    }
    default:
        for (int i = 0; i < n; i++)
            counts[i] = i < 31 ? 1u << (31 - i) : 0;
        break;
    }
    ck_assert_int_eq(rc_cdf_from_counts(cdf, counts, n), 0);
}

/* A latent table for bound k: a discretized Laplacian of scale b around 0
 * on symbols 0..2k, the escape symbol gets the tail mass (at least 1). */
static void make_latent_table(uint16_t *cdf, int k, double b)
{
    double p[RC_MAX_SYMBOLS];
    for (int v = -k; v <= k; v++) {
        double a = fabs((double)v);
        p[v + k] = 0.5 * (exp(-(a - 0.5) / b) - exp(-(a + 0.5) / b));
    }
    p[k] = 1.0 - exp(-0.5 / b);
    p[2 * k + 1] = exp(-(k + 0.5) / b);
    ck_assert_int_eq(rc_cdf_from_probs(cdf, p, rc_esc_nsyms(k)), 0);
}

/* A buffer of exactly len bytes (ASan sees any read past it). */
static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(p);
    if (len)
        memcpy(p, src, len);
    return p;
}

/* ----------------------------------------------------- mixed op streams */

enum {
    OP_SYM,        /* static table, decoded by binary search */
    OP_SYM_FROM,   /* static table, decoded from a start symbol */
    OP_VALUE,      /* escape-coded value */
    OP_BITS,       /* 0..16 bypass bits */
    OP_BITS32,     /* 0..32 bypass bits */
    OP_ADAPT,      /* adaptive multi-symbol */
    OP_BIN,        /* adaptive binary */
    OP_BOOL,       /* binary with a fixed probability */
    OP_KINDS
};

#define MIX_TABLES 24
#define MIX_LATENT 6
#define MIX_ADAPT 6
#define MIX_BIN 3

typedef struct mix_ctx {
    uint16_t cdf[MIX_TABLES][RC_MAX_SYMBOLS + 1];
    int n[MIX_TABLES];
    uint16_t lat[MIX_LATENT][RC_MAX_SYMBOLS + 1];
    int lat_k[MIX_LATENT];
    int adapt_n[MIX_ADAPT];
} mix_ctx;

typedef struct mix_op {
    uint8_t kind;
    uint8_t table;   /* table, latent table or model index */
    uint8_t width;   /* bits; start symbol for OP_SYM_FROM */
    int32_t v;       /* symbol, value, bits or bit */
    uint32_t p0;     /* OP_BOOL */
} mix_op;

typedef struct mix_models {
    rc_adapt adapt[MIX_ADAPT];
    rc_bin bin[MIX_BIN];
} mix_models;

static void mix_ctx_init(mix_ctx *c, prng *r)
{
    static const int ks[MIX_LATENT] = { 0, 1, 3, 15, 40, 127 };

    for (int t = 0; t < MIX_TABLES; t++) {
        c->n[t] = 2 + (int)prng_below(r, t < MIX_TABLES / 2 ? 15 : RC_MAX_SYMBOLS - 1);
        make_table(r, c->cdf[t], c->n[t], t % SHAPE_COUNT);
    }
    for (int t = 0; t < MIX_LATENT; t++) {
        c->lat_k[t] = ks[t];
        make_latent_table(c->lat[t], ks[t], 0.3 + 3.0 * t);
    }
    for (int t = 0; t < MIX_ADAPT; t++)
        c->adapt_n[t] = 2 + (int)prng_below(r, RC_ADAPT_MAX_SYMBOLS - 1);
}

static void mix_models_init(mix_models *m, const mix_ctx *c)
{
    for (int t = 0; t < MIX_ADAPT; t++)
        ck_assert_int_eq(rc_adapt_init(&m->adapt[t], c->adapt_n[t]), 0);
    for (int t = 0; t < MIX_BIN; t++)
        rc_bin_init(&m->bin[t]);
}

/* A random escaped-or-not value for latent table t. */
static int32_t random_value(prng *r, const mix_ctx *c, int t)
{
    int k = c->lat_k[t];
    int s = sample_table(r, c->lat[t], rc_esc_nsyms(k));
    int32_t a;

    if (s <= 2 * k)
        return s - k;
    a = k + 1 + (int32_t)prng_below(r, 1u << prng_below(r, 24));
    return prng_below(r, 2) ? -a : a;
}

static void mix_random_ops(prng *r, const mix_ctx *c, mix_op *ops, int nops)
{
    for (int i = 0; i < nops; i++) {
        mix_op *o = &ops[i];
        memset(o, 0, sizeof(*o));
        o->kind = (uint8_t)prng_below(r, OP_KINDS);
        switch (o->kind) {
        case OP_SYM:
        case OP_SYM_FROM:
            o->table = (uint8_t)prng_below(r, MIX_TABLES);
            o->v = sample_table(r, c->cdf[o->table], c->n[o->table]);
            o->width = (uint8_t)prng_below(r, (uint32_t)c->n[o->table]);
            break;
        case OP_VALUE:
            o->table = (uint8_t)prng_below(r, MIX_LATENT);
            o->v = random_value(r, c, o->table);
            break;
        case OP_BITS:
            o->width = (uint8_t)prng_below(r, RC_BITS_MAX + 1);
            o->v = (int32_t)(prng_next(r) & ((1u << o->width) - 1));
            break;
        case OP_BITS32:
            o->width = (uint8_t)prng_below(r, RC_BITS32_MAX + 1);
            o->v = (int32_t)(uint32_t)(o->width == 32 ? prng_next(r)
                                       : prng_next(r) & ((1ull << o->width) - 1));
            break;
        case OP_ADAPT: {
            int n;
            o->table = (uint8_t)prng_below(r, MIX_ADAPT);
            n = c->adapt_n[o->table];
            /* skewed: symbol 0 half of the time */
            o->v = prng_below(r, 2) ? 0 : (int32_t)prng_below(r, (uint32_t)n);
            break;
        }
        case OP_BIN:
            o->table = (uint8_t)prng_below(r, MIX_BIN);
            o->v = prng_below(r, 10) < 2;
            break;
        default:
            o->p0 = 1 + prng_below(r, RC_PROB_ONE - 1);
            o->v = prng_below(r, RC_PROB_ONE) >= o->p0;
            break;
        }
    }
}

static void mix_encode(rc_enc *e, const mix_ctx *c, const mix_op *ops, int nops)
{
    mix_models m;

    mix_models_init(&m, c);
    for (int i = 0; i < nops; i++) {
        const mix_op *o = &ops[i];
        switch (o->kind) {
        case OP_SYM:
        case OP_SYM_FROM:
            rc_enc_symbol(e, c->cdf[o->table], c->n[o->table], o->v);
            break;
        case OP_VALUE:
            REQUIRE(rc_enc_value(e, c->lat[o->table], c->lat_k[o->table], o->v) == 0);
            break;
        case OP_BITS:
            rc_enc_bits(e, (uint32_t)o->v, o->width);
            break;
        case OP_BITS32:
            rc_enc_bits32(e, (uint32_t)o->v, o->width);
            break;
        case OP_ADAPT:
            rc_enc_adapt(e, &m.adapt[o->table], o->v);
            break;
        case OP_BIN:
            rc_enc_bin(e, &m.bin[o->table], o->v);
            break;
        default:
            rc_enc_bool(e, o->v, o->p0);
            break;
        }
    }
}

/* Decodes the op kinds of ops from d.  Every result must lie in its
 * alphabet whatever the input.  Returns the number of ops whose result
 * equals the op's value, or -1 when a value decode reported corruption
 * (decoding stops there). */
static int mix_decode(rc_dec *d, const mix_ctx *c, const mix_op *ops, int nops)
{
    mix_models m;
    int same = 0;

    mix_models_init(&m, c);
    for (int i = 0; i < nops; i++) {
        const mix_op *o = &ops[i];
        int32_t got;
        switch (o->kind) {
        case OP_SYM:
            got = rc_dec_symbol(d, c->cdf[o->table], c->n[o->table]);
            REQUIRE(got >= 0 && got < c->n[o->table]);
            break;
        case OP_SYM_FROM:
            got = rc_dec_symbol_from(d, c->cdf[o->table], c->n[o->table], o->width);
            REQUIRE(got >= 0 && got < c->n[o->table]);
            break;
        case OP_VALUE: {
            int k = c->lat_k[o->table];
            if (rc_dec_value(d, c->lat[o->table], k, &got) < 0) {
                REQUIRE(rc_dec_error(d) != 0);
                return -1;
            }
            REQUIRE(llabs((long long)got) <= rc_esc_max_abs(k));
            break;
        }
        case OP_BITS:
            got = (int32_t)rc_dec_bits(d, o->width);
            REQUIRE((uint32_t)got < 1u << o->width);
            break;
        case OP_BITS32:
            got = (int32_t)rc_dec_bits32(d, o->width);
            if (o->width < 32)
                REQUIRE((uint32_t)got < 1ull << o->width);
            break;
        case OP_ADAPT:
            got = rc_dec_adapt(d, &m.adapt[o->table]);
            REQUIRE(got >= 0 && got < c->adapt_n[o->table]);
            break;
        case OP_BIN:
            got = rc_dec_bin(d, &m.bin[o->table]);
            REQUIRE(got == 0 || got == 1);
            break;
        default:
            got = rc_dec_bool(d, o->p0);
            REQUIRE(got == 0 || got == 1);
            break;
        }
        same += got == o->v;
    }
    return same;
}

/* ---------------------------------------------------------------- tests */

START_TEST(cdf_check_and_build)
{
    uint16_t cdf[RC_MAX_SYMBOLS + 1];
    uint32_t counts[RC_MAX_SYMBOLS];
    double p[4] = { 0.5, 0.25, 0.25, 0.0 };
    prng r = { 1 };

    rc_cdf_uniform(cdf, 3);
    ck_assert_int_eq(rc_cdf_check(cdf, 3), 0);
    ck_assert_int_eq(cdf[1], 10922);
    ck_assert_int_eq(rc_cdf_check(cdf, 1), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(rc_cdf_check(cdf, 257), NEUVC_ERR_INVALIDDATA);
    cdf[2] = cdf[1];
    ck_assert_int_eq(rc_cdf_check(cdf, 3), NEUVC_ERR_INVALIDDATA);
    rc_cdf_uniform(cdf, 3);
    cdf[0] = 1;
    ck_assert_int_eq(rc_cdf_check(cdf, 3), NEUVC_ERR_INVALIDDATA);
    rc_cdf_uniform(cdf, 3);
    cdf[3] = 32767;
    ck_assert_int_eq(rc_cdf_check(cdf, 3), NEUVC_ERR_INVALIDDATA);

    /* a zero count gets frequency 1, paid by the largest frequency */
    ck_assert_int_eq(rc_cdf_from_probs(cdf, p, 4), 0);
    ck_assert_int_eq(cdf[1], 16383);
    ck_assert_int_eq(cdf[2] - cdf[1], 8192);
    ck_assert_int_eq(cdf[3] - cdf[2], 8192);
    ck_assert_int_eq(cdf[4] - cdf[3], 1);
    /* largest remainders get the deficit: 1:1:1 -> 10923, 10923, 10922 */
    counts[0] = counts[1] = counts[2] = 7;
    ck_assert_int_eq(rc_cdf_from_counts(cdf, counts, 3), 0);
    ck_assert_int_eq(cdf[1], 10923);
    ck_assert_int_eq(cdf[2], 21846);
    p[3] = -1.0;
    ck_assert_int_eq(rc_cdf_from_probs(cdf, p, 4), NEUVC_ERR(EINVAL));
    p[3] = NAN;
    ck_assert_int_eq(rc_cdf_from_probs(cdf, p, 4), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(rc_cdf_from_counts(cdf, counts, 1), NEUVC_ERR(EINVAL));

    /* all zero: uniform; one count: every other symbol frequency 1 */
    memset(counts, 0, sizeof(counts));
    ck_assert_int_eq(rc_cdf_from_counts(cdf, counts, 256), 0);
    ck_assert_int_eq(cdf[1], 128);
    counts[7] = 5;
    ck_assert_int_eq(rc_cdf_from_counts(cdf, counts, 256), 0);
    ck_assert_int_eq(cdf[8] - cdf[7], 32768 - 255);
    ck_assert_int_eq(cdf[1] - cdf[0], 1);

    /* random counts: valid, and each frequency within 1 of the ideal
     * unless raised to 1 or trimmed to pay for such raises */
    for (int trial = 0; trial < 2000; trial++) {
        int n = 2 + (int)prng_below(&r, 255), floors = 0;
        uint64_t total = 0;
        for (int i = 0; i < n; i++) {
            counts[i] = prng_below(&r, 4) ? (uint32_t)(prng_next(&r) >> (33 + prng_below(&r, 31)))
                                          : 0;
            total += counts[i];
        }
        ck_assert_int_eq(rc_cdf_from_counts(cdf, counts, n), 0);
        ck_assert_int_eq(rc_cdf_check(cdf, n), 0);
        if (!total)
            continue;
        for (int i = 0; i < n; i++)
            floors += (uint64_t)counts[i] * RC_PROB_ONE < total;
        for (int i = 0; i < n; i++) {
            double ideal = (double)counts[i] * RC_PROB_ONE / (double)total;
            double f = cdf[i + 1] - cdf[i];
            ck_assert(f >= 1.0);
            ck_assert(f < ideal + 1.0 + 1e-9 || f == 1.0);
            ck_assert(f > ideal - 1.0 - floors - 1e-9);
        }
    }
}
END_TEST

START_TEST(cost_q8)
{
    for (uint32_t f = 1; f <= RC_PROB_ONE; f++) {
        double ideal = 256.0 * -log2((double)f / RC_PROB_ONE);
        double got = rc_cost_q8(f);
        ck_assert_msg(got >= ideal - 1e-9 && got < ideal + 2.0, "f=%u cost %g ideal %g", f, got,
                      ideal);
    }
    ck_assert_uint_eq(rc_cost_q8(0), 15 * 256);
    ck_assert_uint_eq(rc_cost_q8(16384), 256);
}
END_TEST

/* One million symbols from many random tables, interleaved in one stream;
 * decoded by both searches; size against the ideal. */
#define BIG_TABLES 400
#define BIG_SYMBOLS 1000000

START_TEST(roundtrip_million)
{
    static uint16_t cdf[BIG_TABLES][RC_MAX_SYMBOLS + 1];
    static int n[BIG_TABLES];
    uint16_t *tab = malloc(BIG_SYMBOLS * sizeof(*tab));
    uint8_t *sym = malloc(BIG_SYMBOLS);
    prng r = { 2 };
    rc_enc e;
    rc_dec d;
    const uint8_t *data;
    size_t size;
    double ideal = 0.0, overhead;
    int freq1 = 0;

    ck_assert_ptr_nonnull(tab);
    ck_assert_ptr_nonnull(sym);
    for (int t = 0; t < BIG_TABLES; t++) {
        n[t] = 2 + (int)prng_below(&r, t % 3 ? 31 : RC_MAX_SYMBOLS - 1);
        make_table(&r, cdf[t], n[t], t % SHAPE_COUNT);
        ck_assert_int_eq(rc_cdf_check(cdf[t], n[t]), 0);
    }
    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    for (int i = 0; i < BIG_SYMBOLS; i++) {
        int t = (int)prng_below(&r, BIG_TABLES);
        int s = sample_table(&r, cdf[t], n[t]);
        tab[i] = (uint16_t)t;
        sym[i] = (uint8_t)s;
        ideal += sym_bits(cdf[t], s);
        freq1 += cdf[t][s + 1] - cdf[t][s] == 1;
        rc_enc_symbol(&e, cdf[t], n[t], s);
    }
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
    /* symbols of frequency 1 were really coded, many times */
    ck_assert_int_gt(freq1, 500);

    rc_dec_init(&d, data, size);
    for (int i = 0; i < BIG_SYMBOLS; i++) {
        int t = tab[i], s;
        if (i & 1)
            s = rc_dec_symbol(&d, cdf[t], n[t]);
        else
            s = rc_dec_symbol_from(&d, cdf[t], n[t], (int)((unsigned)i * 7u % (unsigned)n[t]));
        if (s != sym[i])
            ck_abort_msg("symbol %d: got %d want %d", i, s, sym[i]);
    }
    ck_assert_int_eq(rc_dec_error(&d), 0);
    ck_assert_int_eq(rc_dec_finish(&d), 0);
    ck_assert_uint_eq(rc_dec_overread(&d), RC_DEC_OVERREAD);

    overhead = (8.0 * (double)size - ideal) / ideal;
    printf("entropy: %d symbols from %d tables (%d of frequency 1): ideal %.0f bits, "
           "coded %zu bytes, overhead %+.5f%%\n",
           BIG_SYMBOLS, BIG_TABLES, freq1, ideal, size, 100.0 * overhead);
    ck_assert_msg(overhead < 0.005 && overhead > -0.005, "overhead %g", overhead);
    rc_enc_free(&e);
    free(tab);
    free(sym);
}
END_TEST

/* Near-certain symbols cost almost nothing; frequency-1 symbols cost 15
 * bits; both decode. */
START_TEST(degenerate_tables)
{
    static const uint16_t sure[3] = { 0, 32767, 32768 };     /* P(0) = 1 - 2^-15 */
    static const uint16_t sure_top[3] = { 0, 1, 32768 };     /* P(1) = 1 - 2^-15 */
    uint16_t rare[RC_MAX_SYMBOLS + 1];
    uint32_t counts[RC_MAX_SYMBOLS] = { 0 };
    prng r = { 3 };
    rc_enc e;
    rc_dec d;
    const uint8_t *data;
    size_t size;
    const int runs = 200000;
    double ideal;

    /* a run of the probable symbol: 200000 * 4.4e-5 = 8.8 bits */
    ck_assert_int_eq(rc_enc_init(&e, 16), 0);
    for (int i = 0; i < runs; i++)
        rc_enc_symbol(&e, i & 1 ? sure : sure_top, 2, i & 1 ? 0 : 1);
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
    ideal = runs * -log2(32767.0 / 32768.0);
    ck_assert_msg(8.0 * (double)size <= ideal + 8.0 * (RC_FLUSH_BYTES + 1), "size %zu ideal %g",
                  size, ideal);
    rc_dec_init(&d, data, size);
    for (int i = 0; i < runs; i++)
        REQUIRE(rc_dec_symbol(&d, i & 1 ? sure : sure_top, 2) == (i & 1 ? 0 : 1));
    ck_assert_int_eq(rc_dec_finish(&d), 0);

    /* 255 symbols of frequency 1 around a big one, coded uniformly:
     * nearly every symbol costs 15 bits */
    counts[100] = 1;
    ck_assert_int_eq(rc_cdf_from_counts(rare, counts, 256), 0);
    rc_enc_reset(&e);
    ideal = 0.0;
    for (int i = 0; i < runs; i++) {
        int s = (int)prng_below(&r, 256);
        ideal += sym_bits(rare, s);
        rc_enc_symbol(&e, rare, 256, s);
    }
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
    ck_assert(fabs(8.0 * (double)size - ideal) < 0.001 * ideal);
    r.s = 3;
    rc_dec_init(&d, data, size);
    for (int i = 0; i < runs; i++) {
        int s = (int)prng_below(&r, 256);
        REQUIRE(rc_dec_symbol_from(&d, rare, 256, 100) == s);
    }
    ck_assert_int_eq(rc_dec_finish(&d), 0);
    rc_enc_free(&e);
}
END_TEST

/* Values around every power of two up to 2^24 beyond the table, both
 * signs, for bounds K from 0 to 127; the limits of the escape code. */
START_TEST(escape_every_length)
{
    static const int ks[] = { 0, 1, 2, 7, 15, 31, 127 };
    uint16_t cdf[RC_MAX_SYMBOLS + 1];
    int32_t vals[4096];
    int nv;
    rc_enc e;
    rc_dec d;
    const uint8_t *data;
    size_t size;

    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
        int k = ks[ki];
        make_latent_table(cdf, k, 1.5);
        nv = 0;
        for (int v = -k - 3; v <= k + 3; v++)
            vals[nv++] = v;
        for (int j = 0; j <= 25; j++) {
            for (int dlt = -1; dlt <= 1; dlt++) {
                int64_t a = (int64_t)k + ((int64_t)1 << j) + dlt;
                if (a > rc_esc_max_abs(k) || a < 0)
                    continue;
                vals[nv++] = (int32_t)a;
                vals[nv++] = (int32_t)-a;
                /* 2^j itself, independent of k */
                vals[nv] = (int32_t)(((int64_t)1 << (j < 24 ? j : 23)) + dlt);
                vals[nv + 1] = -vals[nv];
                nv += 2;
            }
        }
        vals[nv++] = (int32_t)rc_esc_max_abs(k);
        vals[nv++] = (int32_t)-rc_esc_max_abs(k);
        vals[nv++] = 1 << 23;
        vals[nv++] = -(1 << 23);

        rc_enc_reset(&e);
        {
            double priced = 0.0;
            for (int i = 0; i < nv; i++) {
                ck_assert_int_eq(rc_enc_value(&e, cdf, k, vals[i]), 0);
                priced += rc_esc_cost_q8(cdf, k, vals[i]) / 256.0;
            }
            ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
            /* the price is the coded size: each symbol is priced less than
             * 2/256 bit high, and the flush adds up to 8 bits */
            ck_assert_msg(8.0 * (double)size > priced - 2.0 * nv / 256.0 - 1.0 &&
                              8.0 * (double)size < priced + 9.0,
                          "k=%d: %zu bytes, priced %g bits", k, size, priced);
        }
        rc_dec_init(&d, data, size);
        for (int i = 0; i < nv; i++) {
            int32_t got = 12345;
            ck_assert_int_eq(rc_dec_value(&d, cdf, k, &got), 0);
            ck_assert_msg(got == vals[i], "k=%d value %d decoded as %d", k, vals[i], got);
        }
        ck_assert_int_eq(rc_dec_finish(&d), 0);

        /* one past the limit: refused, sticky, nothing coded */
        rc_enc_reset(&e);
        ck_assert_int_eq(rc_enc_value(&e, cdf, k, (int32_t)(rc_esc_max_abs(k) + 1)),
                         NEUVC_ERR(ERANGE));
        ck_assert_int_eq(rc_enc_finish(&e, &data, &size), NEUVC_ERR(ERANGE));
        rc_enc_reset(&e);
        ck_assert_int_eq(rc_enc_value(&e, cdf, k, INT32_MIN), NEUVC_ERR(ERANGE));
    }
    rc_enc_reset(&e);
    ck_assert_int_eq(rc_enc_value(&e, cdf, 128, 0), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(rc_enc_value(&e, cdf, -1, 0), NEUVC_ERR(EINVAL));
    rc_enc_free(&e);
}
END_TEST

/* An Exp-Golomb prefix of 25 zeros is refused without reading on. */
START_TEST(escape_prefix_limit)
{
    uint16_t cdf[RC_MAX_SYMBOLS + 1];
    const int k = 3;
    rc_enc e;
    rc_dec d;
    const uint8_t *data;
    size_t size;
    int32_t v = 77;

    make_latent_table(cdf, k, 1.0);
    for (int zeros = RC_ESC_PREFIX_MAX; zeros <= RC_ESC_PREFIX_MAX + 1; zeros++) {
        ck_assert_int_eq(rc_enc_init(&e, 0), 0);
        rc_enc_symbol(&e, cdf, rc_esc_nsyms(k), 2 * k + 1);
        rc_enc_bits(&e, 1, 1);
        for (int i = 0; i < zeros; i++)
            rc_enc_bits(&e, 0, 1);
        if (zeros <= RC_ESC_PREFIX_MAX) {
            rc_enc_bits(&e, 1, 1);
            rc_enc_bits32(&e, 0xFFFFFF, zeros);
        } else {
            for (int i = 0; i < 40; i++)
                rc_enc_bits(&e, 1, 1);
        }
        ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
        rc_dec_init(&d, data, size);
        if (zeros <= RC_ESC_PREFIX_MAX) {
            ck_assert_int_eq(rc_dec_value(&d, cdf, k, &v), 0);
            /* 24 zeros, a one, 24 ones: x = 2^25 - 1 */
            ck_assert_int_eq(v, -(k + (1 << 25) - 1));
            ck_assert_int_eq(rc_dec_finish(&d), 0);
        } else {
            ck_assert_int_eq(rc_dec_value(&d, cdf, k, &v), NEUVC_ERR_INVALIDDATA);
            ck_assert_int_eq(v, 0);
            ck_assert_int_eq(rc_dec_error(&d), NEUVC_ERR_INVALIDDATA);
        }
        rc_enc_free(&e);
    }
}
END_TEST

/* Every width of raw bits with extreme and random values. */
START_TEST(bypass_all_widths)
{
    prng r = { 4 };
    rc_enc e;
    rc_dec d;
    const uint8_t *data;
    size_t size;
    const int reps = 300;
    uint64_t nbits = 0;

    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    for (int rep = 0; rep < reps; rep++) {
        for (int w = 0; w <= RC_BITS32_MAX; w++) {
            uint32_t mask = w == 32 ? 0xFFFFFFFFu : (uint32_t)((1ull << w) - 1);
            uint32_t v = rep == 0 ? mask : rep == 1 ? 0 : (uint32_t)prng_next(&r) & mask;
            if (w <= RC_BITS_MAX)
                rc_enc_bits(&e, v, w);
            rc_enc_bits32(&e, v, w);
            nbits += (uint64_t)w * (w <= RC_BITS_MAX ? 2 : 1);
        }
    }
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
    /* raw bits cost what they are, give or take the flush */
    ck_assert(8.0 * (double)size < (double)nbits * 1.001 + 8.0 * RC_FLUSH_BYTES);
    ck_assert(8.0 * (double)size >= (double)nbits);
    r.s = 4;
    rc_dec_init(&d, data, size);
    for (int rep = 0; rep < reps; rep++) {
        for (int w = 0; w <= RC_BITS32_MAX; w++) {
            uint32_t mask = w == 32 ? 0xFFFFFFFFu : (uint32_t)((1ull << w) - 1);
            uint32_t v = rep == 0 ? mask : rep == 1 ? 0 : (uint32_t)prng_next(&r) & mask;
            if (w <= RC_BITS_MAX)
                ck_assert_uint_eq(rc_dec_bits(&d, w), v);
            ck_assert_uint_eq(rc_dec_bits32(&d, w), v);
        }
    }
    ck_assert_int_eq(rc_dec_finish(&d), 0);

    /* bad widths: encoder error, decoder corrupt flag */
    rc_enc_reset(&e);
    rc_enc_bits(&e, 0, 17);
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), NEUVC_ERR(EINVAL));
    rc_dec_init(&d, NULL, 0);
    ck_assert_uint_eq(rc_dec_bits(&d, 17), 0);
    ck_assert_int_eq(rc_dec_error(&d), NEUVC_ERR_INVALIDDATA);
    rc_enc_free(&e);
}
END_TEST

/* Adaptive models: every update keeps a valid table; they learn; the binary
 * model is the two-symbol model. */
START_TEST(adaptive_models)
{
    prng r = { 5 };
    rc_adapt m, m2;
    rc_bin b;
    rc_enc e, e2;
    rc_dec d;
    const uint8_t *data, *data2;
    size_t size, size2;

    for (int n = 2; n <= RC_ADAPT_MAX_SYMBOLS; n++) {
        for (int regime = 0; regime < 4; regime++) {
            ck_assert_int_eq(rc_adapt_init(&m, n), 0);
            ck_assert_int_eq(rc_adapt_rate(&m), 4 + (n >= 4));
            for (int i = 0; i < 3000; i++) {
                int s = regime == 0 ? 0 : regime == 1 ? n - 1
                      : regime == 2 ? n / 2 : (int)prng_below(&r, (uint32_t)n);
                rc_adapt_update(&m, s);
                REQUIRE(rc_cdf_check(m.cdf, n) == 0);
            }
            ck_assert_int_eq(rc_adapt_rate(&m), 6 + (n >= 4));
            if (regime < 3) {
                int s = regime == 0 ? 0 : regime == 1 ? n - 1 : n / 2;
                int rate = rc_adapt_rate(&m);
                /* learned: each boundary stops within 2^rate - 1 of its
                 * target (x >> rate is 0 there) */
                ck_assert_int_ge(m.cdf[s + 1] - m.cdf[s],
                                 RC_PROB_ONE - n + 1 - 2 * ((1 << rate) - 1));
                ck_assert_int_lt(m.cdf[s + 1] - m.cdf[s],
                                 RC_PROB_ONE - n + 1 - ((1 << rate) - 1) / 2);
            }
        }
    }
    ck_assert_int_eq(rc_adapt_init(&m, 1), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(rc_adapt_init(&m, 17), NEUVC_ERR(EINVAL));

    /* p0 stays inside [1, 32767] */
    rc_bin_init(&b);
    for (int i = 0; i < 2000; i++)
        rc_bin_update(&b, 1);
    ck_assert_uint_ge(b.p0, 1);
    ck_assert_uint_le(b.p0, 64);    /* stops within 2^6 - 1 of 1 */
    for (int i = 0; i < 2000; i++)
        rc_bin_update(&b, 0);
    ck_assert_uint_le(b.p0, 32767);
    ck_assert_uint_ge(b.p0, 32767 - 63);
    ck_assert_int_eq(rc_bin_init_p0(&b, 0), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(rc_bin_init_p0(&b, 32768), NEUVC_ERR(EINVAL));

    /* rc_bin and a two-symbol rc_adapt give the same bytes; an adaptive
     * 8-symbol model on a skewed source costs near its entropy */
    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    ck_assert_int_eq(rc_enc_init(&e2, 0), 0);
    rc_bin_init(&b);
    ck_assert_int_eq(rc_adapt_init(&m2, 2), 0);
    for (int i = 0; i < 100000; i++) {
        int bit = prng_below(&r, 100) < (i < 50000 ? 10u : 70u);
        rc_enc_bin(&e, &b, bit);
        rc_enc_adapt(&e2, &m2, bit);
        REQUIRE(b.p0 == m2.cdf[1]);
    }
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
    ck_assert_int_eq(rc_enc_finish(&e2, &data2, &size2), 0);
    ck_assert_uint_eq(size, size2);
    ck_assert_mem_eq(data, data2, size);

    {
        static const double p8[8] = { 0.6, 0.2, 0.1, 0.04, 0.03, 0.02, 0.005, 0.005 };
        uint16_t src[9];
        double h = 0.0;
        const int count = 200000;
        ck_assert_int_eq(rc_cdf_from_probs(src, p8, 8), 0);
        for (int s = 0; s < 8; s++)
            h -= p8[s] * log2(p8[s]);
        rc_enc_reset(&e);
        ck_assert_int_eq(rc_adapt_init(&m, 8), 0);
        r.s = 55;
        for (int i = 0; i < count; i++)
            rc_enc_adapt(&e, &m, sample_table(&r, src, 8));
        ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
        printf("entropy: adaptive 8-symbol model: %.4f bits/symbol, source entropy %.4f\n",
               8.0 * (double)size / count, h);
        ck_assert(8.0 * (double)size < 1.03 * h * count);
        ck_assert(8.0 * (double)size > 0.97 * h * count);
        ck_assert_int_eq(rc_adapt_init(&m, 8), 0);
        r.s = 55;
        rc_dec_init(&d, data, size);
        for (int i = 0; i < count; i++)
            REQUIRE(rc_dec_adapt(&d, &m) == sample_table(&r, src, 8));
        ck_assert_int_eq(rc_dec_finish(&d), 0);
    }

    /* a non-uniform start; invalid starts refused */
    {
        static const uint16_t start[5] = { 0, 30000, 31000, 32000, 32768 };
        static const uint16_t bad[5] = { 0, 30000, 30000, 32000, 32768 };
        ck_assert_int_eq(rc_adapt_init_cdf(&m, start, 4), 0);
        ck_assert_int_eq(rc_adapt_init_cdf(&m, bad, 4), NEUVC_ERR(EINVAL));
    }
    rc_enc_free(&e);
    rc_enc_free(&e2);
}
END_TEST

/* Everything interleaved in one stream. */
#define MIX_OPS 300000

START_TEST(interleaved_mix)
{
    static mix_ctx c;
    mix_op *ops = malloc(MIX_OPS * sizeof(*ops));
    prng r = { 6 };
    rc_enc e;
    rc_dec d;
    const uint8_t *data;
    size_t size;

    ck_assert_ptr_nonnull(ops);
    mix_ctx_init(&c, &r);
    mix_random_ops(&r, &c, ops, MIX_OPS);
    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    mix_encode(&e, &c, ops, MIX_OPS);
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
    rc_dec_init(&d, data, size);
    ck_assert_int_eq(mix_decode(&d, &c, ops, MIX_OPS), MIX_OPS);
    ck_assert_int_eq(rc_dec_finish(&d), 0);
    rc_enc_free(&e);
    free(ops);
}
END_TEST

/* An exact reference for the bytes: carries added at once, into a byte
 * array, instead of when the next byte leaves.  Counts carries that ran
 * through 0xFF bytes. */
typedef struct ref_enc {
    uint8_t buf[1 << 16];
    size_t size;
    uint64_t low;
    uint32_t range;
    size_t longest_run;
} ref_enc;

static void ref_add(ref_enc *f, uint64_t add)
{
    f->low += add;
    if (f->low >> 32) {
        size_t i = f->size, run = 0;
        f->low &= 0xFFFFFFFFu;
        while (f->buf[i - 1] == 0xFF) {
            f->buf[--i] = 0;
            run++;
        }
        f->buf[i - 1]++;
        if (run > f->longest_run)
            f->longest_run = run;
    }
}

static void ref_code(ref_enc *f, uint32_t lo, uint32_t width)
{
    ref_add(f, lo);
    f->range = width;
    while (f->range < RC_RANGE_MIN) {
        f->buf[f->size++] = (uint8_t)(f->low >> 24);
        f->low = (f->low << 8) & 0xFFFFFFFFu;
        f->range <<= 8;
    }
}

/* The symbol of cdf whose sub-interval of [0, range) holds offset x. */
static int symbol_at(const uint16_t *cdf, int n, uint32_t range, uint64_t x)
{
    int s = 0;

    while (s + 1 < n && ((uint64_t)range * cdf[s + 1]) >> 15 <= x)
        s++;
    return s;
}

START_TEST(carry_reference)
{
    static ref_enc f;
    uint16_t cdf[RC_MAX_SYMBOLS + 1];
    const int n = 37;
    prng r = { 7 };
    rc_enc e;
    const uint8_t *data;
    size_t size;
    int hold = 0;
    long carries = 0;

    make_table(&r, cdf, n, SHAPE_RANDOM);
    memset(&f, 0, sizeof(f));
    f.range = RC_RANGE_INIT;
    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    while (f.size < sizeof(f.buf) - 64) {
        /* While [L, L + R) straddles the carry point 2^32, the bytes that
         * leave are 0xFF and undecided.  Keep it straddling for a while by
         * picking the symbol that holds the point, then pick one above it:
         * the carry runs back through all those bytes. */
        int s;
        uint32_t lo, hi;
        int straddles = f.low < (1ull << 32) && f.low + f.range > (1ull << 32);
        if (straddles && hold > 0) {
            s = symbol_at(cdf, n, f.range, (1ull << 32) - f.low);
            hold--;
        } else if (straddles) {
            s = symbol_at(cdf, n, f.range, (1ull << 32) - f.low);
            if (s + 1 < n)
                s++;
            carries++;
            hold = (int)prng_below(&r, 40);
        } else {
            s = (int)prng_below(&r, (uint32_t)n);
        }
        lo = (uint32_t)(((uint64_t)f.range * cdf[s]) >> 15);
        hi = (uint32_t)(((uint64_t)f.range * cdf[s + 1]) >> 15);
        rc_enc_symbol(&e, cdf, n, s);
        ref_code(&f, lo, hi - lo);
    }
    /* flush: round up to a multiple of 2^24, one byte */
    ref_add(&f, ((f.low + RC_RANGE_MIN - 1) & ~(uint64_t)(RC_RANGE_MIN - 1)) - f.low);
    f.buf[f.size++] = (uint8_t)(f.low >> 24);
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
    ck_assert_uint_eq(size, f.size);
    ck_assert_mem_eq(data, f.buf, size);
    printf("entropy: carry reference: %zu bytes equal, %ld forced carries, longest through "
           "%zu bytes of 0xFF\n", size, carries, f.longest_run);
    ck_assert_uint_ge(f.longest_run, 16);
    rc_enc_free(&e);
}
END_TEST

/* Every cut of valid streams: decoding the original symbols from a cut
 * stream always overreads (rc_dec_error); a cut stream that decodes to
 * other symbols is caught by rc_dec_finish unless it is itself a valid
 * stream of those symbols.  The whole stream passes both; extra bytes fail
 * the strict end check. */
START_TEST(truncation)
{
    static mix_ctx c;
    mix_op ops[400];
    prng r = { 8 };
    rc_enc e;
    rc_dec d;
    const uint8_t *data;
    size_t size;
    long cuts = 0, same = 0, overread = 0, finish_bad = 0;

    mix_ctx_init(&c, &r);
    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    for (int stream = 0; stream < 40; stream++) {
        int nops = stream == 0 ? 0 : stream < 4 ? stream : 1 + (int)prng_below(&r, 400);
        uint8_t *whole, *longer;
        mix_random_ops(&r, &c, ops, nops);
        rc_enc_reset(&e);
        mix_encode(&e, &c, ops, nops);
        ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
        ck_assert_uint_ge(size, RC_FLUSH_BYTES);

        whole = exact_copy(data, size);
        rc_dec_init(&d, whole, size);
        ck_assert_int_eq(mix_decode(&d, &c, ops, nops), nops);
        ck_assert_int_eq(rc_dec_error(&d), 0);
        ck_assert_int_eq(rc_dec_finish(&d), 0);

        longer = malloc(size + 1);
        ck_assert_ptr_nonnull(longer);
        memcpy(longer, data, size);
        longer[size] = 0x5A;
        rc_dec_init(&d, longer, size + 1);
        ck_assert_int_eq(mix_decode(&d, &c, ops, nops), nops);
        ck_assert_int_eq(rc_dec_error(&d), 0);
        ck_assert_int_eq(rc_dec_finish(&d), NEUVC_ERR_INVALIDDATA);
        free(longer);

        for (size_t t = 0; t < size; t++) {
            uint8_t *cut = exact_copy(whole, t);
            int got;
            rc_dec_init(&d, t ? cut : NULL, t);
            got = mix_decode(&d, &c, ops, nops);
            cuts++;
            if (rc_dec_error(&d) < 0)
                overread++;
            if (rc_dec_finish(&d) < 0)
                finish_bad++;
            else
                ck_assert_int_eq(rc_dec_error(&d), 0);
            if (got == nops) {
                same++;
                ck_assert_msg(rc_dec_error(&d) == NEUVC_ERR_INVALIDDATA,
                              "stream %d: cut to %zu of %zu bytes decodes right, unreported",
                              stream, t, size);
            }
            free(cut);
        }
        free(whole);
    }
    printf("entropy: %ld cut streams: %ld decode the original symbols, %ld overread "
           "(rc_dec_error), %ld fail rc_dec_finish\n", cuts, same, overread, finish_bad);
    ck_assert_int_gt(cuts, 1000);
    ck_assert_int_gt(same, 0);
    /* the strict end check misses only cut streams that are valid streams */
    ck_assert_int_ge(finish_bad, cuts - cuts / 1000);
    rc_enc_free(&e);
}
END_TEST

/* Random bytes: every result inside its alphabet, bounded time, no read
 * outside the buffer; short inputs are reported. */
START_TEST(garbage_input)
{
    static mix_ctx c;
    mix_op ops[600];
    prng r = { 9 };
    rc_dec d;
    int errors = 0, overruns = 0;

    mix_ctx_init(&c, &r);
    for (int trial = 0; trial < 3000; trial++) {
        size_t len = prng_below(&r, trial % 10 ? 400 : 8);
        int fill = trial % 7;
        uint8_t *buf = malloc(len ? len : 1);
        int nops = 1 + (int)prng_below(&r, 600);
        ck_assert_ptr_nonnull(buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = fill == 0 ? 0xFF : fill == 1 ? 0x00 : (uint8_t)prng_next(&r);
        mix_random_ops(&r, &c, ops, nops);
        rc_dec_init(&d, len ? buf : NULL, len);
        if (mix_decode(&d, &c, ops, nops) < 0)
            errors++;
        if (rc_dec_error(&d) < 0)
            errors++;
        if (rc_dec_overread(&d) > RC_DEC_OVERREAD) {
            overruns++;
            ck_assert_int_eq(rc_dec_error(&d), NEUVC_ERR_INVALIDDATA);
        }
        /* four bytes are read at the start whatever the length */
        if (len == 0)
            ck_assert_int_eq(rc_dec_error(&d), NEUVC_ERR_INVALIDDATA);
        free(buf);
    }
    ck_assert_int_gt(errors, 100);
    ck_assert_int_gt(overruns, 100);

    /* all 0xFF: an impossible start value */
    {
        static const uint8_t ff[8] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
        rc_dec_init(&d, ff, sizeof(ff));
        ck_assert_int_eq(rc_dec_error(&d), NEUVC_ERR_INVALIDDATA);
    }
}
END_TEST

/* Encoder API: sticky errors, reset, no growth after warm-up, tell. */
START_TEST(encoder_api)
{
    static const uint16_t u4[5] = { 0, 8192, 16384, 24576, 32768 };
    rc_enc e;
    const uint8_t *data, *data2;
    size_t size, size2, cap;
    uint8_t *buf;

    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
    ck_assert_uint_eq(size, RC_FLUSH_BYTES);

    rc_enc_reset(&e);
    rc_enc_symbol(&e, u4, 4, 4);
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), NEUVC_ERR(EINVAL));
    ck_assert_ptr_null(data);
    rc_enc_reset(&e);
    rc_enc_symbol(&e, u4, 4, -1);
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), NEUVC_ERR(EINVAL));

    /* 20000 symbols of 2 bits: tell tracks the size */
    rc_enc_reset(&e);
    for (int i = 0; i < 20000; i++) {
        rc_enc_symbol(&e, u4, 4, i & 3);
        REQUIRE(rc_enc_tell_bits(&e) + 1 >= 2ull * (i + 1));
        REQUIRE(rc_enc_tell_bits(&e) <= 2ull * (i + 1) + 1);
    }
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
    /* 40000 bits: the flush rounds up to whole bytes */
    ck_assert_uint_ge(size, 5000);
    ck_assert_uint_le(size, 5000 + RC_FLUSH_BYTES);
    ck_assert_int_eq(rc_enc_finish(&e, &data2, &size2), 0);
    ck_assert_ptr_eq(data, data2);
    ck_assert_uint_eq(size, size2);
    /* coding after finish fails the stream */
    rc_enc_symbol(&e, u4, 4, 0);
    ck_assert_int_eq(rc_enc_finish(&e, &data, &size), NEUVC_ERR(EINVAL));

    /* after warm-up the buffer neither moves nor grows */
    buf = e.buf;
    cap = e.cap;
    for (int frame = 0; frame < 10; frame++) {
        rc_enc_reset(&e);
        for (int i = 0; i < 20000 - frame * 100; i++)
            rc_enc_symbol(&e, u4, 4, (i * 5 + frame) & 3);
        ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
        ck_assert_ptr_eq(e.buf, buf);
        ck_assert_uint_eq(e.cap, cap);
    }
    rc_enc_free(&e);
    rc_enc_free(&e);
    rc_enc_free(NULL);
}
END_TEST

static Suite *entropy_suite(void)
{
    Suite *s = suite_create("entropy");
    TCase *tc = tcase_create("rangecoder");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cdf_check_and_build);
    tcase_add_test(tc, cost_q8);
    tcase_add_test(tc, roundtrip_million);
    tcase_add_test(tc, degenerate_tables);
    tcase_add_test(tc, escape_every_length);
    tcase_add_test(tc, escape_prefix_limit);
    tcase_add_test(tc, bypass_all_widths);
    tcase_add_test(tc, adaptive_models);
    tcase_add_test(tc, interleaved_mix);
    tcase_add_test(tc, carry_reference);
    tcase_add_test(tc, truncation);
    tcase_add_test(tc, garbage_input);
    tcase_add_test(tc, encoder_api);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(entropy_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
