/*
 * The bit-exact kernel checker (in the spirit of dav1d's checkasm).
 *
 * For every dispatch level this CPU can run (AVX2, AVX-512 VNNI; NEON,
 * NEON with the dot product), every
 * convolution entry of the table that is not the reference (kernel size
 * 1/3, stride 1/2, input u8/s8/s16, every output type) is compared with
 * netlib/ref BYTE FOR BYTE, on whole destination buffers (so a write
 * outside the row range or into the row-stride slack is caught too):
 *   - random inputs, weights and requantization on odd sizes (1x1, 1x7,
 *     7x1, 5x3, 33x17, ...), odd channel counts around every tile width,
 *     unaligned (odd) row strides with garbage in the slack, row ranges;
 *   - worst cases: inputs all 255 / all -128 / all 127 / +-4096 (s16) with
 *     weights all +127 / all -127 / alternating, at channel counts that
 *     put |acc| near 2^30 (s16) or as high as the kernel takes (u8, s8);
 *     bias +-(2^30 - 1); per-channel (mult, shift) from {0, 1, 2^31 - 1}
 *     x {0, 1, 31, 40, 61, 62}; saturation of every output type, natural
 *     and narrow clamp ranges;
 *   - x-chunking (rows longer than a kernel stages at once) and the
 *     fallback to the reference for shapes a kernel refuses.
 * A level this CPU lacks is printed as "NOT RUN on this CPU", never as
 * passed.  Also: cpu feature detection against /proc/cpuinfo, the
 * NeuvcCpu mapping, and the NEUVC_CPU environment override (which runs
 * this program again: under an emulator, NEUVC_TEST_RUNNER is the command
 * prefix that runs it, e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu").
 *
 * --bench: speed of every kernel against the reference on the model's
 * shapes (also built as bench_checkasm, run by make bench).
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "neuvc/neuvc.h"
#include "netlib/dsp.h"
#include "netlib/netlib.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define CANARY 0xA5

/* ------------------------------------------------------------ helpers */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int32_t rng_range(rng *r, int32_t lo, int32_t hi)
{
    return (int32_t)((int64_t)lo + (int64_t)(rng_next(r) % (uint64_t)((int64_t)hi - lo + 1)));
}

static size_t esize(nl_type t)
{
    return nl_type_size(t);
}

static const char *type_name(nl_type t)
{
    static const char *const n[] = { "u8", "s8", "s16", "s32" };
    return (unsigned)t < 4 ? n[t] : "?";
}

static void put(void *base, nl_type t, size_t i, int32_t v)
{
    switch (t) {
    case NL_U8: ((uint8_t *)base)[i] = (uint8_t)v; break;
    case NL_S8: ((int8_t *)base)[i] = (int8_t)v; break;
    case NL_S16: ((int16_t *)base)[i] = (int16_t)v; break;
    default: ((int32_t *)base)[i] = v; break;
    }
}

static int32_t get(const void *base, nl_type t, size_t i)
{
    switch (t) {
    case NL_U8: return ((const uint8_t *)base)[i];
    case NL_S8: return ((const int8_t *)base)[i];
    case NL_S16: return ((const int16_t *)base)[i];
    default: return ((const int32_t *)base)[i];
    }
}

/* Largest |sample| the contract allows for an input type. */
static void in_range(nl_type t, int32_t *lo, int32_t *hi)
{
    if (t == NL_S16) {
        *lo = -NL_S16_MAX;
        *hi = NL_S16_MAX;
    } else {
        nl_type_range(t, lo, hi);
    }
}

/* ------------------------------------------------------------ one case */

enum fill { FILL_RANDOM, FILL_MAX, FILL_MIN, FILL_ALT };
enum rqmode { RQ_RANDOM, RQ_EXTREME };

typedef struct spec {
    int k, stride, cin, cout;
    nl_type in, out;
    int h, w;                    /* input size */
    int src_slack, dst_slack;    /* row stride - w * c, elements */
    int y0, y1;                  /* output rows; y1 < 0: all */
    enum fill in_fill, w_fill;   /* FILL_ALT for weights: +-127 by position */
    enum rqmode rq;
    int narrow;                  /* clamp to a random sub-range */
} spec;

typedef struct outcome {
    int ran;                     /* 1 if compared */
    const char *kernel;          /* the kernel that ran (after any fallback) */
} outcome;

static const int32_t mult_extremes[] = { 0, 1, INT32_MAX, INT32_MAX, 1 << 30, 3, INT32_MAX, 12345 };
static const uint8_t shift_extremes[] = { 0, 0, 62, 0, 61, 1, 31, 40, 1, 62, 20 };

/* The kernels that ran for the current entry (a prepare hook may pick a
 * variant by shape, or fall back to the reference). */
static const char *variants[8];
static int n_variants;

static void variant_seen(const char *name)
{
    for (int i = 0; i < n_variants; i++)
        if (!strcmp(variants[i], name))
            return;
    if (n_variants < NELEM(variants))
        variants[n_variants++] = name;
}

/* Runs spec on the plan's kernel and on the reference; ck_abort on any
 * differing byte, with the place. */
static outcome check_case(const nl_dsp *dsp, const spec *sp, rng *r, const char *what)
{
    outcome res = { 0, NULL };
    const int k = sp->k, cin = sp->cin, cout = sp->cout;
    const size_t nw = (size_t)cout * (size_t)(k * k) * (size_t)cin;
    int8_t *w = malloc(nw);
    int32_t *bias = malloc((size_t)cout * sizeof(int32_t));
    int32_t *mult = malloc((size_t)cout * sizeof(int32_t));
    uint8_t *shift = malloc((size_t)cout);
    ck_assert(w && bias && mult && shift);

    for (size_t i = 0; i < nw; i++) {
        switch (sp->w_fill) {
        case FILL_MAX: w[i] = 127; break;
        case FILL_MIN: w[i] = -127; break;
        case FILL_ALT: w[i] = (i % 3) ? 127 : -127; break;
        default: w[i] = (int8_t)rng_range(r, -127, 127); break;
        }
    }
    int32_t tlo, thi, ilo, ihi;
    nl_type_range(sp->out, &tlo, &thi);
    in_range(sp->in, &ilo, &ihi);
    /* Typical |acc|: sqrt(taps) * |sample| * |weight| / 4 (random data). */
    double taps = (double)(k * k) * cin;
    double acc_typ = 1.0;
    while (acc_typ * acc_typ < taps)
        acc_typ *= 2;
    acc_typ *= (double)(ihi > -ilo ? ihi : -ilo) * 32;
    double target = sp->out == NL_S32 ? 1e6 : (double)thi / 2;
    for (int o = 0; o < cout; o++) {
        if (sp->rq == RQ_EXTREME) {
            mult[o] = mult_extremes[(o + (int)(rng_next(r) % 3)) % NELEM(mult_extremes)];
            shift[o] = shift_extremes[(o * 7 + (int)(rng_next(r) % 5)) % NELEM(shift_extremes)];
            static const int32_t b[] = { NL_BIAS_MAX, -NL_BIAS_MAX, 0, 1, -1 };
            bias[o] = (o % 6 == 5) ? rng_range(r, -NL_BIAS_MAX, NL_BIAS_MAX) : b[o % NELEM(b)];
        } else {
            mult[o] = rng_range(r, 1 << 16, INT32_MAX);
            /* shift so that acc * mult / 2^shift lands near the output range */
            double v = acc_typ * mult[o] / target;
            int s = 0;
            while (v > 1.0 && s < NL_SHIFT_MAX) {
                v /= 2;
                s++;
            }
            s += rng_range(r, -2, 2);
            shift[o] = (uint8_t)(s < 0 ? 0 : s > NL_SHIFT_MAX ? NL_SHIFT_MAX : s);
            bias[o] = (rng_next(r) % 8 == 0) ? 0 : rng_range(r, -(int32_t)acc_typ, (int32_t)acc_typ);
        }
    }
    int32_t lo = tlo, hi = thi;
    if (sp->narrow) {
        lo = rng_range(r, tlo, thi);
        hi = rng_range(r, lo, thi);
        if (sp->out == NL_S32) {
            lo = rng_range(r, -1000, 0);
            hi = rng_range(r, 0, 1000);
        }
    }
    nl_conv_desc d = { k, sp->stride, cin, cout, sp->in, sp->out, w,
                       { (rng_next(r) % 5 == 0 && sp->rq == RQ_RANDOM) ? NULL : bias, mult, shift,
                         lo, hi } };
    ck_assert_msg(nl_conv_check(&d) == 0, "%s: invalid descriptor", what);

    /* Source with garbage in the stride slack (a kernel must not read it). */
    nl_tensor src = { NULL, sp->h, sp->w, cin, (ptrdiff_t)sp->w * cin + sp->src_slack, sp->in };
    size_t src_n = (size_t)src.h * (size_t)src.stride;
    src.data = malloc(src_n * esize(sp->in) + 1);
    ck_assert_ptr_nonnull(src.data);
    for (int y = 0; y < src.h; y++)
        for (ptrdiff_t i = 0; i < src.stride; i++) {
            size_t at = (size_t)y * (size_t)src.stride + (size_t)i;
            int32_t v;
            if (i >= (ptrdiff_t)sp->w * cin)
                v = rng_range(r, ilo, ihi); /* slack */
            else if (sp->in_fill == FILL_MAX)
                v = ihi;
            else if (sp->in_fill == FILL_MIN)
                v = ilo;
            else if (sp->in_fill == FILL_ALT)
                v = (i % 2) ? ihi : ilo;
            else
                v = rng_range(r, ilo, ihi);
            put(src.data, sp->in, at, v);
        }
    const int ho = nl_conv_out_size(sp->h, sp->stride), wo = nl_conv_out_size(sp->w, sp->stride);
    nl_tensor dref = { NULL, ho, wo, cout, (ptrdiff_t)wo * cout + sp->dst_slack, sp->out };
    size_t dst_bytes = (size_t)ho * (size_t)dref.stride * esize(sp->out);
    dref.data = malloc(dst_bytes);
    nl_tensor dopt = dref;
    dopt.data = malloc(dst_bytes);
    ck_assert(dref.data && dopt.data);
    memset(dref.data, CANARY, dst_bytes);
    memset(dopt.data, CANARY, dst_bytes);
    int y0 = sp->y0, y1 = sp->y1 < 0 ? ho : sp->y1;
    if (y1 > ho)
        y1 = ho;
    if (y0 > y1)
        y0 = y1;

    nl_conv_plan *plan = NULL;
    ck_assert_int_eq(nl_conv_plan_new(&plan, dsp, &d), 0);
    nl_stats st = { 0 }, st_ref = { 0 };
    nl_conv_plan_run(plan, &src, &dopt, y0, y1, &st);
    nl_conv_ref(&d, &src, &dref, y0, y1, &st_ref);
    ck_assert_msg(st.macs == st_ref.macs, "%s (%s): MAC count %" PRIu64 " != %" PRIu64, what,
                  plan->kern.name, st.macs, st_ref.macs);
    if (memcmp(dref.data, dopt.data, dst_bytes)) {
        for (int y = 0; y < ho; y++)
            for (ptrdiff_t i = 0; i < dref.stride; i++) {
                size_t at = (size_t)y * (size_t)dref.stride + (size_t)i;
                if (memcmp((char *)dref.data + at * esize(sp->out),
                           (char *)dopt.data + at * esize(sp->out), esize(sp->out)))
                    ck_abort_msg("%s: kernel %s differs from ref: %dx%d in, k%d s%d %d->%d "
                                 "%s->%s, rows [%d,%d), first at y %d x %d c %d%s: ref %" PRId32
                                 " got %" PRId32 " (mult %" PRId32 " shift %d)",
                                 what, plan->kern.name, sp->w, sp->h, k, sp->stride, cin, cout,
                                 type_name(sp->in), type_name(sp->out), y0, y1, y,
                                 (int)(i / cout), (int)(i % cout),
                                 i >= (ptrdiff_t)wo * cout ? " (row slack)" : "",
                                 get(dref.data, sp->out, at), get(dopt.data, sp->out, at),
                                 i < (ptrdiff_t)wo * cout ? mult[i % cout] : 0,
                                 i < (ptrdiff_t)wo * cout ? shift[i % cout] : 0);
            }
    }
    res.ran = 1;
    res.kernel = plan->kern.name;
    variant_seen(plan->kern.name);
    nl_conv_plan_free(&plan);
    free(src.data);
    free(dref.data);
    free(dopt.data);
    free(w);
    free(bias);
    free(mult);
    free(shift);
    return res;
}

/* ------------------------------------------------------------- levels */

typedef struct level {
    const char *name;
    unsigned flags;              /* what nl_dsp_init is given */
    const char *needs;
} level;

static const level levels[] = {
    { "avx2", NL_CPU_FLAG_AVX2, "AVX2 + FMA" },
    { "avx512", NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512, "AVX-512 F/BW/VL/VNNI" },
    { "neon", NL_CPU_FLAG_NEON, "aarch64 NEON" },
    { "neondot", NL_CPU_FLAG_NEON | NL_CPU_FLAG_NEON_DOTPROD, "ARMv8.2 dot product (asimddp)" },
};

static int level_runs(const level *lv)
{
    return (nl_cpu_flags() & lv->flags) == lv->flags;
}

static int is_ref(const nl_conv_kernel *kern)
{
    return !strcmp(kern->name, "nl_conv_ref");
}

/* Entry (k, s, in, out) of the table, name for messages. */
static void entry_name(char *buf, size_t n, const level *lv, const nl_conv_kernel *kern, int k,
                       int s, nl_type in, nl_type out)
{
    snprintf(buf, n, "%s %s [k%d s%d %s->%s]", lv->name, kern->name, k, s, type_name(in),
             type_name(out));
}

/* Random cases of one entry: sizes, channels, strides, ranges. */
static int run_random(const nl_dsp *dsp, const char *what, int k, int s, nl_type in, nl_type out,
                      rng *r, int n_cases)
{
    static const int sizes[][2] = { { 1, 1 }, { 1, 7 }, { 7, 1 }, { 5, 3 }, { 3, 5 },
                                    { 33, 17 }, { 2, 2 }, { 4, 9 }, { 6, 26 }, { 17, 33 } };
    static const int cins[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 31, 32, 33, 48, 64, 96 };
    static const int couts[] = { 1, 3, 6, 7, 8, 9, 15, 16, 17, 24, 32, 33, 40, 48, 63, 64,
                                 65, 80, 96, 112, 129 };
    int ran = 0;
    for (int t = 0; t < n_cases; t++) {
        spec sp;
        memset(&sp, 0, sizeof(sp));
        sp.k = k;
        sp.stride = s;
        sp.in = in;
        sp.out = out;
        const int *hw = sizes[t % NELEM(sizes)];
        sp.h = hw[0];
        sp.w = hw[1];
        sp.cin = cins[rng_next(r) % NELEM(cins)];
        sp.cout = couts[(t * 5 + (int)(rng_next(r) % 3)) % NELEM(couts)];
        /* Keep the reference's work small on the large sizes. */
        while ((long)sp.h * sp.w * sp.cin * sp.cout * k * k > 3000000 && sp.cin > 1)
            sp.cin /= 2;
        sp.src_slack = (t % 3 == 0) ? 0 : (int)(rng_next(r) % 13);
        sp.dst_slack = (t % 4 == 0) ? 0 : (int)(rng_next(r) % 11);
        int ho = nl_conv_out_size(sp.h, s);
        if (t % 3 == 2) {
            sp.y0 = (int)(rng_next(r) % (unsigned)ho);
            sp.y1 = sp.y0 + (int)(rng_next(r) % (unsigned)(ho - sp.y0 + 1));
        } else {
            sp.y1 = -1;
        }
        sp.in_fill = FILL_RANDOM;
        sp.w_fill = FILL_RANDOM;
        sp.rq = (t % 4 == 3) ? RQ_EXTREME : RQ_RANDOM;
        sp.narrow = t % 5 == 4;
        ran += check_case(dsp, &sp, r, what).ran;
    }
    return ran;
}

/* Worst cases of one entry (see the top of the file). */
static int run_worst(const nl_dsp *dsp, const char *what, int k, int s, nl_type in, nl_type out,
                     rng *r)
{
    /* Channel counts: near the accumulator bound for s16 (9 * 227 and
     * 2047 taps: |acc| ~ 0.99 * 2^30), as large as the kernels stage at
     * once for u8 / s8. */
    int big_cin = in == NL_S16 ? (k == 3 ? 227 : 2047) : (k == 3 ? 600 : 4000);
    static const enum fill in_fills[] = { FILL_MAX, FILL_MIN, FILL_ALT, FILL_MAX, FILL_MIN };
    static const enum fill w_fills[] = { FILL_MAX, FILL_MAX, FILL_ALT, FILL_MIN, FILL_MIN };
    int ran = 0;
    for (int t = 0; t < NELEM(in_fills); t++)
        for (int big = 0; big < 2; big++) {
            spec sp;
            memset(&sp, 0, sizeof(sp));
            sp.k = k;
            sp.stride = s;
            sp.in = in;
            sp.out = out;
            sp.cin = big ? big_cin : 13;
            sp.cout = big ? 17 : 35;
            sp.h = big ? 2 : 5;
            sp.w = big ? 3 : 7;
            sp.src_slack = 3;
            sp.dst_slack = 5;
            sp.y1 = -1;
            sp.in_fill = in_fills[t];
            sp.w_fill = w_fills[t];
            sp.rq = RQ_EXTREME;
            sp.narrow = t == 2;
            ran += check_case(dsp, &sp, r, what).ran;
        }
    return ran;
}

/* Few output channels (1..8) with a staged pixel of whole dwords (cin * 1
 * or 2 bytes a multiple of 4, up to 32 bytes): the shapes the narrow
 * AVX-512 form takes at stride 1; every width class of its 16-pixel
 * vectors, and rows longer than one x-chunk. */
static int run_narrow(const nl_dsp *dsp, const char *what, int k, int s, nl_type in, nl_type out,
                      rng *r)
{
    static const int cins_b[] = { 4, 16, 32, 8 }, cins_w[] = { 2, 6, 16, 4 };
    static const int widths[] = { 1, 15, 16, 17, 31, 47, 49, 64, 97 };
    int ran = 0;
    for (int cout = 1; cout <= 8; cout++) {
        spec sp;
        memset(&sp, 0, sizeof(sp));
        sp.k = k;
        sp.stride = s;
        sp.in = in;
        sp.out = out;
        sp.cout = cout;
        sp.cin = (in == NL_S16 ? cins_w : cins_b)[cout % 4];
        sp.w = widths[(cout * 3 + (int)(rng_next(r) % 3)) % NELEM(widths)];
        sp.h = 1 + cout % 4;
        sp.src_slack = cout % 3 ? (int)(rng_next(r) % 9) : 0;
        sp.dst_slack = cout % 2 ? (int)(rng_next(r) % 7) : 0;
        sp.y1 = -1;
        if (cout == 7) {
            sp.y0 = 1;
            sp.y1 = 3;
        }
        sp.in_fill = cout == 2 ? FILL_MAX : cout == 5 ? FILL_MIN : FILL_RANDOM;
        sp.w_fill = cout == 2 ? FILL_MAX : cout == 5 ? FILL_ALT : FILL_RANDOM;
        sp.rq = cout % 3 == 0 ? RQ_EXTREME : RQ_RANDOM;
        sp.narrow = cout == 4;
        ran += check_case(dsp, &sp, r, what).ran;
    }
    /* Long rows: x-chunks (the widest pixel, 32 bytes, has the shortest). */
    spec sp;
    memset(&sp, 0, sizeof(sp));
    sp.k = k;
    sp.stride = s;
    sp.in = in;
    sp.out = out;
    sp.cout = 6;
    sp.cin = in == NL_S16 ? 16 : 32;
    sp.h = 2;
    sp.w = 1300;
    sp.src_slack = 5;
    sp.y1 = -1;
    ran += check_case(dsp, &sp, r, what).ran;
    return ran;
}

/* Long rows (several x-chunks of staging) and a shape kernels refuse. */
static int run_chunks(const nl_dsp *dsp, const char *what, int k, int s, nl_type in, nl_type out,
                      rng *r)
{
    spec sp;
    memset(&sp, 0, sizeof(sp));
    sp.k = k;
    sp.stride = s;
    sp.in = in;
    sp.out = out;
    sp.cin = in == NL_S16 ? 200 : 300;
    sp.cout = 17;
    sp.h = 3;
    sp.w = k == 3 ? 150 : 301;
    sp.src_slack = 1;
    sp.y1 = -1;
    sp.rq = RQ_RANDOM;
    int ran = check_case(dsp, &sp, r, what).ran;
    /* 1x1 with 30000 u8 channels: too long to stage, runs the reference. */
    if (k == 1 && in != NL_S16) {
        sp.cin = 30000;
        sp.cout = 3;
        sp.h = 1;
        sp.w = 2;
        outcome oc = check_case(dsp, &sp, r, what);
        ck_assert_msg(!strcmp(oc.kernel, "nl_conv_ref"), "%s: cin 30000 ran %s", what, oc.kernel);
        ran += oc.ran;
    }
    return ran;
}

static void check_level(const level *lv, int *n_kernels, int *n_cases)
{
    nl_dsp dsp;
    nl_dsp_init(&dsp, lv->flags);
    ck_assert_uint_eq(dsp.flags, lv->flags);
    rng r = { 0x5EED0000u + lv->flags };
    for (int k = 1; k <= 3; k += 2)
        for (int s = 1; s <= 2; s++)
            for (int in = NL_U8; in <= NL_S16; in++)
                for (int out = NL_U8; out < NL_NTYPES; out++) {
                    const nl_conv_kernel *kern =
                        &dsp.conv[k == 3 ? NL_DSP_K3 : NL_DSP_K1][s - 1][in][out];
                    if (is_ref(kern))
                        continue;
                    char what[160];
                    entry_name(what, sizeof(what), lv, kern, k, s, (nl_type)in, (nl_type)out);
                    n_variants = 0;
                    int n = run_random(&dsp, what, k, s, (nl_type)in, (nl_type)out, &r, 24);
                    n += run_worst(&dsp, what, k, s, (nl_type)in, (nl_type)out, &r);
                    n += run_chunks(&dsp, what, k, s, (nl_type)in, (nl_type)out, &r);
                    n += run_narrow(&dsp, what, k, s, (nl_type)in, (nl_type)out, &r);
                    printf("checkasm: ok  %-56s %3d cases; ran:", what, n);
                    for (int v = 0; v < n_variants; v++)
                        printf(" %s", variants[v]);
                    printf("\n");
                    fflush(stdout);
                    (*n_kernels)++;
                    *n_cases += n;
                }
}

START_TEST(kernels_bit_exact)
{
    const level *lv = &levels[_i];
    if (!level_runs(lv)) {
        printf("checkasm: NOT RUN on this CPU: level %s (needs %s); its kernels are untested "
               "here\n", lv->name, lv->needs);
        return;
    }
    int n_kernels = 0, n_cases = 0;
    check_level(lv, &n_kernels, &n_cases);
    ck_assert_msg(n_kernels > 0, "level %s runs on this CPU but has no kernel", lv->name);
    printf("checkasm: level %s: %d table entries, %d cases, all bit-exact\n", lv->name,
           n_kernels, n_cases);
}
END_TEST

/* ------------------------------------------------ element-wise ops
 * requant, add and clamp entries that are not the reference, against it
 * byte for byte on whole buffers (canaries in the row slack): every type
 * pair, odd channel counts (vector blocks and tails), odd sizes and row
 * strides, row ranges, in-place runs, extreme inputs (type bounds, s32
 * INT32_MIN / INT32_MAX) and extreme constants (mult 0 / 1 / 2^31 - 1,
 * shift 0 .. 62, bias +-(2^30 - 1), NULL bias), natural and narrow
 * clamp ranges. */

typedef struct etensor {
    nl_tensor t;
    size_t bytes;
} etensor;

/* h x w x c of type ty with `slack` extra elements per row; samples from
 * [lo, hi] (fill: FILL_RANDOM, FILL_MAX = hi, FILL_MIN = lo, FILL_ALT),
 * canaries in the slack. */
static void etensor_new(etensor *e, rng *r, int h, int w, int c, int slack, nl_type ty,
                        int32_t lo, int32_t hi, enum fill fill)
{
    e->t = (nl_tensor){ NULL, h, w, c, (ptrdiff_t)w * c + slack, ty };
    e->bytes = (size_t)h * (size_t)e->t.stride * esize(ty);
    e->t.data = malloc(e->bytes);
    ck_assert_ptr_nonnull(e->t.data);
    memset(e->t.data, CANARY, e->bytes);
    for (int y = 0; y < h; y++)
        for (ptrdiff_t i = 0; i < (ptrdiff_t)w * c; i++) {
            int32_t v = fill == FILL_MAX ? hi : fill == FILL_MIN ? lo
                      : fill == FILL_ALT ? ((i % 2) ? hi : lo) : rng_range(r, lo, hi);
            put(e->t.data, ty, (size_t)y * (size_t)e->t.stride + (size_t)i, v);
        }
}

static void etensor_copy(etensor *dst, const etensor *src)
{
    *dst = *src;
    dst->t.data = malloc(src->bytes);
    ck_assert_ptr_nonnull(dst->t.data);
    memcpy(dst->t.data, src->t.data, src->bytes);
}

static void expect_same(const etensor *ref, const etensor *got, const char *what, int n)
{
    if (!memcmp(ref->t.data, got->t.data, ref->bytes))
        return;
    size_t es = esize(ref->t.type);
    for (size_t at = 0; at < ref->bytes / es; at++)
        if (memcmp((char *)ref->t.data + at * es, (char *)got->t.data + at * es, es))
            ck_abort_msg("%s case %d: differs from ref at row %d element %d: ref %" PRId32
                         " got %" PRId32, what, n, (int)(at / (size_t)ref->t.stride),
                         (int)(at % (size_t)ref->t.stride), get(ref->t.data, ref->t.type, at),
                         get(got->t.data, got->t.type, at));
}

static const int elem_cs[] = { 1, 2, 3, 4, 5, 7, 8, 12, 13, 16, 17, 33, 48, 96 };
static const int elem_hw[][2] = { { 1, 1 }, { 3, 5 }, { 7, 2 }, { 2, 17 }, { 9, 9 }, { 1, 31 } };

static int check_requant_entry(const nl_dsp *dsp, const char *lvname, rng *r)
{
    int n = 0;
    char what[160];
    for (int ti = NL_U8; ti < NL_NTYPES; ti++)
        for (int to = NL_U8; to < NL_NTYPES; to++)
            for (int t = 0; t < 14; t++, n++) {
                const int c = elem_cs[(t + ti * 3 + to) % NELEM(elem_cs)];
                const int *hw = elem_hw[t % NELEM(elem_hw)];
                const int inplace = ti == to && t % 5 == 1;
                int32_t ilo, ihi, olo, ohi;
                nl_type_range((nl_type)ti, &ilo, &ihi);
                nl_type_range((nl_type)to, &olo, &ohi);
                int32_t *bias = malloc((size_t)c * sizeof(int32_t));
                int32_t *mult = malloc((size_t)c * sizeof(int32_t));
                uint8_t *shift = malloc((size_t)c);
                ck_assert(bias && mult && shift);
                const int extreme = t % 3 == 2;
                for (int ch = 0; ch < c; ch++) {
                    static const int32_t b[] = { NL_BIAS_MAX, -NL_BIAS_MAX, 0, 1, -1 };
                    bias[ch] = extreme ? b[ch % NELEM(b)] : rng_range(r, -1000, 1000);
                    mult[ch] = extreme ? mult_extremes[(ch + t) % NELEM(mult_extremes)]
                                       : rng_range(r, 1, INT32_MAX);
                    shift[ch] = extreme ? shift_extremes[(ch * 7 + t) % NELEM(shift_extremes)]
                                        : (uint8_t)rng_range(r, 20, 45);
                }
                nl_requant rq = { t % 4 == 3 ? NULL : bias, mult, shift, olo, ohi };
                if (t % 4 == 1) {
                    rq.lo = rng_range(r, olo, ohi);
                    rq.hi = rng_range(r, rq.lo, ohi);
                }
                ck_assert_int_eq(nl_requant_check(&rq, c, (nl_type)to), 0);
                static const enum fill fills[] = { FILL_RANDOM, FILL_MAX, FILL_MIN, FILL_ALT };
                etensor src, dref, dopt;
                etensor_new(&src, r, hw[0], hw[1], c, (t % 3) * 3, (nl_type)ti, ilo, ihi,
                            fills[t % NELEM(fills)]);
                int y0 = t % 4 == 2 ? hw[0] / 3 : 0, y1 = t % 4 == 2 ? hw[0] - hw[0] / 4 : hw[0];
                if (inplace) {
                    etensor_copy(&dref, &src);
                    etensor_copy(&dopt, &src);
                    nl_requant_ref(&rq, &dref.t, &dref.t, y0, y1);
                    dsp->requant(&rq, &dopt.t, &dopt.t, y0, y1);
                } else {
                    etensor_new(&dref, r, hw[0], hw[1], c, (t % 4) * 2, (nl_type)to, 0, 0,
                                FILL_MAX);
                    etensor_copy(&dopt, &dref);
                    nl_requant_ref(&rq, &src.t, &dref.t, y0, y1);
                    dsp->requant(&rq, &src.t, &dopt.t, y0, y1);
                }
                snprintf(what, sizeof(what), "%s %s [%s->%s c%d%s]", lvname, dsp->requant_name,
                         type_name((nl_type)ti), type_name((nl_type)to), c,
                         inplace ? " in place" : "");
                expect_same(&dref, &dopt, what, t);
                free(src.t.data);
                free(dref.t.data);
                free(dopt.t.data);
                free(bias);
                free(mult);
                free(shift);
            }
    return n;
}

static int check_add_entry(const nl_dsp *dsp, const char *lvname, rng *r)
{
    int n = 0;
    char what[160];
    for (int ta = NL_U8; ta <= NL_S16; ta++)
        for (int tb = NL_U8; tb <= NL_S16; tb++)
            for (int to = NL_U8; to < NL_NTYPES; to++)
                for (int t = 0; t < 8; t++, n++) {
                    const int c = elem_cs[(t * 5 + ta + tb * 2 + to) % NELEM(elem_cs)];
                    const int *hw = elem_hw[(t + to) % NELEM(elem_hw)];
                    int32_t alo, ahi, blo, bhi, olo, ohi;
                    nl_type_range((nl_type)ta, &alo, &ahi);
                    nl_type_range((nl_type)tb, &blo, &bhi);
                    nl_type_range((nl_type)to, &olo, &ohi);
                    if (ta == NL_S16) { /* the full int16 range: |a| <= 2^15 */
                        alo = INT16_MIN;
                        ahi = INT16_MAX;
                    }
                    int32_t *ma = malloc((size_t)c * sizeof(int32_t));
                    int32_t *mb = malloc((size_t)c * sizeof(int32_t));
                    uint8_t *shift = malloc((size_t)c);
                    ck_assert(ma && mb && shift);
                    const int extreme = t % 3 == 2;
                    for (int ch = 0; ch < c; ch++) {
                        ma[ch] = extreme ? mult_extremes[(ch + t) % NELEM(mult_extremes)]
                                         : rng_range(r, 0, 1 << 24);
                        mb[ch] = extreme ? mult_extremes[(ch * 3 + 1) % NELEM(mult_extremes)]
                                         : rng_range(r, 0, 1 << 24);
                        shift[ch] = extreme ? shift_extremes[(ch + t) % NELEM(shift_extremes)]
                                            : (uint8_t)rng_range(r, 16, 30);
                    }
                    nl_add_desc d = { ma, mb, shift, olo, ohi };
                    if (t % 4 == 1) {
                        d.lo = rng_range(r, olo, ohi);
                        d.hi = rng_range(r, d.lo, ohi);
                    }
                    ck_assert_int_eq(nl_add_check(&d, c, (nl_type)to), 0);
                    static const enum fill fills[] = { FILL_RANDOM, FILL_MAX, FILL_MIN,
                                                       FILL_ALT };
                    etensor a, b, dref, dopt;
                    etensor_new(&a, r, hw[0], hw[1], c, t % 3, (nl_type)ta, alo, ahi,
                                fills[t % NELEM(fills)]);
                    etensor_new(&b, r, hw[0], hw[1], c, (t % 2) * 5, (nl_type)tb, blo, bhi,
                                fills[(t / 2) % NELEM(fills)]);
                    etensor_new(&dref, r, hw[0], hw[1], c, t % 4, (nl_type)to, 0, 0, FILL_MAX);
                    etensor_copy(&dopt, &dref);
                    int y0 = t % 4 == 3 ? hw[0] / 2 : 0;
                    nl_add_ref(&d, &a.t, &b.t, &dref.t, y0, hw[0]);
                    dsp->add(&d, &a.t, &b.t, &dopt.t, y0, hw[0]);
                    snprintf(what, sizeof(what), "%s %s [%s+%s->%s c%d]", lvname, dsp->add_name,
                             type_name((nl_type)ta), type_name((nl_type)tb),
                             type_name((nl_type)to), c);
                    expect_same(&dref, &dopt, what, t);
                    free(a.t.data);
                    free(b.t.data);
                    free(dref.t.data);
                    free(dopt.t.data);
                    free(ma);
                    free(mb);
                    free(shift);
                }
    return n;
}

static int check_clamp_entry(const nl_dsp *dsp, const char *lvname, rng *r)
{
    int n = 0;
    char what[160];
    for (int ty = NL_U8; ty < NL_NTYPES; ty++)
        for (int t = 0; t < 12; t++, n++) {
            const int c = elem_cs[(t * 3 + ty) % NELEM(elem_cs)];
            const int *hw = elem_hw[t % NELEM(elem_hw)];
            int32_t lo, hi;
            nl_type_range((nl_type)ty, &lo, &hi);
            etensor src, topt;
            etensor_new(&src, r, hw[0], hw[1], c, t % 5, (nl_type)ty, lo, hi,
                        t % 4 == 3 ? FILL_ALT : FILL_RANDOM);
            if (t % 3) {
                lo = t % 3 == 1 ? 0 : rng_range(r, lo, hi);
                hi = rng_range(r, lo, hi);
            }
            etensor_copy(&topt, &src);
            int y0 = t % 4 == 2 ? hw[0] / 2 : 0;
            nl_clamp_ref(&src.t, lo, hi, y0, hw[0]);
            dsp->clamp(&topt.t, lo, hi, y0, hw[0]);
            snprintf(what, sizeof(what), "%s %s [%s c%d, %" PRId32 "..%" PRId32 "]", lvname,
                     dsp->clamp_name, type_name((nl_type)ty), c, lo, hi);
            expect_same(&src, &topt, what, t);
            free(src.t.data);
            free(topt.t.data);
        }
    return n;
}

START_TEST(elem_bit_exact)
{
    const level *lv = &levels[_i];
    if (!level_runs(lv)) {
        printf("checkasm: NOT RUN on this CPU: level %s element-wise ops (needs %s)\n",
               lv->name, lv->needs);
        return;
    }
    nl_dsp dsp;
    nl_dsp_init(&dsp, lv->flags);
    rng r = { 0xE1E70000u + lv->flags };
    int n_entries = 0;
    if (strcmp(dsp.requant_name, "nl_requant_ref")) {
        int n = check_requant_entry(&dsp, lv->name, &r);
        printf("checkasm: ok  %s %-40s %4d cases\n", lv->name, dsp.requant_name, n);
        n_entries++;
    }
    if (strcmp(dsp.add_name, "nl_add_ref")) {
        int n = check_add_entry(&dsp, lv->name, &r);
        printf("checkasm: ok  %s %-40s %4d cases\n", lv->name, dsp.add_name, n);
        n_entries++;
    }
    if (strcmp(dsp.clamp_name, "nl_clamp_ref")) {
        int n = check_clamp_entry(&dsp, lv->name, &r);
        printf("checkasm: ok  %s %-40s %4d cases\n", lv->name, dsp.clamp_name, n);
        n_entries++;
    }
    printf("checkasm: level %s: %d element-wise entries besides the reference, all bit-exact\n",
           lv->name, n_entries);
}
END_TEST

/* ------------------------------------------------------- dispatch */

#if defined(__x86_64__) || defined(__i386__)
/* The flags of /proc/cpuinfo, as our two levels; -1 if unreadable. */
static int proc_cpuinfo_flags(unsigned *flags)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    char line[8192];
    int found = -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "flags", 5))
            continue;
        const char *want_avx2[] = { " avx2", " fma" };
        const char *want_512[] = { " avx512f", " avx512bw", " avx512vl", " avx512_vnni" };
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[len - 1] = ' ';
        else
            strcat(line, " ");
        unsigned fl = 0;
        int ok2 = 1, ok512 = 1;
        char needle[32];
        for (int i = 0; i < 2; i++) {
            snprintf(needle, sizeof(needle), "%s ", want_avx2[i]);
            ok2 = ok2 && strstr(line, needle);
        }
        for (int i = 0; i < 4; i++) {
            snprintf(needle, sizeof(needle), "%s ", want_512[i]);
            ok512 = ok512 && strstr(line, needle);
        }
        if (ok2)
            fl |= NL_CPU_FLAG_AVX2;
        if (ok2 && ok512)
            fl |= NL_CPU_FLAG_AVX512;
        *flags = fl;
        found = 0;
        break;
    }
    fclose(f);
    return found;
}
#elif defined(__aarch64__)
/* The Features line of /proc/cpuinfo, as our two levels; -1 if there is
 * none (unreadable, or the host's file under qemu-user). */
static int proc_cpuinfo_flags(unsigned *flags)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    char line[8192];
    int found = -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Features", 8))
            continue;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[len - 1] = ' ';
        else
            strcat(line, " ");
        *flags = NL_CPU_FLAG_NEON | (strstr(line, " asimddp ") ? NL_CPU_FLAG_NEON_DOTPROD : 0);
        found = 0;
        break;
    }
    fclose(f);
    return found;
}
#endif

START_TEST(cpu_flags_detection)
{
    unsigned got = nl_cpu_flags(), proc;
#if defined(__x86_64__) || defined(__i386__)
    if (proc_cpuinfo_flags(&proc) == 0) {
        ck_assert_msg(got == proc, "nl_cpu_flags %#x, /proc/cpuinfo says %#x", got, proc);
        printf("checkasm: cpu flags %#x (avx2 %s, avx512-vnni %s), as /proc/cpuinfo\n", got,
               got & NL_CPU_FLAG_AVX2 ? "yes" : "no", got & NL_CPU_FLAG_AVX512 ? "yes" : "no");
    } else {
        printf("checkasm: /proc/cpuinfo unreadable; cpu flags %#x not cross-checked\n", got);
    }
#elif defined(__aarch64__)
    ck_assert(got & NL_CPU_FLAG_NEON);
    if (proc_cpuinfo_flags(&proc) == 0) {
        ck_assert_msg(got == proc, "nl_cpu_flags %#x, /proc/cpuinfo says %#x", got, proc);
        printf("checkasm: cpu flags %#x (neon yes, dotprod %s), as /proc/cpuinfo\n", got,
               got & NL_CPU_FLAG_NEON_DOTPROD ? "yes" : "no");
    } else {
        printf("checkasm: no aarch64 Features in /proc/cpuinfo (emulator?); cpu flags %#x "
               "(dotprod %s) not cross-checked\n",
               got, got & NL_CPU_FLAG_NEON_DOTPROD ? "yes" : "no");
    }
#else
    (void)proc;
    ck_assert_uint_eq(got, 0);
#endif
    /* The AVX-512 level implies AVX2, the dot product NEON. */
    ck_assert(!(got & NL_CPU_FLAG_AVX512) || (got & NL_CPU_FLAG_AVX2));
    ck_assert(!(got & NL_CPU_FLAG_NEON_DOTPROD) || (got & NL_CPU_FLAG_NEON));
}
END_TEST

START_TEST(dsp_init_levels)
{
    nl_dsp d;
    unsigned cpu = nl_cpu_flags();
    ck_assert_int_eq(nl_dsp_init_cpu(&d, NEUVC_CPU_REF), 0);
    ck_assert_str_eq(nl_dsp_level_name(&d), "ref");
    for (int k = 0; k < 2; k++)
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < NL_DSP_NIN; i++)
                for (int o = 0; o < NL_NTYPES; o++)
                    ck_assert(is_ref(&d.conv[k][s][i][o]));
    ck_assert_int_eq(nl_dsp_init_cpu(&d, NEUVC_CPU_AUTO), 0);
    ck_assert_uint_eq(d.flags, cpu);
    int r2 = nl_dsp_init_cpu(&d, NEUVC_CPU_AVX2);
    if (cpu & NL_CPU_FLAG_AVX2) {
        ck_assert_int_eq(r2, 0);
        ck_assert_str_eq(nl_dsp_level_name(&d), "avx2");
        ck_assert_str_eq(d.conv[NL_DSP_K3][NL_DSP_S1][NL_U8][NL_U8].name, "nl_conv3x3_u8s8_avx2");
    } else {
        ck_assert_int_eq(r2, NEUVC_ERR(ENOTSUP));
        ck_assert_str_eq(nl_dsp_level_name(&d), "ref");
    }
    int r512 = nl_dsp_init_cpu(&d, NEUVC_CPU_AVX512);
    if (cpu & NL_CPU_FLAG_AVX512) {
        ck_assert_int_eq(r512, 0);
        ck_assert_str_eq(nl_dsp_level_name(&d), "avx512");
        ck_assert_str_eq(d.conv[NL_DSP_K3][NL_DSP_S1][NL_U8][NL_U8].name,
                         "nl_conv3x3_u8s8_avx512vnni");
    } else {
        ck_assert_int_eq(r512, NEUVC_ERR(ENOTSUP));
    }
    int rn = nl_dsp_init_cpu(&d, NEUVC_CPU_NEON);
    if (cpu & NL_CPU_FLAG_NEON_DOTPROD) {
        ck_assert_int_eq(rn, 0);
        ck_assert_str_eq(nl_dsp_level_name(&d), "neondot");
        ck_assert_str_eq(d.conv[NL_DSP_K3][NL_DSP_S1][NL_U8][NL_U8].name,
                         "nl_conv3x3_u8s8_neondot");
        nl_dsp_init(&d, NL_CPU_FLAG_NEON);
        ck_assert_str_eq(nl_dsp_level_name(&d), "neon");
    } else if (cpu & NL_CPU_FLAG_NEON) {
        ck_assert_int_eq(rn, 0);
        ck_assert_str_eq(nl_dsp_level_name(&d), "neon");
        ck_assert_str_eq(d.conv[NL_DSP_K3][NL_DSP_S1][NL_U8][NL_U8].name, "nl_conv3x3_u8s8_neon");
    } else {
        ck_assert_int_eq(rn, NEUVC_ERR(ENOTSUP));
    }
    ck_assert_int_eq(nl_dsp_init_cpu(&d, NEUVC_CPU_OPENCL), NEUVC_ERR(ENOTSUP));
    ck_assert_int_eq(nl_dsp_init_cpu(&d, 99), NEUVC_ERR(EINVAL));
    ck_assert_str_eq(nl_dsp_level_name(&d), "ref");
    /* Flags the CPU lacks are ignored; a level never comes without the
     * one below it. */
    nl_dsp_init(&d, NL_CPU_FLAG_AVX512);
    ck_assert_uint_eq(d.flags, 0);
    nl_dsp_init(&d, NL_CPU_FLAG_NEON_DOTPROD);
    ck_assert_uint_eq(d.flags, 0);
    nl_dsp_init(&d, ~0u);
    ck_assert_uint_eq(d.flags, cpu);
    /* The plan API refuses what nl_conv_check refuses. */
    nl_conv_plan *p = (nl_conv_plan *)&d;
    nl_conv_desc bad;
    memset(&bad, 0, sizeof(bad));
    ck_assert_int_eq(nl_conv_plan_new(&p, NULL, &bad), NEUVC_ERR(EINVAL));
    ck_assert_ptr_null(p);
    ck_assert_int_eq(nl_conv_plan_new(NULL, NULL, &bad), NEUVC_ERR(EINVAL));
    nl_conv_plan_free(&p);
    nl_conv_plan_free(NULL);
}
END_TEST

static const char *self_path;

/* NEUVC_CPU=value ./test_checkasm --print-default-level: what the
 * process-wide table chose. */
static void default_level_with_env(const char *value, char *out, size_t n)
{
    char cmd[4096];
    const char *runner = getenv("NEUVC_TEST_RUNNER");
    snprintf(cmd, sizeof(cmd), "NEUVC_CPU=%s %s '%s' --print-default-level", value,
             runner ? runner : "", self_path);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    out[0] = '\0';
    if (!fgets(out, (int)n, f))
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    ck_assert_int_eq(pclose(f), 0);
}

START_TEST(env_override)
{
    unsigned cpu = nl_cpu_flags();
    const char *best = cpu & NL_CPU_FLAG_AVX512 ? "avx512"
                     : cpu & NL_CPU_FLAG_AVX2 ? "avx2"
                     : cpu & NL_CPU_FLAG_NEON_DOTPROD ? "neondot"
                     : cpu & NL_CPU_FLAG_NEON ? "neon" : "ref";
    char got[64];
    default_level_with_env("ref", got, sizeof(got));
    ck_assert_str_eq(got, "ref");
    default_level_with_env("auto", got, sizeof(got));
    ck_assert_str_eq(got, best);
    default_level_with_env("bogus", got, sizeof(got));
    ck_assert_str_eq(got, best);
    default_level_with_env("avx2", got, sizeof(got));
    ck_assert_str_eq(got, cpu & NL_CPU_FLAG_AVX2 ? "avx2" : best);
    default_level_with_env("avx512", got, sizeof(got));
    ck_assert_str_eq(got, best);
    default_level_with_env("neon", got, sizeof(got));
    ck_assert_str_eq(got, best);
}
END_TEST

/* ------------------------------------------------------------- bench */

typedef struct bench_shape {
    const char *what;
    int k, stride, cin, cout;
    nl_type in, out;
    int w, h;                    /* input size */
} bench_shape;

static const bench_shape bench_shapes[] = {
    { "3x3 u8 48->96 (1/16 of 1080p)", 3, 1, 48, 96, NL_U8, NL_U8, 120, 68 },
    { "1x1 s16 384->192 (1/16)", 1, 1, 384, 192, NL_S16, NL_S16, 120, 68 },
    { "1x1 u8 384->192 (1/16)", 1, 1, 384, 192, NL_U8, NL_S16, 120, 68 },
    { "3x3 s16 192->48 (1/16)", 3, 1, 192, 48, NL_S16, NL_U8, 120, 68 },
    { "3x3 u8 48->192 (1/16)", 3, 1, 48, 192, NL_U8, NL_S16, 120, 68 },
    { "3x3 s16 96->32 (1/8)", 3, 1, 96, 32, NL_S16, NL_U8, 240, 135 },
    { "3x3 u8 32->96 (1/8)", 3, 1, 32, 96, NL_U8, NL_S16, 240, 135 },
    { "1x1 u8 96->96 (1/8)", 1, 1, 96, 96, NL_U8, NL_S16, 240, 135 },
    { "3x3 u8 32->32 480x270 (DESIGN 7)", 3, 1, 32, 32, NL_U8, NL_U8, 480, 270 },
    { "3x3 s16 6->16 (1/2)", 3, 1, 6, 16, NL_S16, NL_U8, 960, 540 },
    { "3x3 u8 6->16 (1/2)", 3, 1, 6, 16, NL_U8, NL_U8, 960, 540 },
    { "3x3 u8 16->6 (1/2)", 3, 1, 16, 6, NL_U8, NL_S16, 960, 540 },
    { "1x1 u8 1024->64 (1/64)", 1, 1, 1024, 64, NL_U8, NL_S16, 30, 17 },
    { "1x1 u8 128->768 (1/64)", 1, 1, 128, 768, NL_U8, NL_U8, 30, 17 },
    { "3x3 s2 u8 32->64 (stride 2)", 3, 2, 32, 64, NL_U8, NL_U8, 480, 270 },
};

static double thread_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best time of one run of the plan (repeated for at least min_s). */
static double time_plan(const nl_conv_plan *p, const nl_tensor *src, nl_tensor *dst,
                        double min_s)
{
    double best = 1e30, spent = 0;
    int runs = 0;
    while (spent < min_s || runs < 2) {
        double t0 = thread_seconds();
        nl_conv_plan_run(p, src, dst, 0, dst->h, NULL);
        double t = thread_seconds() - t0;
        best = t < best ? t : best;
        spent += t;
        runs++;
    }
    return best;
}

static int checkasm_bench(int quick)
{
    printf("checkasm --bench: one thread, best run, thread CPU time (other load on the machine\n"
           "still skews it); GMAC/s counts nominal MACs (border taps included).\n");
    rng r = { 12345 };
    int status = 0;
    for (int si = 0; si < NELEM(bench_shapes); si++) {
        const bench_shape *bs = &bench_shapes[si];
        const size_t nw = (size_t)bs->cout * (size_t)(bs->k * bs->k) * (size_t)bs->cin;
        int8_t *w = malloc(nw);
        int32_t *mult = malloc((size_t)bs->cout * sizeof(int32_t));
        uint8_t *shift = malloc((size_t)bs->cout);
        int32_t lo, hi, ilo, ihi;
        nl_type_range(bs->out, &lo, &hi);
        in_range(bs->in, &ilo, &ihi);
        for (size_t i = 0; i < nw; i++)
            w[i] = (int8_t)rng_range(&r, -127, 127);
        for (int o = 0; o < bs->cout; o++) {
            mult[o] = rng_range(&r, 1 << 20, 1 << 21);
            shift[o] = 36;
        }
        nl_conv_desc d = { bs->k, bs->stride, bs->cin, bs->cout, bs->in, bs->out, w,
                           { NULL, mult, shift, lo, hi } };
        nl_tensor src = { NULL, bs->h, bs->w, bs->cin, (ptrdiff_t)bs->w * bs->cin, bs->in };
        size_t n_in = (size_t)bs->h * (size_t)src.stride;
        src.data = malloc(n_in * esize(bs->in));
        for (size_t i = 0; i < n_in; i++)
            put(src.data, bs->in, i, rng_range(&r, ilo, ihi));
        int ho = nl_conv_out_size(bs->h, bs->stride), wo = nl_conv_out_size(bs->w, bs->stride);
        nl_tensor dst = { NULL, ho, wo, bs->cout, (ptrdiff_t)wo * bs->cout, bs->out };
        size_t dst_bytes = (size_t)ho * (size_t)dst.stride * esize(bs->out);
        dst.data = malloc(dst_bytes);
        void *ref_out = malloc(dst_bytes);
        if (!w || !mult || !shift || !src.data || !dst.data || !ref_out) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        double macs = (double)ho * wo * bs->cout * bs->k * bs->k * bs->cin;
        printf("\n%s: %dx%d in, %.1f MMAC\n", bs->what, bs->w, bs->h, macs * 1e-6);
        nl_dsp ref;
        nl_dsp_init(&ref, 0);
        nl_conv_plan *p = NULL;
        nl_conv_plan_new(&p, &ref, &d);
        double t_ref = time_plan(p, &src, &dst, quick ? 0.0 : 0.3);
        memcpy(ref_out, dst.data, dst_bytes);
        nl_conv_plan_free(&p);
        printf("  %-32s %9.3f ms %7.2f GMAC/s\n", "nl_conv_ref", t_ref * 1e3,
               macs / t_ref * 1e-9);
        for (int li = 0; li < NELEM(levels); li++) {
            const level *lv = &levels[li];
            if (!level_runs(lv)) {
                printf("  %-32s NOT RUN on this CPU (needs %s)\n", lv->name, lv->needs);
                continue;
            }
            nl_dsp dsp;
            nl_dsp_init(&dsp, lv->flags);
            nl_conv_plan_new(&p, &dsp, &d);
            double t = time_plan(p, &src, &dst, quick ? 0.05 : 0.5);
            int same = !memcmp(ref_out, dst.data, dst_bytes);
            printf("  %-32s %9.3f ms %7.2f GMAC/s  x%.1f over ref%s\n", p->kern.name, t * 1e3,
                   macs / t * 1e-9, t_ref / t, same ? "" : "  OUTPUT DIFFERS FROM REF");
            if (!same)
                status = 1;
            nl_conv_plan_free(&p);
        }
        free(w);
        free(mult);
        free(shift);
        free(src.data);
        free(dst.data);
        free(ref_out);
    }
    return status;
}

/* ------------------------------------------------------------- main */

static Suite *checkasm_suite(void)
{
    Suite *s = suite_create("checkasm");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, cpu_flags_detection);
    tcase_add_test(tc, dsp_init_levels);
    tcase_add_test(tc, env_override);
    tcase_add_loop_test(tc, kernels_bit_exact, 0, NELEM(levels));
    tcase_add_loop_test(tc, elem_bit_exact, 0, NELEM(levels));
    suite_add_tcase(s, tc);
    return s;
}

/* Every mode of the checker: the Check suite (no argument), --bench
 * [--quick], and --print-default-level (for env_override). */
static int checkasm_main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc > 1 && !strcmp(argv[1], "--print-default-level")) {
        printf("%s\n", nl_dsp_level_name(nl_dsp_default()));
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--bench"))
        return checkasm_bench(argc > 2 && !strcmp(argv[2], "--quick"));
    if (argc > 1) {
        fprintf(stderr, "usage: %s [--bench [--quick]]\n", argv[0]);
        return 2;
    }
    SRunner *sr = srunner_create(checkasm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* tests/bench_checkasm.c includes this file with CHECKASM_NO_MAIN. */
#ifndef CHECKASM_NO_MAIN
int main(int argc, char **argv)
{
    return checkasm_main(argc, argv);
}
#endif
