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
 *     x {0, 1, 31, 40, 61, 62}, and again with shifts from {32, 33, 40,
 *     61, 62} only (the AMX epilogue's 32-bit form); saturation of every
 *     output type, natural and narrow clamp ranges;
 *   - x-chunking (rows longer than a kernel stages at once) and the
 *     fallback to the reference for shapes a kernel refuses.
 * The motion-compensation kernels (common/mcdsp.h) of every level against
 * the C ones the same way: every phase pair, widths 8 and 16, heights 1 ..
 * 32, random and extreme samples (0 / 255 / checkerboards, the largest
 * filter sums of either sign), odd strides; whole predictions through
 * nv_mc_pred_block_dsp with extreme vectors and edge-clamped reads, odd
 * block sizes; OBMC of whole planes and row bands; the 16x16 SAD; tight
 * sources against an inaccessible page (a read outside the contract
 * faults, under qemu too); the x6 row kernels.
 * A level this CPU lacks is printed as "NOT RUN on this CPU", never as
 * passed.  Also: cpu feature detection against /proc/cpuinfo, the
 * NeuvcCpu mapping, and the NEUVC_CPU environment override (which runs
 * this program again: under an emulator, NEUVC_TEST_RUNNER is the command
 * prefix that runs it, e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu").
 *
 * --bench: speed of every kernel against the reference on the model's
 * shapes (also built as bench_checkasm, run by make bench); --bench-elem:
 * the element ops' and motion compensation's part of it alone.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/mc.h"
#include "common/mcdsp.h"
#include "common/model.h"
#include "common/threadpool.h"
#include "neuvc/neuvc.h"
#include "netlib/dsp.h"
#include "netlib/graph.h"
#include "netlib/netlib.h"
#include "tests/common/testutil.h"
#include "tests/common/tu_netlib.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define CANARY 0xA5

/* ------------------------------------------------------------ helpers */

static size_t esize(nl_type t)
{
    return nl_type_size(t);
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
/* RQ_EXTREME_HI: extreme multipliers with shifts of 32 or more only (the
 * AMX epilogue's 32-bit form, conv_amx.c). */
enum rqmode { RQ_RANDOM, RQ_EXTREME, RQ_EXTREME_HI };

typedef struct spec {
    int k, stride, cin, cout;
    nl_type in, out;
    int h, w;                    /* input size */
    int src_slack, dst_slack;    /* row stride - w * c, elements */
    int y0, y1;                  /* output rows; y1 < 0: all */
    enum fill in_fill, w_fill;   /* FILL_ALT for weights: +-127 by position */
    enum rqmode rq;
    int narrow;                  /* clamp to a random sub-range */
    int ca;                      /* run2 (the input as concat(a, b)): a's channels; 0 random */
} spec;

typedef struct outcome {
    int ran;                     /* 1 if compared */
    const char *kernel;          /* the kernel that ran (after any fallback) */
} outcome;

static const int32_t mult_extremes[] = { 0, 1, INT32_MAX, INT32_MAX, 1 << 30, 3, INT32_MAX, 12345 };
static const uint8_t shift_extremes[] = { 0, 0, 62, 0, 61, 1, 31, 40, 1, 62, 20 };
static const uint8_t shift_extremes_hi[] = { 32, 62, 61, 33, 40, 32, 62 };

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

/* Cases where the plan could take its input as two tensors (run2), all
 * compared. */
static int n_pair_cases;

/* Where plan has run2: src cut into a (the first ca channels; sp->ca, or
 * random) and b (the others), each with its own odd row stride, garbage
 * in the slack, and its buffer cut right after its last element; run2 on
 * them must give want's bytes. */
static void check_pair(const nl_conv_plan *plan, const spec *sp, const nl_tensor *src,
                       const nl_tensor *want, size_t dst_bytes, int y0, int y1, rng *r,
                       const char *what)
{
    if (!plan->run2 || src->c < 2)
        return;
    const int ca = sp->ca > 0 && sp->ca < src->c ? sp->ca
                                                 : 1 + (int)(rng_next(r) % (unsigned)(src->c - 1));
    nl_tensor part[2];
    for (int q = 0; q < 2; q++) {
        nl_tensor *t = &part[q];
        const int c = q ? src->c - ca : ca, off = q ? ca : 0;
        *t = (nl_tensor){ NULL, src->h, src->w, c, (ptrdiff_t)src->w * c + (int)(rng_next(r) % 5),
                          src->type };
        size_t n = (size_t)(src->h - 1) * (size_t)t->stride + (size_t)src->w * (size_t)c;
        t->data = malloc(n * esize(src->type));
        ck_assert_ptr_nonnull(t->data);
        for (int y = 0; y < src->h; y++)
            for (ptrdiff_t i = 0; i < t->stride; i++) {
                size_t at = (size_t)y * (size_t)t->stride + (size_t)i;
                if (at >= n)
                    break;
                int32_t v = i < (ptrdiff_t)src->w * c
                            ? tu_get(src->data, src->type,
                                     (size_t)y * (size_t)src->stride +
                                         (size_t)(i / c) * (size_t)src->c + (size_t)(off + i % c))
                            : (int32_t)(rng_next(r) % 100); /* slack */
                tu_put(t->data, src->type, at, v);
            }
    }
    nl_tensor got = *want;
    got.data = malloc(dst_bytes);
    ck_assert_ptr_nonnull(got.data);
    memset(got.data, CANARY, dst_bytes);
    if (y1 > y0)
        plan->run2(plan, &part[0], &part[1], &got, y0, y1);
    ck_assert_msg(!memcmp(want->data, got.data, dst_bytes),
                  "%s: %s run2 differs from ref: %dx%d in, k%d s%d %d+%d->%d %s->%s, rows [%d,%d)",
                  what, plan->kern.name, sp->w, sp->h, sp->k, sp->stride, ca, src->c - ca,
                  sp->cout, tu_type_name(sp->in), tu_type_name(sp->out), y0, y1);
    n_pair_cases++;
    free(got.data);
    free(part[0].data);
    free(part[1].data);
}

/* Runs spec on the plan's kernel and on the reference; ck_abort on any
 * differing byte, with the place.  Where the plan has run2, also on the
 * input cut in two (check_pair). */
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
        if (sp->rq == RQ_EXTREME || sp->rq == RQ_EXTREME_HI) {
            mult[o] = mult_extremes[(o + (int)(rng_next(r) % 3)) % NELEM(mult_extremes)];
            shift[o] = sp->rq == RQ_EXTREME_HI
                       ? shift_extremes_hi[(o * 5 + (int)(rng_next(r) % 3)) %
                                           NELEM(shift_extremes_hi)]
                       : shift_extremes[(o * 7 + (int)(rng_next(r) % 5)) % NELEM(shift_extremes)];
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
            tu_put(src.data, sp->in, at, v);
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
                                 tu_type_name(sp->in), tu_type_name(sp->out), y0, y1, y,
                                 (int)(i / cout), (int)(i % cout),
                                 i >= (ptrdiff_t)wo * cout ? " (row slack)" : "",
                                 tu_get(dref.data, sp->out, at), tu_get(dopt.data, sp->out, at),
                                 i < (ptrdiff_t)wo * cout ? mult[i % cout] : 0,
                                 i < (ptrdiff_t)wo * cout ? shift[i % cout] : 0);
            }
    }
    check_pair(plan, sp, &src, &dref, dst_bytes, y0, y1, r, what);
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
    { "amx", NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512 | NL_CPU_FLAG_AMX,
      "AMX-TILE + AMX-INT8 and AVX-512 VNNI" },
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
    snprintf(buf, n, "%s %s [k%d s%d %s->%s]", lv->name, kern->name, k, s, tu_type_name(in),
             tu_type_name(out));
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
        for (int v = 0; v < 4; v++) {
            /* v 0, 1: small, big; v 2, 3: the same with shifts >= 32
             * only, the small one with 6 channels (under one block). */
            const int big = v % 2;
            spec sp;
            memset(&sp, 0, sizeof(sp));
            sp.k = k;
            sp.stride = s;
            sp.in = in;
            sp.out = out;
            sp.cin = big ? big_cin : 13;
            sp.cout = big ? 17 : v == 2 ? 6 : 35;
            sp.h = big ? 2 : 5;
            sp.w = big ? 3 : 7;
            sp.src_slack = 3;
            sp.dst_slack = 5;
            sp.y1 = -1;
            sp.in_fill = in_fills[t];
            sp.w_fill = w_fills[t];
            sp.rq = v < 2 ? RQ_EXTREME : RQ_EXTREME_HI;
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
    /* Few channels on long rows: several x-chunks of the AMX windowed rows
     * (3x3, k * cin <= 64) with packed accumulators (cout < 16). */
    sp.cin = 7;
    sp.cout = 6;
    sp.w = 700;
    sp.src_slack = 3;
    ran += check_case(dsp, &sp, r, what).ran;
    sp.src_slack = 1;
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

/* The input as two tensors (run2, a graph's concat fused into its conv)
 * on the model's concats (6 + 6, 96 + 96, 48 + 32) and odd parts, odd
 * widths (borders on both sides, several x-chunks, loads near the rows'
 * ends); on every plan, check_pair runs where the plan has run2. */
static int run_pair(const nl_dsp *dsp, const char *what, int k, int s, nl_type in, nl_type out,
                    rng *r)
{
    static const int parts[][2] = { { 6, 6 }, { 96, 96 }, { 48, 32 }, { 1, 1 }, { 3, 5 },
                                    { 7, 9 }, { 17, 31 }, { 5, 91 }, { 2, 12 }, { 30, 2 },
                                    { 64, 8 }, { 31, 33 } };
    static const int widths[] = { 1, 2, 17, 33, 97, 130, 61, 9, 700, 25, 47, 5 };
    int ran = 0;
    for (int t = 0; t < NELEM(parts); t++) {
        spec sp;
        memset(&sp, 0, sizeof(sp));
        sp.k = k;
        sp.stride = s;
        sp.in = in;
        sp.out = out;
        sp.ca = parts[t][0];
        sp.cin = parts[t][0] + parts[t][1];
        sp.cout = (int[]){ 16, 24, 6, 17, 33 }[t % 5];
        sp.w = widths[t];
        sp.h = 1 + t % 4;
        while ((long)sp.h * sp.w * sp.cin * sp.cout * k * k > 3000000 && sp.w > 16)
            sp.w = sp.w / 2 + 1;
        sp.src_slack = t % 3;
        sp.dst_slack = t % 2;
        sp.y1 = -1;
        if (t % 4 == 3 && sp.h > 2) {
            sp.y0 = 1;
            sp.y1 = sp.h - 1;
        }
        sp.in_fill = t == 4 ? FILL_MAX : t == 5 ? FILL_MIN : FILL_RANDOM;
        sp.w_fill = t == 4 ? FILL_MAX : t == 5 ? FILL_ALT : FILL_RANDOM;
        sp.rq = t % 3 == 2 ? RQ_EXTREME : RQ_RANDOM;
        ran += check_case(dsp, &sp, r, what).ran;
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
                    if (lv->flags & NL_CPU_FLAG_AMX)
                        n += run_pair(&dsp, what, k, s, (nl_type)in, (nl_type)out, &r);
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
    n_pair_cases = 0;
    check_level(lv, &n_kernels, &n_cases);
    ck_assert_msg(n_kernels > 0, "level %s runs on this CPU but has no kernel", lv->name);
    /* AMX plans take their input as two tensors (run2): it must have run. */
    ck_assert_msg(!(lv->flags & NL_CPU_FLAG_AMX) || n_pair_cases > 0,
                  "level %s: no plan took its input as two tensors", lv->name);
    printf("checkasm: level %s: %d table entries, %d cases (%d also as two tensors), all "
           "bit-exact\n", lv->name, n_kernels, n_cases, n_pair_cases);
}
END_TEST

/* ------------------------------------------------ concat fusion
 * The default model's graphs on random inputs, on the AMX table (its
 * convolutions read a concat's two sources, the concat does not run:
 * graph_exec.c) with 1 and 2 threads, against the AVX-512 table (which
 * runs every concat) and the reference: every output byte for byte, at
 * two sizes. */
START_TEST(graph_concat_fusion)
{
    const unsigned amx = NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512 | NL_CPU_FLAG_AMX;
    if ((nl_cpu_flags() & amx) != amx) {
        printf("checkasm: NOT RUN on this CPU: concat fusion (needs AMX); untested here\n");
        return;
    }
    char err[256];
    nv_model *m = NULL;
    ck_assert_msg(nv_model_open(&m, NULL, err, sizeof(err)) == 0, "%s", err);
    nl_dsp d_amx, d_512, d_ref;
    nl_dsp_init(&d_amx, amx);
    nl_dsp_init(&d_512, NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512);
    nl_dsp_init(&d_ref, 0);
    nv_pool *pool = NULL;
    ck_assert_int_eq(nv_pool_new(&pool, 2), 0);
    rng r = { 0xCA7CA7u };
    static const int sizes[][2] = { { 192, 128 }, { 320, 64 } };
    int fused = 0, compared = 0;
    for (int si = 0; si < NELEM(sizes); si++) {
        const int wp = sizes[si][0], hp = sizes[si][1];
        nv_nets n[4];
        const nl_dsp *dsps[4] = { &d_amx, &d_amx, &d_512, &d_ref };
        for (int k = 0; k < 4; k++)
            ck_assert_msg(nv_nets_open(&n[k], m, wp, hp, 1, dsps[k], err, sizeof(err)) == 0, "%s",
                          err);
        nv_nets_set_pool(&n[1], pool);
        /* Graph by graph: inputs from the AMX executor's views. */
        for (int g = 0; g < 9; g++) {
            nl_graph_exec *e[4];
            for (int k = 0; k < 4; k++) {
                nl_graph_exec *const all[9] = { n[k].analysis, n[k].hyper_analysis,
                                                n[k].hyper_synthesis, n[k].synthesis, n[k].pred,
                                                n[k].inter_analysis, n[k].inter_hyper_analysis,
                                                n[k].inter_hyper_synthesis, n[k].inter_synthesis };
                e[k] = all[g];
            }
            if (!e[0])
                continue;
            const nl_graph *const graphs[9] = { m->analysis, m->hyper_analysis,
                                                m->hyper_synthesis, m->synthesis, m->inter.pred,
                                                m->inter.analysis, m->inter.hyper_analysis,
                                                m->inter.hyper_synthesis, m->inter.synthesis };
            const nl_graph *gr = graphs[g];
            for (uint32_t i = 0; i < gr->n_ops; i++)
                if (gr->ops[i].code == NL_OP_CONCAT && si == 0 &&
                    !strncmp(nl_graph_exec_kernel(e[0], i), "(fused", 6))
                    fused++;
            nl_tensor in[NL_GRAPH_MAX_IO];
            for (uint32_t i = 0; i < gr->n_inputs; i++) {
                in[i] = *nl_graph_exec_view(e[0], gr->inputs[i].slot);
                in[i].stride = (ptrdiff_t)in[i].w * in[i].c + 3;
                size_t cnt = (size_t)in[i].h * (size_t)in[i].stride;
                in[i].data = malloc(cnt * esize(in[i].type));
                ck_assert_ptr_nonnull(in[i].data);
                int32_t lo = 0, hi = 255;
                if (in[i].type != NL_U8)
                    in_range(in[i].type, &lo, &hi);
                for (size_t q = 0; q < cnt; q++)
                    tu_put(in[i].data, in[i].type, q, rng_range(&r, lo, hi));
            }
            nl_tensor out[4][NL_GRAPH_MAX_IO];
            for (int k = 0; k < 4; k++)
                ck_assert_msg(nl_graph_run(e[k], in, out[k], NULL) == 0, "%s: %s", gr->name,
                              nl_graph_exec_error(e[k]));
            for (uint32_t o = 0; o < gr->n_outputs; o++)
                for (int k = 1; k < 4; k++) {
                    const nl_tensor *a = &out[0][o], *b = &out[k][o];
                    ck_assert(a->h == b->h && a->w == b->w && a->c == b->c && a->type == b->type);
                    const size_t es = esize(a->type), row = (size_t)a->w * (size_t)a->c * es;
                    for (int y = 0; y < a->h; y++)
                        ck_assert_msg(!memcmp((const char *)a->data + (size_t)y * (size_t)a->stride * es,
                                              (const char *)b->data + (size_t)y * (size_t)b->stride * es,
                                              row),
                                      "%s at %dx%d: output %u row %d: AMX (fused) differs from %s",
                                      gr->name, wp, hp, (unsigned)o, y,
                                      k == 1 ? "AMX on 2 threads" : k == 2 ? "AVX-512" : "ref");
                }
            compared++;
            for (uint32_t i = 0; i < gr->n_inputs; i++)
                free(in[i].data);
        }
        for (int k = 0; k < 4; k++)
            nv_nets_close(&n[k]);
    }
    ck_assert_msg(fused > 0, "no concat of the default model was fused");
    printf("checkasm: concat fusion: %d concats of the default model fused; %d graph runs "
           "byte-identical to AVX-512 and ref\n", fused, compared);
    nv_pool_free(&pool);
    nv_model_close(&m);
}
END_TEST

/* ------------------------------------------------- element-wise ops
 * requant, add, clamp, s2d, d2s, concat of every level against the
 * reference, byte for byte on whole buffers: random and extreme values
 * (every input type at its limits, mult/shift extremes, |bias| at
 * NL_BIAS_MAX, saturation of every output type), odd sizes and channel
 * counts (1 .. 1025: periods that do not divide the vector length, and
 * patterns too long for a kernel, which then runs the reference), odd
 * row strides with garbage in the slack, buffers cut right after the last
 * element (so ASan sees any read past it), row ranges, and in-place use
 * where the contract allows it. */

typedef struct etensor {
    nl_tensor t;
    size_t bytes;                /* allocated: exactly up to the last element */
} etensor;

/* h x w x c of type ty, stride w*c + slack, every byte random, then the
 * elements filled by mode: 0 random in [lo, hi], 1 all hi, 2 all lo. */
static void etensor_new(etensor *e, rng *r, int h, int w, int c, nl_type ty, int slack,
                        int32_t lo, int32_t hi, int mode)
{
    e->t = (nl_tensor){ NULL, h, w, c, (ptrdiff_t)w * c + slack, ty };
    size_t n = (size_t)(h - 1) * (size_t)e->t.stride + (size_t)w * (size_t)c;
    e->bytes = n * esize(ty);
    e->t.data = malloc(e->bytes);
    ck_assert_ptr_nonnull(e->t.data);
    for (size_t i = 0; i < e->bytes; i++)
        ((uint8_t *)e->t.data)[i] = (uint8_t)rng_next(r);
    for (int y = 0; y < h; y++)
        for (size_t i = 0; i < (size_t)w * (size_t)c; i++)
            tu_put(e->t.data, ty, (size_t)y * (size_t)e->t.stride + i,
                mode == 1 ? hi : mode == 2 ? lo : rng_range(r, lo, hi));
}

static void etensor_clone(etensor *d, const etensor *s)
{
    *d = *s;
    d->t.data = malloc(s->bytes);
    ck_assert_ptr_nonnull(d->t.data);
    memcpy(d->t.data, s->t.data, s->bytes);
}

static void etensor_free(etensor *e)
{
    free(e->t.data);
    e->t.data = NULL;
}

static void ecompare(const etensor *want, const etensor *got, const char *what, int n)
{
    for (size_t i = 0; i < want->bytes; i++)
        if (((const uint8_t *)want->t.data)[i] != ((const uint8_t *)got->t.data)[i])
            ck_abort_msg("%s case %d: byte %zu of %zu differs (ref %u, kernel %u)", what, n, i,
                         want->bytes, ((const uint8_t *)want->t.data)[i],
                         ((const uint8_t *)got->t.data)[i]);
}

static const int echan[] = { 1, 2, 3, 5, 6, 7, 8, 9, 12, 16, 17, 31, 48, 96, 100, 192, 384, 1025 };

static void erows(rng *r, int h, int *y0, int *y1)
{
    if (rng_range(r, 0, 2) == 0) {
        *y0 = 0;
        *y1 = h;
    } else {
        *y0 = rng_range(r, 0, h);
        *y1 = rng_range(r, *y0, h);
    }
}

static void rq_fill(rng *r, int c, int32_t *mult, uint8_t *shift, int32_t *bias, int extreme)
{
    for (int i = 0; i < c; i++) {
        if (extreme) {
            mult[i] = mult_extremes[rng_range(r, 0, NELEM(mult_extremes) - 1)];
            shift[i] = shift_extremes[rng_range(r, 0, NELEM(shift_extremes) - 1)];
            bias[i] = rng_range(r, 0, 2) == 0 ? NL_BIAS_MAX : rng_range(r, 0, 1) ? -NL_BIAS_MAX : 0;
        } else {
            mult[i] = rng_range(r, 0, INT32_MAX);
            shift[i] = (uint8_t)rng_range(r, 24, 48);
            bias[i] = rng_range(r, -NL_BIAS_MAX, NL_BIAS_MAX);
        }
    }
}

static void out_clamp(rng *r, nl_type out, int narrow, int32_t *lo, int32_t *hi)
{
    nl_type_range(out, lo, hi);
    if (narrow) {
        int32_t a = rng_range(r, *lo, *hi), b = rng_range(r, *lo, *hi);
        *lo = a < b ? a : b;
        *hi = a < b ? b : a;
    }
}

/* The requantization in place (dst == src) against the reference's. */
static void check_requant_in_place(const nl_dsp *dsp, const nl_requant *rq, const etensor *src,
                                   int y0, int y1, const char *what, int n)
{
    etensor a, b;
    etensor_clone(&a, src);
    etensor_clone(&b, src);
    nl_requant_ref(rq, &a.t, &a.t, y0, y1);
    dsp->requant(rq, &b.t, &b.t, y0, y1);
    ecompare(&a, &b, what, n);
    etensor_free(&a);
    etensor_free(&b);
}

static int check_requant(const nl_dsp *dsp, const char *what, rng *r)
{
    int n = 0;
    int32_t mult[1025], bias[1025];
    uint8_t shift[1025];
    for (int ti = NL_U8; ti < NL_NTYPES; ti++)
        for (int to = NL_U8; to < NL_NTYPES; to++)
            for (int k = 0; k < 8; k++, n++) {
                int c = echan[rng_range(r, 0, NELEM(echan) - 1)];
                int h = rng_range(r, 1, 6), w = rng_range(r, 1, c > 100 ? 5 : 37);
                int32_t ilo, ihi, lo, hi;
                nl_type_range((nl_type)ti, &ilo, &ihi);
                int mode = k < 4 ? 0 : k - 4 < 3 ? k - 4 : 0;
                etensor src, dref, dtest;
                etensor_new(&src, r, h, w, c, (nl_type)ti, rng_range(r, 0, 5), ilo, ihi, mode);
                out_clamp(r, (nl_type)to, k == 7, &lo, &hi);
                etensor_new(&dref, r, h, w, c, (nl_type)to, rng_range(r, 0, 3), lo, hi, 0);
                etensor_clone(&dtest, &dref);
                rq_fill(r, c, mult, shift, bias, k >= 3);
                nl_requant rq = { k == 2 ? NULL : bias, mult, shift, lo, hi };
                int y0, y1;
                erows(r, h, &y0, &y1);
                nl_requant_ref(&rq, &src.t, &dref.t, y0, y1);
                dsp->requant(&rq, &src.t, &dtest.t, y0, y1);
                ecompare(&dref, &dtest, what, n);
                etensor_free(&dtest);
                etensor_free(&dref);
                if (ti == to) /* in place */
                    check_requant_in_place(dsp, &rq, &src, y0, y1, what, n);
                etensor_free(&src);
            }
    /* Offsets (mult 1 and shift 0 on every channel, as the model's u8 ->
     * s16 widening; the x86 AVX-512 kernel has a form for them), or all
     * but one channel: every type pair, bias at its limits or random,
     * inputs at their limits or random, in place where the types allow. */
    for (int ti = NL_U8; ti < NL_NTYPES; ti++)
        for (int to = NL_U8; to < NL_NTYPES; to++)
            for (int k = 0; k < 6; k++, n++) {
                int c = echan[rng_range(r, 0, NELEM(echan) - 2)];
                int h = rng_range(r, 1, 4), w = rng_range(r, 1, c > 100 ? 5 : 60);
                int32_t ilo, ihi, lo, hi;
                nl_type_range((nl_type)ti, &ilo, &ihi);
                etensor src, dref, dtest;
                etensor_new(&src, r, h, w, c, (nl_type)ti, rng_range(r, 0, 5), ilo, ihi,
                            k < 3 ? 0 : k - 2);
                out_clamp(r, (nl_type)to, k == 1, &lo, &hi);
                etensor_new(&dref, r, h, w, c, (nl_type)to, rng_range(r, 0, 3), lo, hi, 0);
                etensor_clone(&dtest, &dref);
                for (int i = 0; i < c; i++) {
                    mult[i] = 1;
                    shift[i] = 0;
                    bias[i] = k == 2 ? rng_range(r, -NL_BIAS_MAX, NL_BIAS_MAX)
                            : rng_range(r, 0, 1) ? rng_range(r, -300, 300)
                            : rng_range(r, 0, 1) ? NL_BIAS_MAX : -NL_BIAS_MAX;
                }
                if (k == 5) { /* one channel not an offset */
                    int i = rng_range(r, 0, c - 1);
                    mult[i] = rng_range(r, 0, 3);
                    shift[i] = (uint8_t)rng_range(r, 0, 1);
                }
                nl_requant rq = { k == 0 ? NULL : bias, mult, shift, lo, hi };
                int y0, y1;
                erows(r, h, &y0, &y1);
                nl_requant_ref(&rq, &src.t, &dref.t, y0, y1);
                dsp->requant(&rq, &src.t, &dtest.t, y0, y1);
                ecompare(&dref, &dtest, what, n);
                if (ti == to)
                    check_requant_in_place(dsp, &rq, &src, y0, y1, what, n);
                etensor_free(&dtest);
                etensor_free(&dref);
                etensor_free(&src);
            }
    return n;
}

/* Range of an add operand of type t: nl_type_range, or for s16 with
 * full16 the whole int16 range (nl_add_ref's contract, |a| <= 2^15, is
 * wider than the activations' NL_S16_MAX). */
static void add_in_range(nl_type t, int full16, int32_t *lo, int32_t *hi)
{
    nl_type_range(t, lo, hi);
    if (t == NL_S16 && full16) {
        *lo = INT16_MIN;
        *hi = INT16_MAX;
    }
}

/* One add case against the reference: a, b of types ta, tb filled by
 * modes (etensor_new) a_mode, b_mode over add_in_range; output type to,
 * clamped to a random narrower range if narrow; a random row range; and
 * in place over a where the types allow it. */
static void add_case(const nl_dsp *dsp, const char *what, rng *r, nl_type ta, nl_type tb,
                     nl_type to, int c, int h, int w, const nl_add_desc *dd, int a_mode,
                     int b_mode, int narrow, int full16, int n)
{
    int32_t alo, ahi, blo, bhi, lo, hi;
    add_in_range(ta, full16, &alo, &ahi);
    add_in_range(tb, full16, &blo, &bhi);
    etensor a, b, dref, dtest;
    etensor_new(&a, r, h, w, c, ta, rng_range(r, 0, 4), alo, ahi, a_mode);
    etensor_new(&b, r, h, w, c, tb, rng_range(r, 0, 4), blo, bhi, b_mode);
    out_clamp(r, to, narrow, &lo, &hi);
    etensor_new(&dref, r, h, w, c, to, rng_range(r, 0, 3), lo, hi, 0);
    etensor_clone(&dtest, &dref);
    nl_add_desc d = *dd;
    d.lo = lo;
    d.hi = hi;
    int y0, y1;
    erows(r, h, &y0, &y1);
    nl_add_ref(&d, &a.t, &b.t, &dref.t, y0, y1);
    dsp->add(&d, &a.t, &b.t, &dtest.t, y0, y1);
    ecompare(&dref, &dtest, what, n);
    if (ta == to) { /* in place: dst is a */
        etensor a1, a2;
        etensor_clone(&a1, &a);
        etensor_clone(&a2, &a);
        nl_add_ref(&d, &a1.t, &b.t, &a1.t, y0, y1);
        dsp->add(&d, &a2.t, &b.t, &a2.t, y0, y1);
        ecompare(&a1, &a2, what, n);
        etensor_free(&a1);
        etensor_free(&a2);
    }
    etensor_free(&a);
    etensor_free(&b);
    etensor_free(&dref);
    etensor_free(&dtest);
}

/* Multipliers at the edges of the x86 32-bit add form (elem_avx512.c:
 * m = mh * 2^16 + ml, ml in [-2^15, 2^15), covered below 2^31 - 2^15):
 * 0, low and high pieces at their limits (ml = -2^15 at 0x8000 + j *
 * 2^16), the largest covered multiplier and the uncovered ones above it. */
static const int32_t add_mult_edges[] = {
    0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x10000, 0x18000, 0x7FFF8000 - 0x10000,
    1 << 30, (1 << 30) + 0x8000, 0x7FFF7FFF, 0x7FFF8000, 0x7FFF8001, INT32_MAX,
};

static int check_add(const nl_dsp *dsp, const char *what, rng *r)
{
    int n = 0;
    int32_t ma[1025], mb[1025], junk[1025];
    uint8_t shift[1025];
    for (int ta = NL_U8; ta <= NL_S16; ta++)
        for (int tb = NL_U8; tb <= NL_S16; tb++)
            for (int to = NL_U8; to < NL_NTYPES; to++)
                for (int k = 0; k < 5; k++, n++) {
                    int c = echan[rng_range(r, 0, NELEM(echan) - 1)];
                    int h = rng_range(r, 1, 5), w = rng_range(r, 1, c > 100 ? 5 : 33);
                    int mode = k == 3 ? 1 : k == 4 ? 2 : 0;
                    rq_fill(r, c, ma, shift, junk, k >= 1);
                    rq_fill(r, c, mb, shift, junk, k >= 1);
                    nl_add_desc d = { ma, mb, shift, 0, 0 };
                    add_case(dsp, what, r, (nl_type)ta, (nl_type)tb, (nl_type)to, c, h, w, &d,
                             mode, mode ? 3 - mode : 0, k == 2, rng_range(r, 0, 1), n);
                }
    /* Every shift 0 .. 62 (the same on all channels, or s and s + 1 mixed
     * as the model's), every output type, multipliers from add_mult_edges
     * (all covered by the x86 32-bit form, or not) and random, inputs at
     * the limits of int16 (both at -2^15: the top of a * ml + b * ml) or
     * random. */
    for (int s = 0; s <= NL_SHIFT_MAX; s++)
        for (int to = NL_U8; to < NL_NTYPES; to++)
            for (int k = 0; k < 4; k++, n++) {
                static const int chans[] = { 1, 6, 7, 32, 96, 192 };
                int c = chans[rng_range(r, 0, NELEM(chans) - 1)];
                int h = rng_range(r, 1, 3), w = rng_range(r, 1, c > 32 ? 3 : 40);
                int uncovered = k == 3;
                int top = NELEM(add_mult_edges) - (uncovered ? 1 : 4);
                for (int i = 0; i < c; i++) {
                    int ea = rng_range(r, 0, top), eb = rng_range(r, 0, top);
                    ma[i] = ea == top ? rng_range(r, 0, 0x7FFF7FFF) : add_mult_edges[ea];
                    mb[i] = eb == top ? rng_range(r, 0, 0x7FFF7FFF) : add_mult_edges[eb];
                    shift[i] = (uint8_t)(k == 1 && s < NL_SHIFT_MAX ? s + rng_range(r, 0, 1) : s);
                }
                nl_type tin = k == 2 ? NL_U8 : NL_S16;
                int a_mode = k == 0 ? 2 : k == 1 ? 1 : rng_range(r, 0, 2);
                int b_mode = k == 0 ? 2 : k == 1 ? 2 : rng_range(r, 0, 2);
                nl_add_desc d = { ma, mb, shift, 0, 0 };
                add_case(dsp, what, r, tin, tin, (nl_type)to, c, h, w, &d, a_mode, b_mode,
                         k == 3, 1, n);
            }
    return n;
}

static int check_clamp(const nl_dsp *dsp, const char *what, rng *r)
{
    int n = 0;
    for (int t = NL_U8; t < NL_NTYPES; t++)
        for (int k = 0; k < 10; k++, n++) {
            int c = echan[rng_range(r, 0, NELEM(echan) - 1)];
            int h = rng_range(r, 1, 5), w = rng_range(r, 1, c > 100 ? 5 : 45);
            int32_t lo, hi, tlo, thi;
            nl_type_range((nl_type)t, &tlo, &thi);
            out_clamp(r, (nl_type)t, k > 1, &lo, &hi);
            etensor a, b;
            etensor_new(&a, r, h, w, c, (nl_type)t, rng_range(r, 0, 70), tlo, thi, 0);
            etensor_clone(&b, &a);
            int y0, y1;
            erows(r, h, &y0, &y1);
            nl_clamp_ref(&a.t, lo, hi, y0, y1);
            dsp->clamp(&b.t, lo, hi, y0, y1);
            ecompare(&a, &b, what, n);
            etensor_free(&a);
            etensor_free(&b);
        }
    return n;
}

/* One s2d (d2s: 1) case against the reference: factor rr, c channels and
 * h x w pixels on the side with fewer channels, rows with 0..5 elements
 * of slack (unaligned rows), a random row range. */
static void shuffle_case(const nl_dsp *dsp, const char *what, rng *r, int d2s, nl_type t,
                         int rr, int c, int h, int w, int n)
{
    int32_t lo, hi;
    nl_type_range(t, &lo, &hi);
    int hs, ws, cs, hd, wd, cd;
    if (d2s) {
        hs = h; ws = w; cs = c * rr * rr;
        hd = hs * rr; wd = ws * rr; cd = c;
    } else {
        hd = h; wd = w; cd = c * rr * rr;
        hs = hd * rr; ws = wd * rr; cs = c;
    }
    etensor src, dref, dtest;
    etensor_new(&src, r, hs, ws, cs, t, rng_range(r, 0, 5), lo, hi, 0);
    etensor_new(&dref, r, hd, wd, cd, t, rng_range(r, 0, 5), lo, hi, 0);
    etensor_clone(&dtest, &dref);
    int y0, y1;
    erows(r, hd, &y0, &y1);
    if (d2s) {
        nl_d2s_ref(&src.t, &dref.t, rr, y0, y1);
        dsp->d2s(&src.t, &dtest.t, rr, y0, y1);
    } else {
        nl_s2d_ref(&src.t, &dref.t, rr, y0, y1);
        dsp->s2d(&src.t, &dtest.t, rr, y0, y1);
    }
    ecompare(&dref, &dtest, what, n);
    etensor_free(&src);
    etensor_free(&dref);
    etensor_free(&dtest);
}

/* Channel counts around the vector widths (4, 8, 16 elements) and the
 * model's (s2d: 6, 12, 64, 96 in; d2s: 6, 48, 96 out; concat parts 6,
 * 32, 48, 96). */
static const int shuf_chan[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 48, 64, 96 };

static int check_shuffle(const nl_dsp *dsp, const char *what, rng *r, int d2s)
{
    int n = 0;
    for (int t = NL_U8; t < NL_NTYPES; t++)
        for (int k = 0; k < 12; k++, n++) {
            int rr = k < 10 ? rng_range(r, 2, 4) : 8;
            int c = k < 11 ? echan[rng_range(r, 0, 12)] : 65; /* 65 * 64 > 4096: long table */
            int h = rng_range(r, 1, 5), w = rng_range(r, 1, 9);
            shuffle_case(dsp, what, r, d2s, (nl_type)t, rr, c, h, w, n);
        }
    /* Every type, every r from 2 to 4 (the model's 2 and 4) and every
     * channel count of shuf_chan, odd widths and strides. */
    for (int t = NL_U8; t < NL_NTYPES; t++)
        for (int rr = 2; rr <= 4; rr++)
            for (int k = 0; k < NELEM(shuf_chan); k++, n++) {
                int h = rng_range(r, 1, 3), w = 2 * rng_range(r, 0, 2) + 1;
                shuffle_case(dsp, what, r, d2s, (nl_type)t, rr, shuf_chan[k], h, w, n);
            }
    return n;
}

static void concat_case(const nl_dsp *dsp, const char *what, rng *r, nl_type t, int ca, int cb,
                        int h, int w, int n)
{
    int32_t lo, hi;
    nl_type_range(t, &lo, &hi);
    etensor a, b, dref, dtest;
    etensor_new(&a, r, h, w, ca, t, rng_range(r, 0, 5), lo, hi, 0);
    etensor_new(&b, r, h, w, cb, t, rng_range(r, 0, 5), lo, hi, 0);
    etensor_new(&dref, r, h, w, ca + cb, t, rng_range(r, 0, 5), lo, hi, 0);
    etensor_clone(&dtest, &dref);
    int y0, y1;
    erows(r, h, &y0, &y1);
    nl_concat_ref(&a.t, &b.t, &dref.t, y0, y1);
    dsp->concat(&a.t, &b.t, &dtest.t, y0, y1);
    ecompare(&dref, &dtest, what, n);
    etensor_free(&a);
    etensor_free(&b);
    etensor_free(&dref);
    etensor_free(&dtest);
}

static int check_concat(const nl_dsp *dsp, const char *what, rng *r)
{
    int n = 0;
    for (int t = NL_U8; t < NL_NTYPES; t++)
        for (int k = 0; k < 12; k++, n++) {
            int ca = rng_range(r, 1, k < 8 ? 40 : 200), cb = rng_range(r, 1, k < 8 ? 40 : 200);
            int h = rng_range(r, 1, 5), w = rng_range(r, 1, 20);
            concat_case(dsp, what, r, (nl_type)t, ca, cb, h, w, n);
        }
    /* Every type and pair of part sizes of shuf_chan, odd widths. */
    for (int t = NL_U8; t < NL_NTYPES; t++)
        for (int i = 0; i < NELEM(shuf_chan); i++)
            for (int j = 0; j < NELEM(shuf_chan); j++, n++) {
                int h = rng_range(r, 1, 2), w = 2 * rng_range(r, 0, 3) + 1;
                concat_case(dsp, what, r, (nl_type)t, shuf_chan[i], shuf_chan[j], h, w, n);
            }
    /* Rows of many pixels (the x86 AVX-512 kernel moves groups of up to 16
     * pixels, the last ones masked): every type, part sizes around the
     * model's 6 and 96, widths 1 .. 80. */
    static const int wide_chan[] = { 1, 2, 3, 4, 6, 8, 10, 12, 14, 16, 20, 24, 30, 32, 33, 96 };
    for (int t = NL_U8; t < NL_NTYPES; t++)
        for (int k = 0; k < 60; k++, n++) {
            int ca = wide_chan[rng_range(r, 0, NELEM(wide_chan) - 1)];
            int cb = k < 20 ? ca : wide_chan[rng_range(r, 0, NELEM(wide_chan) - 1)];
            concat_case(dsp, what, r, (nl_type)t, ca, cb, rng_range(r, 1, 3), rng_range(r, 1, 80),
                        n);
        }
    return n;
}

START_TEST(elem_bit_exact)
{
    const level *lv = &levels[_i];
    if (!level_runs(lv)) {
        printf("checkasm: NOT RUN on this CPU: level %s (needs %s); its element kernels are "
               "untested here\n", lv->name, lv->needs);
        return;
    }
    nl_dsp dsp, ref;
    nl_dsp_init(&dsp, lv->flags);
    nl_dsp_init(&ref, 0);
    rng r = { 0xE1E30000u + lv->flags };
    int n_kernels = 0, n_cases = 0;
    const struct {
        const char *op, *name, *ref_name;
    } ops[] = {
        { "requant", dsp.requant_name, ref.requant_name }, { "add", dsp.add_name, ref.add_name },
        { "clamp", dsp.clamp_name, ref.clamp_name },       { "s2d", dsp.s2d_name, ref.s2d_name },
        { "d2s", dsp.d2s_name, ref.d2s_name },             { "concat", dsp.concat_name, ref.concat_name },
    };
    for (int i = 0; i < NELEM(ops); i++) {
        if (!strcmp(ops[i].name, ops[i].ref_name)) {
            printf("checkasm: --  %s %-44s the reference (no kernel at this level)\n", lv->name,
                   ops[i].op);
            continue;
        }
        char what[128];
        snprintf(what, sizeof(what), "%s %s", lv->name, ops[i].name);
        int n = i == 0 ? check_requant(&dsp, what, &r) : i == 1 ? check_add(&dsp, what, &r)
              : i == 2 ? check_clamp(&dsp, what, &r) : i == 3 ? check_shuffle(&dsp, what, &r, 0)
              : i == 4 ? check_shuffle(&dsp, what, &r, 1) : check_concat(&dsp, what, &r);
        printf("checkasm: ok  %-56s %3d cases\n", what, n);
        fflush(stdout);
        n_kernels++;
        n_cases += n;
    }
    printf("checkasm: level %s: %d element kernels, %d cases, all bit-exact\n", lv->name,
           n_kernels, n_cases);
}
END_TEST

/* ----------------------------------------------- motion compensation */

/* Fills a plane of h rows of stride samples: random, or mode 1 all 0,
 * 2 all 255, 3 a checkerboard of 0 and 255, 4 columns alternating. */
static void mc_fill(uint8_t *p, rng *r, int h, ptrdiff_t stride, int mode)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < stride; x++) {
            int v = mode == 0 ? (int)(rng_next(r) & 255) : mode == 1 ? 0 : mode == 2 ? 255
                  : mode == 3 ? ((x + y) & 1) * 255 : (x & 1) * 255;
            p[(size_t)y * (size_t)stride + (size_t)x] = (uint8_t)v;
        }
}

/* A plane of w x h samples, stride w + slack, filled by mc_fill. */
static uint8_t *mc_plane(rng *r, int w, int h, ptrdiff_t stride, int mode)
{
    (void)w;
    uint8_t *p = malloc((size_t)stride * (size_t)h);
    ck_assert_ptr_nonnull(p);
    mc_fill(p, r, h, stride, mode);
    return p;
}

/* The same plane against an inaccessible page: its last byte just before
 * it (after = 1) or its first just after it (after = 0), so that a read
 * past the last sample (or before the first) faults on any machine, also
 * under qemu or natively without ASan.  mc_unmap frees it. */
typedef struct mc_guarded {
    void *map;
    size_t len;
} mc_guarded;

static uint8_t *mc_plane_guarded(rng *r, int h, ptrdiff_t stride, int mode, int after,
                                 mc_guarded *g)
{
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = (size_t)stride * (size_t)h;
    const size_t body = (n + pg - 1) / pg * pg;
    g->len = body + pg;
    g->map = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(g->map != MAP_FAILED);
    uint8_t *base = g->map;
    ck_assert_int_eq(mprotect(after ? base + body : base, pg, PROT_NONE), 0);
    uint8_t *p = after ? base + body - n : base + pg;
    mc_fill(p, r, h, stride, mode);
    return p;
}

static void mc_unmap(mc_guarded *g)
{
    ck_assert_int_eq(munmap(g->map, g->len), 0);
}

/* put of width 8 << i at phases (px, py) into want with c's kernel and
 * into got with d's: horizontal only when py == 0, vertical only when
 * px == 0. */
static void put_both(const nv_mcdsp *c, const nv_mcdsp *d, int i, uint8_t *want, uint8_t *got,
                     ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss, int bh, int px, int py)
{
    if (!py) {
        c->put_h[i](want, ds, src, ss, bh, nv_mc_taps[px]);
        d->put_h[i](got, ds, src, ss, bh, nv_mc_taps[px]);
    } else if (!px) {
        c->put_v[i](want, ds, src, ss, bh, nv_mc_taps[py]);
        d->put_v[i](got, ds, src, ss, bh, nv_mc_taps[py]);
    } else {
        c->put_hv[i](want, ds, src, ss, bh, nv_mc_taps[px], nv_mc_taps[py]);
        d->put_hv[i](got, ds, src, ss, bh, nv_mc_taps[px], nv_mc_taps[py]);
    }
}

/* The kernels on blocks inside a plane (no edge path): every phase pair,
 * bw 8 / 16, several heights; output buffers compared whole. */
static int check_mc_put(const nv_mcdsp *d, const nv_mcdsp *c, const char *what, rng *r)
{
    int n = 0;
    const int w = 64, h = 48;
    for (int mode = 0; mode < 5; mode++) {
        const ptrdiff_t ss = w + (mode == 0 ? 0 : 1 + 2 * mode);
        uint8_t *pl = mc_plane(r, w, h, ss, mode);
        for (int i = 0; i < 2; i++)
            for (int px = 0; px < NV_MC_PHASES; px++)
                for (int py = 0; py < NV_MC_PHASES; py++) {
                    if (!px && !py)
                        continue;
                    const int bw = 8 << i, bh = 1 + (int)(rng_next(r) % 32);
                    const int x = 1 + (int)(rng_next(r) % (unsigned)(w - bw - 3));
                    const int y = 1 + (int)(rng_next(r) % (unsigned)(h - bh - 3));
                    const ptrdiff_t ds = bw + (ptrdiff_t)(rng_next(r) % 5);
                    uint8_t want[40 * 40], got[40 * 40];
                    memset(want, CANARY, sizeof(want));
                    memset(got, CANARY, sizeof(got));
                    const uint8_t *src = pl + (ptrdiff_t)y * ss + x;
                    put_both(c, d, i, want, got, ds, src, ss, bh, px, py);
                    ck_assert_msg(!memcmp(want, got, sizeof(want)),
                                  "%s: bw %d bh %d phases (%d, %d) fill %d differ", what, bw, bh,
                                  px, py, mode);
                    n++;
                }
        free(pl);
    }
    /* Tight sources: exactly rows -1 .. bh + 1 and columns -1 .. bw + 1,
     * ending just before an inaccessible page or starting just after one
     * (alternately), so that a read past the contract's last sample or
     * before its first faults (on every machine, qemu included);
     * worst-case fills. */
    for (int k = 0; k < 64; k++) {
        const int i = k & 1, bw = 8 << i, bh = k < 32 ? 16 : 1 + (int)(rng_next(r) % 32);
        const int px = (int)(rng_next(r) % NV_MC_PHASES), py = 1 + (int)(rng_next(r) % 7);
        const ptrdiff_t ss = bw + 3;
        mc_guarded g;
        uint8_t *pl = mc_plane_guarded(r, bh + 3, ss, k % 5, (k >> 1) & 1, &g);
        const uint8_t *src = pl + ss + 1;
        uint8_t want[32 * 16], got[32 * 16];
        memset(want, CANARY, sizeof(want));
        memset(got, CANARY, sizeof(got));
        if (k % 3 == 0) /* horizontal only */
            put_both(c, d, i, want, got, bw, src, ss, bh, py, 0);
        else
            put_both(c, d, i, want, got, bw, src, ss, bh, px, py);
        mc_unmap(&g);
        ck_assert_msg(!memcmp(want, got, sizeof(want)),
                      "%s: tight bw %d bh %d phases (%d, %d) differ", what, bw, bh, px, py);
        n++;
    }
    return n;
}

/* Whole predictions (nv_mc_pred_block_dsp): any vector, incl. the range
 * ends, blocks partly or wholly outside the plane (edge clamping), odd
 * sizes (which run C) next to 8 and 16; then OBMC of whole planes and of
 * row bands with random and extreme fields; then the SAD. */
static int check_mc_pred(const nv_mcdsp *d, const nv_mcdsp *c, const char *what, rng *r)
{
    int n = 0;
    static const int sizes[] = { 1, 3, 7, 8, 9, 15, 16, 17, 31, 32 };
    static const int mvs_ext[] = { NV_MV_MIN, NV_MV_MAX, NV_MV_MIN + 1, NV_MV_MAX - 1, 0, 3, -5 };
    const int w = 80, h = 48;
    for (int mode = 0; mode < 5; mode++) {
        const ptrdiff_t ss = w + mode;
        uint8_t *pl = mc_plane(r, w, h, ss, mode);
        for (int t = 0; t < 300; t++) {
            const int bw = t % 3 ? 8 << (t % 2) : sizes[rng_next(r) % NELEM(sizes)];
            const int bh = t % 5 ? sizes[rng_next(r) % NELEM(sizes)] : bw;
            const int x = (int)(rng_next(r) % 140) - 30, y = (int)(rng_next(r) % 100) - 26;
            const int mvx = t % 4 == 0 ? mvs_ext[rng_next(r) % NELEM(mvs_ext)]
                                       : (int)(rng_next(r) % 161) - 80;
            const int mvy = t % 4 == 1 ? mvs_ext[rng_next(r) % NELEM(mvs_ext)]
                                       : (int)(rng_next(r) % 161) - 80;
            const int chroma = t % 7 == 0;
            uint8_t want[34 * 34], got[34 * 34];
            memset(want, CANARY, sizeof(want));
            memset(got, CANARY, sizeof(got));
            nv_mc_pred_block_dsp(c, want, 34, pl, ss, w, h, x, y, bw, bh, mvx, mvy, chroma);
            nv_mc_pred_block_dsp(d, got, 34, pl, ss, w, h, x, y, bw, bh, mvx, mvy, chroma);
            ck_assert_msg(!memcmp(want, got, sizeof(want)),
                          "%s: block %dx%d at (%d, %d) mv (%d, %d)%s fill %d differs", what, bw,
                          bh, x, y, mvx, mvy, chroma ? " chroma" : "", mode);
            n++;
        }
        /* OBMC: 80x48 luma (5x3 blocks) and its 40x24 chroma. */
        nv_mv field[15];
        for (int i = 0; i < 15; i++) {
            field[i].x = (int16_t)(mode == 1 ? NV_MV_MIN : mode == 2 ? NV_MV_MAX
                                   : (int)(rng_next(r) % 1024) - 512);
            field[i].y = (int16_t)(mode == 3 ? NV_MV_MAX : (int)(rng_next(r) % 1024) - 512);
            if (mode == 4 && i % 2)
                field[i] = field[i - 1];
        }
        for (int chroma = 0; chroma < 2; chroma++) {
            const int pw = chroma ? w / 2 : w, ph = chroma ? h / 2 : h;
            uint8_t want[80 * 48], got[80 * 48];
            memset(want, CANARY, sizeof(want));
            memset(got, CANARY, sizeof(got));
            nv_mc_obmc_rows_dsp(c, want, pw, pl, ss, pw, ph, field, 5, chroma, 0, ph);
            const int cut = 1 + (int)(rng_next(r) % (unsigned)(ph - 1));
            nv_mc_obmc_rows_dsp(d, got, pw, pl, ss, pw, ph, field, 5, chroma, 0, cut);
            nv_mc_obmc_rows_dsp(d, got, pw, pl, ss, pw, ph, field, 5, chroma, cut, ph);
            ck_assert_msg(!memcmp(want, got, sizeof(want)), "%s: OBMC %s, fill %d, bands at %d",
                          what, chroma ? "chroma" : "luma", mode, cut);
            n++;
        }
        /* SAD of two blocks of the plane. */
        for (int t = 0; t < 40; t++) {
            const uint8_t *a = pl + (ptrdiff_t)(rng_next(r) % 32) * ss + (ptrdiff_t)(rng_next(r) % 64);
            const uint8_t *b = pl + (ptrdiff_t)(rng_next(r) % 32) * ss + (ptrdiff_t)(rng_next(r) % 64);
            ck_assert_uint_eq(d->sad16(a, ss, b, ss), c->sad16(a, ss, b, ss));
            n++;
        }
        free(pl);
    }
    /* The search's SAD against a prediction (sadp, through
     * nv_mc_sad16_pred_dsp): the table's against the SAD of the C
     * prediction, any vector, blocks in and outside the plane; worst-case
     * fills (cur opposite the plane's extremes). */
    for (int mode = 0; mode < 5; mode++) {
        const int pw = 64, ph = 48;
        const ptrdiff_t ss = pw + mode;
        uint8_t *pl = mc_plane(r, pw, ph, ss, mode);
        uint8_t cur[16 * 24], pred[16 * 16];
        for (int t = 0; t < 200; t++) {
            const ptrdiff_t cs = 16 + (ptrdiff_t)(t % 8);
            for (int i = 0; i < 16 * 24; i++)
                cur[i] = mode == 1 ? 255 : mode == 2 ? 0 : (uint8_t)rng_next(r);
            const int x = (int)(rng_next(r) % 90) - 20, y = (int)(rng_next(r) % 70) - 16;
            const int mvx = t % 4 == 0 ? mvs_ext[rng_next(r) % NELEM(mvs_ext)]
                                       : (int)(rng_next(r) % 81) - 40;
            const int mvy = t % 4 == 1 ? mvs_ext[rng_next(r) % NELEM(mvs_ext)]
                                       : (int)(rng_next(r) % 81) - 40;
            nv_mc_pred_block_dsp(c, pred, 16, pl, ss, pw, ph, x, y, 16, 16, mvx, mvy, 0);
            const uint32_t want = c->sad16(cur, cs, pred, 16);
            ck_assert_msg(nv_mc_sad16_pred_dsp(d, cur, cs, pl, ss, pw, ph, x, y, mvx, mvy) == want &&
                          nv_mc_sad16_pred_dsp(c, cur, cs, pl, ss, pw, ph, x, y, mvx, mvy) == want,
                          "%s: SAD of the prediction at (%d, %d) mv (%d, %d) fill %d", what, x, y,
                          mvx, mvy, mode);
            n++;
        }
        free(pl);
    }
    /* sadp on tight sources (rows -1 .. 17, columns -1 .. 17 alone, against
     * an inaccessible page after or before them, as above). */
    for (int k = 0; k < 48; k++) {
        const ptrdiff_t ss = 19;
        mc_guarded g;
        uint8_t *pl = mc_plane_guarded(r, 19, ss, k % 5, (k / 3) & 1, &g);
        uint8_t cur[16 * 16];
        for (int i = 0; i < 16 * 16; i++)
            cur[i] = (uint8_t)rng_next(r);
        const int px = 1 + (int)(rng_next(r) % 7), py = 1 + (int)(rng_next(r) % 7);
        const int kind = k % 3;
        const int8_t *th = nv_mc_taps[kind == 1 ? 0 : px], *tv = nv_mc_taps[kind == 0 ? 0 : py];
        const uint32_t want = c->sadp[kind](cur, 16, pl + ss + 1, ss, th, tv);
        const uint32_t got = d->sadp[kind](cur, 16, pl + ss + 1, ss, th, tv);
        mc_unmap(&g);
        ck_assert_msg(want == got, "%s: tight sadp[%d] phases (%d, %d): %u, want %u", what, kind,
                      px, py, got, want);
        n++;
    }
    /* The OBMC cell kernels alone: random predictions, then each of the
     * four at 0 or 255 (the extremes of every partial sum), strides
     * apart and the same buffer more than once. */
    for (int t = 0; t < 200; t++) {
        uint8_t p[4][20 * 16], want[16 * 24], got[16 * 24];
        const ptrdiff_t ps = 16 + (ptrdiff_t)(t % 5), os = 16 + (ptrdiff_t)(t % 7);
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < 20 * 16; i++)
                p[k][i] = t < 100 ? (uint8_t)rng_next(r) : (t >> k) & 1 ? 255 : 0;
        const uint8_t *q3 = t % 9 == 0 ? p[0] : p[3];
        for (int i = 0; i < 2; i++) {
            memset(want, CANARY, sizeof(want));
            memset(got, CANARY, sizeof(got));
            c->obmc[i](want, os, p[0], p[1], p[2], q3, ps);
            d->obmc[i](got, os, p[0], p[1], p[2], q3, ps);
            ck_assert_msg(!memcmp(want, got, sizeof(want)), "%s: OBMC cell %d, case %d", what,
                          8 << i, t);
            n++;
        }
    }
    /* The largest SAD: all 0 against all 255. */
    uint8_t zero[16 * 16], full[16 * 16];
    memset(zero, 0, sizeof(zero));
    memset(full, 255, sizeof(full));
    ck_assert_uint_eq(d->sad16(zero, 16, full, 16), 65280);
    ck_assert_uint_eq(c->sad16(full, 16, zero, 16), 65280);
    return n + 2;
}

/* ---- shuffle vector shapes (h/speed): begin ----
 * The shapes that have vector forms (netlib/x86/shuffle_avx2.c and
 * shuffle_avx512.c: the default model's shuffles), which check_shuffle's
 * random channel counts rarely hit: s2d s16 r 2 with cin % 8 == 0, s2d u8
 * r 4 with cin even (AVX2: <= 12, the last pixels of a row in the scalar
 * rule, or % 16 == 0), d2s s16 r 2 with cout % 32 == 0 (AVX2: % 16), d2s
 * s16 r 4 with cout <= 6; each next to shapes just outside them, widths
 * from 1, row ranges, slack. */
START_TEST(shuffle_vector_shapes)
{
    const level *lv = &levels[_i];
    if (!level_runs(lv)) {
        printf("checkasm: NOT RUN on this CPU: level %s (needs %s); its shuffle shapes are "
               "untested here\n", lv->name, lv->needs);
        return;
    }
    static const struct { int d2s, r; nl_type t; int c; } shapes[] = {
        { 0, 2, NL_S16, 8 },  { 0, 2, NL_S16, 24 }, { 0, 2, NL_S16, 96 }, { 0, 2, NL_S16, 12 },
        { 0, 4, NL_U8, 2 },   { 0, 4, NL_U8, 4 },   { 0, 4, NL_U8, 6 },   { 0, 4, NL_U8, 10 },
        { 0, 4, NL_U8, 12 },  { 0, 4, NL_U8, 64 },  { 0, 4, NL_U8, 5 },   { 0, 4, NL_S16, 12 },
        { 1, 2, NL_S16, 32 }, { 1, 2, NL_S16, 96 }, { 1, 2, NL_S16, 48 }, { 1, 2, NL_U8, 96 },
        { 1, 4, NL_S16, 1 },  { 1, 4, NL_S16, 3 },  { 1, 4, NL_S16, 4 },  { 1, 4, NL_S16, 6 },
        { 1, 4, NL_S16, 7 },  { 1, 4, NL_U8, 6 },   { 0, 4, NL_U8, 8 },   { 0, 4, NL_U8, 14 },
        { 1, 2, NL_S16, 16 }, { 1, 2, NL_S16, 8 },  { 0, 4, NL_U8, 16 },  { 0, 4, NL_U8, 24 },
    };
    nl_dsp dsp;
    nl_dsp_init(&dsp, lv->flags);
    rng r = { 0x5A0FF1E0u + lv->flags };
    int n = 0;
    for (int si = 0; si < NELEM(shapes); si++)
        for (int k = 0; k < 8; k++, n++) {
            const int rr = shapes[si].r, c = shapes[si].c;
            const nl_type t = shapes[si].t;
            int32_t lo, hi;
            nl_type_range(t, &lo, &hi);
            int hs, ws, cs, hd, wd, cd;
            if (shapes[si].d2s) {
                hs = rng_range(&r, 1, 4); ws = k == 0 ? 1 : rng_range(&r, 1, 11); cs = c * rr * rr;
                hd = hs * rr; wd = ws * rr; cd = c;
            } else {
                hd = rng_range(&r, 1, 4); wd = k == 0 ? 1 : rng_range(&r, 1, 11); cd = c * rr * rr;
                hs = hd * rr; ws = wd * rr; cs = c;
            }
            etensor src, dref, dtest;
            etensor_new(&src, &r, hs, ws, cs, t, k < 4 ? 0 : rng_range(&r, 1, 9), lo, hi, k & 1);
            etensor_new(&dref, &r, hd, wd, cd, t, rng_range(&r, 0, 5), lo, hi, 0);
            etensor_clone(&dtest, &dref);
            int y0, y1;
            erows(&r, hd, &y0, &y1);
            if (shapes[si].d2s) {
                nl_d2s_ref(&src.t, &dref.t, rr, y0, y1);
                dsp.d2s(&src.t, &dtest.t, rr, y0, y1);
            } else {
                nl_s2d_ref(&src.t, &dref.t, rr, y0, y1);
                dsp.s2d(&src.t, &dtest.t, rr, y0, y1);
            }
            char what[96];
            snprintf(what, sizeof(what), "%s %s r %d c %d", lv->name,
                     shapes[si].d2s ? dsp.d2s_name : dsp.s2d_name, rr, c);
            ecompare(&dref, &dtest, what, n);
            etensor_free(&src);
            etensor_free(&dref);
            etensor_free(&dtest);
        }
    printf("checkasm: ok  %s s2d %s, d2s %s: %d cases of the vector shapes\n", lv->name,
           dsp.s2d_name, dsp.d2s_name, n);
}
END_TEST
/* ---- shuffle vector shapes (h/speed): end ---- */

/* The x6 row kernels (common/mcdsp.h) against the C ones: widths 1 to 70
 * and 960 (around the 16-pixel steps), every start offset mod 4 (rows are
 * not aligned), random bytes and the extremes 0 and 255; packing, then
 * unpacking what was packed; nothing outside the row written. */
static int check_x6_rows(const nv_mcdsp *d, const nv_mcdsp *c, rng *rr)
{
    enum { MAXW = 960, PAD = 40 };
    static uint8_t in[4][2 * MAXW + PAD], want[6 * MAXW + PAD], got[6 * MAXW + PAD];
    static uint8_t back[4][2][2 * MAXW + PAD];
    int n = 0;
    for (int w = 1; w <= MAXW; w = w < 70 ? w + 1 : w == 70 ? MAXW : MAXW + 1) {
        for (int fill = 0; fill < 3; fill++) {
            const int off = (int)(rng_next(rr) % 4);
            for (int p = 0; p < 4; p++)
                for (int i = 0; i < 2 * MAXW + PAD; i++)
                    in[p][i] = fill == 0 ? (uint8_t)rng_next(rr) : fill == 1 ? 0 : 255;
            memset(want, CANARY, sizeof(want));
            memset(got, CANARY, sizeof(got));
            c->x6_pack_row(in[0] + off, in[1] + off, in[2] + off, in[3] + off, want + off, w);
            d->x6_pack_row(in[0] + off, in[1] + off, in[2] + off, in[3] + off, got + off, w);
            ck_assert_msg(!memcmp(want, got, sizeof(want)), "%s: x6 pack, width %d, offset %d",
                          d->name, w, off);
            memset(back, CANARY, sizeof(back));
            for (int k = 0; k < 2; k++) {
                const nv_mcdsp *m = k ? d : c;
                m->x6_unpack_row(want + off, back[0][k] + off, back[1][k] + off,
                                 back[2][k] + off, back[3][k] + off, w);
            }
            for (int p = 0; p < 4; p++) {
                ck_assert_msg(!memcmp(back[p][0], back[p][1], sizeof(back[p][0])),
                              "%s: x6 unpack, width %d, offset %d, plane %d", d->name, w, off, p);
                const int len = p < 2 ? 2 * w : w;
                ck_assert_msg(!memcmp(back[p][1] + off, in[p] + off, (size_t)len),
                              "%s: x6 unpack does not invert pack, width %d", d->name, w);
            }
            n += 2;
        }
    }
    return n;
}

START_TEST(mc_bit_exact)
{
    const level *lv = &levels[_i];
    if (!level_runs(lv)) {
        printf("checkasm: NOT RUN on this CPU: level %s (needs %s); its motion-compensation "
               "kernels are untested here\n", lv->name, lv->needs);
        return;
    }
    nv_mcdsp d, c;
    nv_mcdsp_init(&d, lv->flags);
    nv_mcdsp_init(&c, 0);
    ck_assert_ptr_eq(nv_mcdsp_get(lv->flags)->put_hv[1], d.put_hv[1]);
    if (!strcmp(d.name, c.name)) {
        printf("checkasm: --  %s motion compensation: the C kernels (none at this level)\n",
               lv->name);
        return;
    }
    rng r = { 0x3C000000u + lv->flags };
    char what[96];
    snprintf(what, sizeof(what), "%s %s", lv->name, d.name);
    int n = check_mc_put(&d, &c, what, &r);
    n += check_mc_pred(&d, &c, what, &r);
    printf("checkasm: ok  %-56s %3d cases (put x 8/16, blocks, OBMC, cells, sad16, sadp)\n", what, n);
    n = check_x6_rows(&d, &c, &r);
    printf("checkasm: ok  %-56s %3d cases (x6 pack / unpack rows)\n", what, n);
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
        const char *want_amx[] = { " amx_tile", " amx_int8" };
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[len - 1] = ' ';
        else
            strcat(line, " ");
        unsigned fl = 0;
        int ok2 = 1, ok512 = 1, okamx = 1;
        char needle[32];
        for (int i = 0; i < 2; i++) {
            snprintf(needle, sizeof(needle), "%s ", want_avx2[i]);
            ok2 = ok2 && strstr(line, needle);
        }
        for (int i = 0; i < 4; i++) {
            snprintf(needle, sizeof(needle), "%s ", want_512[i]);
            ok512 = ok512 && strstr(line, needle);
        }
        for (int i = 0; i < 2; i++) {
            snprintf(needle, sizeof(needle), "%s ", want_amx[i]);
            okamx = okamx && strstr(line, needle);
        }
        if (ok2)
            fl |= NL_CPU_FLAG_AVX2;
        if (ok2 && ok512 && okamx)
            fl |= NL_CPU_FLAG_AMX;
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
        printf("checkasm: cpu flags %#x (avx2 %s, avx512-vnni %s, amx-int8 %s), as "
               "/proc/cpuinfo\n", got, got & NL_CPU_FLAG_AVX2 ? "yes" : "no",
               got & NL_CPU_FLAG_AVX512 ? "yes" : "no", got & NL_CPU_FLAG_AMX ? "yes" : "no");
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
    ck_assert(!(got & NL_CPU_FLAG_AMX) || (got & NL_CPU_FLAG_AVX512));
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
        /* The public avx512 level takes AMX where the CPU has it. */
        const int amx = (cpu & NL_CPU_FLAG_AMX) != 0;
        ck_assert_int_eq(r512, 0);
        ck_assert_str_eq(nl_dsp_level_name(&d), amx ? "avx512+amx" : "avx512");
        ck_assert_str_eq(d.conv[NL_DSP_K3][NL_DSP_S1][NL_U8][NL_U8].name,
                         amx ? "nl_conv_amx" : "nl_conv3x3_u8s8_avx512vnni");
        nl_dsp_init(&d, NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512);
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
    nl_dsp_init(&d, NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AMX);
    ck_assert_uint_eq(d.flags, cpu & NL_CPU_FLAG_AVX2);
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
    const char *best = cpu & NL_CPU_FLAG_AMX ? "avx512+amx"
                     : cpu & NL_CPU_FLAG_AVX512 ? "avx512"
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
    default_level_with_env("avx512vnni", got, sizeof(got));
    ck_assert_str_eq(got, cpu & NL_CPU_FLAG_AVX512 ? "avx512" : best);
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
    /* The default model's heaviest s16-input layers (bench_layers). */
    { "3x3 s16 192->24 (1/8, model)", 3, 1, 192, 24, NL_S16, NL_U8, 240, 136 },
    { "1x1 s16 96->96 (1/8, model)", 1, 1, 96, 96, NL_S16, NL_S16, 240, 136 },
    { "1x1 s16 192->384 (1/16, model)", 1, 1, 192, 384, NL_S16, NL_S16, 120, 68 },
    { "3x3 s16 192->64 (1/16, model)", 3, 1, 192, 64, NL_S16, NL_U8, 120, 68 },
    { "3x3 s16 12->16 (1/2, model)", 3, 1, 12, 16, NL_S16, NL_U8, 960, 544 },
    { "3x3 u8 24->96 (1/8, model)", 3, 1, 24, 96, NL_U8, NL_S16, 240, 136 },
    { "1x1 u8 96->96 (1/8, model)", 1, 1, 96, 96, NL_U8, NL_S16, 240, 136 },
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

/* Best thread-CPU time of fn(arg) (repeated for at least min_s). */
static double time_call(void (*fn)(void *), void *arg, double min_s)
{
    double best = 1e30, spent = 0;
    for (int runs = 0; spent < min_s || runs < 3; runs++) {
        double t0 = thread_seconds();
        fn(arg);
        double t = thread_seconds() - t0;
        best = t < best ? t : best;
        spent += t;
    }
    return best;
}

/* Element-wise ops on the model's largest shapes, motion compensation on
 * the search's 16x16 blocks: every level against the reference. */
typedef struct elem_bench {
    const nl_dsp *dsp;
    int op;                      /* 0 requant, 1 add, 2 concat */
    nl_tensor a, b, d;
    nl_requant rq;
    nl_add_desc ad;
} elem_bench;

static void elem_bench_run(void *arg)
{
    elem_bench *e = arg;
    if (e->op == 0)
        e->dsp->requant(&e->rq, &e->a, &e->d, 0, e->d.h);
    else if (e->op == 1)
        e->dsp->add(&e->ad, &e->a, &e->b, &e->d, 0, e->d.h);
    else
        e->dsp->concat(&e->a, &e->b, &e->d, 0, e->d.h);
}

typedef struct mc_bench {
    const nv_mcdsp *mc;
    const uint8_t *ref;
    uint8_t *dst;
    int kind;                    /* 0 hv, 1 h, 2 sad, 3 sadp hv, 4 obmc 16, 5 obmc 8, 6 x6 pack */
} mc_bench;

static void mc_bench_run(void *arg)
{
    mc_bench *m = arg;
    uint32_t acc = 0;
    for (int i = 0; i < 1000; i++) {
        const uint8_t *src = m->ref + 64 * 3 + 1 + (i % 16);
        if (m->kind == 0)
            m->mc->put_hv[1](m->dst, 16, src, 64, 16, nv_mc_taps[3], nv_mc_taps[5]);
        else if (m->kind == 1)
            m->mc->put_h[1](m->dst, 16, src, 64, 16, nv_mc_taps[2]);
        else if (m->kind == 2)
            acc += m->mc->sad16(src, 64, m->dst, 16);
        else if (m->kind == 3)
            acc += m->mc->sadp[2](m->dst, 16, src, 64, nv_mc_taps[3], nv_mc_taps[5]);
        else if (m->kind == 4)
            m->mc->obmc[1](m->dst, 16, src, src + 1, src + 64, src + 65, 64);
        else if (m->kind == 5)
            m->mc->obmc[0](m->dst, 16, src, src + 1, src + 64, src + 65, 64);
        else /* one 16-pixel (x6: 96-byte) row from the 64 x 64 plane */
            m->mc->x6_pack_row(m->ref, m->ref + 64, src, src + 64, m->dst, 16);
    }
    m->dst[0] ^= (uint8_t)acc;
}

static void bench_other(int quick)
{
    static const struct {
        const char *what;
        int op, h, w, ca, cb;
        nl_type ta, to;
    } shapes[] = {
        { "requant s16->s16 960x544x6", 0, 544, 960, 6, 0, NL_S16, NL_S16 },
        { "requant u8->s16 960x544x6 offset (mult 1, shift 0)", 3, 544, 960, 6, 0, NL_U8, NL_S16 },
        { "add s16+s16->s16 240x136x96", 1, 136, 240, 96, 96, NL_S16, NL_S16 },
        { "add s16+s16->u8 960x544x6", 1, 544, 960, 6, 6, NL_S16, NL_U8 },
        { "add s16+s16->s32 120x68x192", 1, 68, 120, 192, 192, NL_S16, NL_S32 },
        { "concat s16 6+6 960x544", 2, 544, 960, 6, 6, NL_S16, NL_S16 },
        { "concat u8 6+6 960x544", 2, 544, 960, 6, 6, NL_U8, NL_U8 },
        { "concat s16 96+96 240x136", 2, 136, 240, 96, 96, NL_S16, NL_S16 },
    };
    rng r = { 777 };
    static int32_t mult[192], ma[192], mb[192], bias[192], one[192];
    static uint8_t shift[192], zero[192];
    for (int i = 0; i < 192; i++) {
        mult[i] = ma[i] = mb[i] = rng_range(&r, 1 << 20, 1 << 21);
        one[i] = 1;
        bias[i] = rng_range(&r, -1000, 1000);
        shift[i] = 24;
    }
    for (int si = 0; si < NELEM(shapes); si++) {
        elem_bench e;
        memset(&e, 0, sizeof(e));
        e.op = shapes[si].op == 3 ? 0 : shapes[si].op;
        const int h = shapes[si].h, w = shapes[si].w, ca = shapes[si].ca, cb = shapes[si].cb;
        const int cd = e.op == 2 ? ca + cb : ca;
        e.a = (nl_tensor){ calloc((size_t)h * w * ca, 4), h, w, ca, (ptrdiff_t)w * ca, shapes[si].ta };
        e.b = (nl_tensor){ calloc((size_t)h * w * (cb ? cb : 1), 4), h, w, cb ? cb : 1,
                           (ptrdiff_t)w * (cb ? cb : 1), shapes[si].ta };
        e.d = (nl_tensor){ calloc((size_t)h * w * cd, 4), h, w, cd, (ptrdiff_t)w * cd, shapes[si].to };
        if (!e.a.data || !e.b.data || !e.d.data) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        int32_t lo, hi;
        nl_type_range(shapes[si].to, &lo, &hi);
        e.rq = shapes[si].op == 3 ? (nl_requant){ bias, one, zero, lo, hi }
                                  : (nl_requant){ bias, mult, shift, lo, hi };
        e.ad = (nl_add_desc){ ma, mb, shift, lo, hi };
        printf("\n%s\n", shapes[si].what);
        nl_dsp ref;
        nl_dsp_init(&ref, 0);
        e.dsp = &ref;
        const double t_ref = time_call(elem_bench_run, &e, quick ? 0.0 : 0.2);
        const char *ref_name = e.op == 0 ? ref.requant_name : e.op == 1 ? ref.add_name
                             : ref.concat_name;
        printf("  %-32s %9.3f ms\n", ref_name, t_ref * 1e3);
        for (int li = 0; li < NELEM(levels) - 1; li++) { /* amx: the avx512 element kernels */
            if (!level_runs(&levels[li]))
                continue;
            nl_dsp dsp;
            nl_dsp_init(&dsp, levels[li].flags);
            e.dsp = &dsp;
            const double t = time_call(elem_bench_run, &e, quick ? 0.02 : 0.2);
            const char *name = e.op == 0 ? dsp.requant_name : e.op == 1 ? dsp.add_name
                             : dsp.concat_name;
            printf("  %-32s %9.3f ms  x%.1f over ref\n", name, t * 1e3, t_ref / t);
        }
        free(e.a.data);
        free(e.b.data);
        free(e.d.data);
    }
    /* Motion compensation: 1000 blocks of 16x16. */
    static const char *const mc_what[7] = {
        "mc put_hv 16x16 (x1000)", "mc put_h 16x16 (x1000)", "mc sad 16x16 (x1000)",
        "mc sadp hv 16x16 (x1000)", "mc obmc 16x16 (x1000)", "mc obmc 8x8 (x1000)",
        "x6 pack row of 16 pixels (x1000)" };
    uint8_t *ref = malloc(64 * 64), dst[16 * 16];
    if (!ref) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (int i = 0; i < 64 * 64; i++)
        ref[i] = (uint8_t)rng_next(&r);
    memset(dst, 7, sizeof(dst));
    for (int kind = 0; kind < NELEM(mc_what); kind++) {
        nv_mcdsp c, d;
        nv_mcdsp_init(&c, 0);
        nv_mcdsp_init(&d, NL_CPU_FLAGS_ALL);
        mc_bench m = { &c, ref, dst, kind };
        const double t_c = time_call(mc_bench_run, &m, quick ? 0.0 : 0.2);
        printf("\n%s\n  %-32s %9.3f ms\n", mc_what[kind], c.name, t_c * 1e3);
        if (strcmp(c.name, d.name)) {
            m.mc = &d;
            const double t = time_call(mc_bench_run, &m, quick ? 0.02 : 0.2);
            printf("  %-32s %9.3f ms  x%.1f over C\n", d.name, t * 1e3, t_c / t);
        }
    }
    free(ref);
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
            tu_put(src.data, bs->in, i, rng_range(&r, ilo, ihi));
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
    bench_other(quick);
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
    tcase_add_test(tc, graph_concat_fusion);
    tcase_add_loop_test(tc, elem_bit_exact, 0, NELEM(levels));
    tcase_add_loop_test(tc, mc_bit_exact, 0, NELEM(levels));
    tcase_add_loop_test(tc, shuffle_vector_shapes, 0, NELEM(levels)); /* h/speed */
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
    if (argc > 1 && !strcmp(argv[1], "--bench-elem")) { /* the element ops and MC alone */
        bench_other(0);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: %s [--bench [--quick] | --bench-elem]\n", argv[0]);
        return 2;
    }
    /* No OpenCL here (tests/opencl_check.c covers it): NEUVC_CPU_OPENCL
     * must then be refused. */
    setenv("NEUVC_OPENCL_LIB", "/nonexistent/libOpenCL.so.1", 1);
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
