/*
 * The OpenCL suite (make check-opencl): the bit-exact checker of every
 * OpenCL kernel against the C reference, the device executor against the
 * CPU one on every graph of the default model, and the codec across
 * backends (encode on the CPU, decode on OpenCL, and the reverse).
 *
 *   - ABI: every constant of netlib/opencl/cl_api.h equals CL/cl.h's
 *     (when Debian's opencl-c-headers is installed at build time).
 *   - Kernels (kernels.cl), each against netlib/ref or common/mc.c, BYTE
 *     FOR BYTE on whole outputs: convolution for k 1/3, stride 1/2, input
 *     u8/s8/s16, every output type (48 entries), random and worst cases
 *     (inputs and weights at their extremes, bias +-(2^30 - 1), mult and
 *     shift from {0, 1, 2^31 - 1, ...} x {0, 1, 31, 61, 62}, narrow
 *     clamps), odd sizes, strided host tensors; requantization (every
 *     source and destination type), addition (u8/s8/s16 operands, every
 *     output type), clamp, space-to-depth and depth-to-space (r 2..4 and
 *     8), concatenation (every type); OBMC into x6 on random pictures
 *     with zero, small, range-limit and int16-extreme vectors.
 *   - Executor: each of the nine graphs at two sizes, random inputs,
 *     outputs equal to the CPU executor's (and the linked pt / pf path).
 *   - Codec: a real clip crop (odd size, I and P frames) encoded on the
 *     CPU and on OpenCL gives the same packets and reconstructions, and
 *     each stream decoded on the other backend gives the encoder's
 *     reconstruction.
 *
 * Without a usable OpenCL device the program prints why and exits 77
 * (skipped) -- unless CI=true or NEUVC_OPENCL_REQUIRED=1, when every test
 * runs and fails.  A skip is never counted as a pass (tests/run-opencl.sh).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<CL/cl.h>)
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#define HAVE_CL_H 1
#endif
#endif

#include "common/mc.h"
#include "common/model.h"
#include "common/picture.h"
#include "common/y4m.h"
#include "netlib/dsp.h"
#include "netlib/graph.h"
#include "netlib/netlib.h"
#include "netlib/opencl/opencl.h"
#include "neuvc/neuvc.h"
#include "tests/common/testutil.h"
#include "tests/common/tu_check.h"
#include "tests/common/tu_netlib.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------ helpers */

/* Sample range the contract allows for an input of type t. */
static void in_range(nl_type t, int32_t *lo, int32_t *hi)
{
    nl_type_range(t, lo, hi);
    if (t == NL_S16) {
        *lo = -NL_S16_MAX;
        *hi = NL_S16_MAX;
    }
}

/* A tensor of h x w x c with slack elements after each row, filled by
 * mode: 0 random in range, 1 all max, 2 all min; the slack holds garbage. */
static nl_tensor tensor_new(rng *r, int h, int w, int c, nl_type t, int slack, int mode,
                            int32_t lo, int32_t hi)
{
    nl_tensor x = { NULL, h, w, c, (ptrdiff_t)w * c + slack, t };
    size_t n = (size_t)h * (size_t)x.stride;
    x.data = calloc(n ? n : 1, nl_type_size(t));
    ck_assert_ptr_nonnull(x.data);
    for (int y = 0; y < h; y++)
        for (ptrdiff_t i = 0; i < x.stride; i++) {
            int32_t v = mode == 1 ? hi : mode == 2 ? lo : rng_range(r, lo, hi);
            if (i >= (ptrdiff_t)w * c)
                v = rng_range(r, lo, hi); /* slack */
            tu_put(x.data, t, (size_t)y * (size_t)x.stride + (size_t)i, v);
        }
    return x;
}

static nl_tensor tensor_like(int h, int w, int c, nl_type t, int slack, uint8_t fill)
{
    nl_tensor x = { NULL, h, w, c, (ptrdiff_t)w * c + slack, t };
    size_t bytes = (size_t)h * (size_t)x.stride * nl_type_size(t);
    x.data = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(x.data);
    memset(x.data, fill, bytes);
    return x;
}

static size_t tensor_size(const nl_tensor *t)
{
    return (size_t)t->h * (size_t)t->stride * nl_type_size(t->type);
}

/* The rows (w * c elements each) of a and b are equal. */
static int rows_equal(const nl_tensor *a, const nl_tensor *b)
{
    const size_t es = nl_type_size(a->type), row = (size_t)a->w * (size_t)a->c * es;
    for (int y = 0; y < a->h; y++)
        if (memcmp((const char *)a->data + (size_t)y * (size_t)a->stride * es,
                   (const char *)b->data + (size_t)y * (size_t)b->stride * es, row))
            return 0;
    return 1;
}

static void require_device(void)
{
    char err[256];
    ck_assert_msg(nl_cl_get(NULL, err, sizeof(err)) == 0, "no OpenCL device: %s", err);
}

/* Per-channel requantization arrays; extreme picks from the tables. */
typedef struct rq_arrays {
    int32_t *bias, *mult;
    uint8_t *shift;
} rq_arrays;

static const int32_t mult_x[] = { 0, 1, INT32_MAX, INT32_MAX, 1 << 30, 3, 12345 };
static const uint8_t shift_x[] = { 0, 1, 62, 61, 31, 40, 20, 0 };

static void rq_fill(rng *r, rq_arrays *a, int c, int extreme, int with_bias)
{
    a->bias = with_bias ? malloc((size_t)c * 4) : NULL;
    a->mult = malloc((size_t)c * 4);
    a->shift = malloc((size_t)c);
    ck_assert(a->mult && a->shift && (!with_bias || a->bias));
    for (int i = 0; i < c; i++) {
        if (extreme) {
            a->mult[i] = mult_x[rng_range(r, 0, NELEM(mult_x) - 1)];
            a->shift[i] = shift_x[rng_range(r, 0, NELEM(shift_x) - 1)];
            if (a->bias)
                a->bias[i] = rng_range(r, 0, 2) == 0 ? NL_BIAS_MAX : rng_range(r, 0, 1) ? -NL_BIAS_MAX
                                                                            : rng_range(r, -99, 99);
        } else {
            a->mult[i] = rng_range(r, 1, 1 << 20);
            a->shift[i] = (uint8_t)rng_range(r, 8, 30);
            if (a->bias)
                a->bias[i] = rng_range(r, -(1 << 20), 1 << 20);
        }
    }
}

static void rq_free(rq_arrays *a)
{
    free(a->bias);
    free(a->mult);
    free(a->shift);
}

/* lo, hi: the type's range, or a random narrow one. */
static void clamp_range(rng *r, nl_type t, int narrow, int32_t *lo, int32_t *hi)
{
    nl_type_range(t, lo, hi);
    if (narrow) {
        int32_t a = rng_range(r, *lo / 2, *hi / 2), b = rng_range(r, *lo / 2, *hi / 2);
        *lo = a < b ? a : b;
        *hi = a < b ? b : a;
    }
}

/* ------------------------------------------------------------ ABI */

START_TEST(cl_api_abi)
{
#ifdef HAVE_CL_H
    ck_assert_int_eq(NLCL_SUCCESS, CL_SUCCESS);
    ck_assert_int_eq(NLCL_DEVICE_NOT_FOUND, CL_DEVICE_NOT_FOUND);
    ck_assert_int_eq(NLCL_FALSE, CL_FALSE);
    ck_assert_int_eq(NLCL_TRUE, CL_TRUE);
    ck_assert_int_eq(NLCL_PLATFORM_VERSION, CL_PLATFORM_VERSION);
    ck_assert_int_eq(NLCL_PLATFORM_NAME, CL_PLATFORM_NAME);
    ck_assert_int_eq(NLCL_PLATFORM_VENDOR, CL_PLATFORM_VENDOR);
    ck_assert_uint_eq(NLCL_DEVICE_TYPE_CPU, CL_DEVICE_TYPE_CPU);
    ck_assert_uint_eq(NLCL_DEVICE_TYPE_GPU, CL_DEVICE_TYPE_GPU);
    ck_assert_uint_eq(NLCL_DEVICE_TYPE_ALL, CL_DEVICE_TYPE_ALL);
    ck_assert_int_eq(NLCL_DEVICE_TYPE, CL_DEVICE_TYPE);
    ck_assert_int_eq(NLCL_DEVICE_MAX_COMPUTE_UNITS, CL_DEVICE_MAX_COMPUTE_UNITS);
    ck_assert_int_eq(NLCL_DEVICE_MAX_WORK_GROUP_SIZE, CL_DEVICE_MAX_WORK_GROUP_SIZE);
    ck_assert_int_eq(NLCL_DEVICE_MAX_CLOCK_FREQUENCY, CL_DEVICE_MAX_CLOCK_FREQUENCY);
    ck_assert_int_eq(NLCL_DEVICE_MAX_MEM_ALLOC_SIZE, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
    ck_assert_int_eq(NLCL_DEVICE_NAME, CL_DEVICE_NAME);
    ck_assert_int_eq(NLCL_DRIVER_VERSION, CL_DRIVER_VERSION);
    ck_assert_int_eq(NLCL_DEVICE_PROFILE, CL_DEVICE_PROFILE);
    ck_assert_int_eq(NLCL_DEVICE_VERSION, CL_DEVICE_VERSION);
    ck_assert_int_eq(NLCL_DEVICE_EXTENSIONS, CL_DEVICE_EXTENSIONS);
    ck_assert_uint_eq(NLCL_MEM_READ_WRITE, CL_MEM_READ_WRITE);
    ck_assert_uint_eq(NLCL_MEM_READ_ONLY, CL_MEM_READ_ONLY);
    ck_assert_int_eq(NLCL_PROGRAM_BINARY_SIZES, CL_PROGRAM_BINARY_SIZES);
    ck_assert_int_eq(NLCL_PROGRAM_BINARIES, CL_PROGRAM_BINARIES);
    ck_assert_int_eq(NLCL_PROGRAM_BUILD_LOG, CL_PROGRAM_BUILD_LOG);
    ck_assert_uint_eq(sizeof(nlcl_int), sizeof(cl_int));
    ck_assert_uint_eq(sizeof(nlcl_uint), sizeof(cl_uint));
    ck_assert_uint_eq(sizeof(nlcl_bitfield), sizeof(cl_bitfield));
    ck_assert_uint_eq(sizeof(nlcl_context_properties), sizeof(cl_context_properties));
    printf("cl_api.h: every constant equals CL/cl.h's\n");
#else
    printf("cl_api.h: CL/cl.h not installed at build time, constants NOT compared\n");
#endif
    require_device();
    printf("device: %s\n", nl_cl_describe());
}
END_TEST

/* ------------------------------------------------------------ convolution */

/* One case: mode 0 random, 1 worst (max inputs), 2 worst (min inputs),
 * with extreme requantization when ext.  Returns 1 when compared, 0 for
 * a descriptor beyond the accumulator bound (not a valid case). */
static int conv_case(rng *r, int k, int s, nl_type in, nl_type out, int h, int w, int cin,
                      int cout, int mode, int ext, int narrow, int slack)
{
    const int kk = k * k;
    int8_t *wt = malloc((size_t)cout * kk * cin);
    ck_assert_ptr_nonnull(wt);
    for (int i = 0; i < cout * kk * cin; i++)
        wt[i] = (int8_t)(mode == 0 ? rng_range(r, -127, 127) : mode == 1 ? 127 : (i & 1) ? -127 : 127);
    rq_arrays a;
    rq_fill(r, &a, cout, ext, rng_range(r, 0, 3) != 0);
    nl_conv_desc d = { k, s, cin, cout, in, out, wt, { a.bias, a.mult, a.shift, 0, 0 } };
    clamp_range(r, out, narrow, &d.rq.lo, &d.rq.hi);
    if (nl_conv_check(&d) != 0) { /* beyond the accumulator bound: not a valid case */
        free(wt);
        rq_free(&a);
        return 0;
    }
    int32_t lo, hi;
    in_range(in, &lo, &hi);
    rng rr = *r;
    nl_tensor x = tensor_new(&rr, h, w, cin, in, slack, mode, lo, hi);
    r->s = rr.s;
    const int ho = nl_conv_out_size(h, s), wo = nl_conv_out_size(w, s);
    nl_tensor want = tensor_like(ho, wo, cout, out, 0, 0xA5);
    nl_tensor got = tensor_like(ho, wo, cout, out, slack, 0x5A);
    nl_conv_ref(&d, &x, &want, 0, ho, NULL);
    ck_assert_int_eq(nl_cl_conv(&d, &x, &got), 0);
    ck_assert_msg(rows_equal(&want, &got),
                  "nl_conv_%s_cl k%d s%d -> %s: %dx%dx%d -> %d, mode %d ext %d differs",
                  tu_type_name(in), k, s, tu_type_name(out), w, h, cin, cout, mode, ext);
    free(x.data);
    free(want.data);
    free(got.data);
    free(wt);
    rq_free(&a);
    return 1;
}

START_TEST(conv_bit_exact)
{
    require_device();
    /* _i: one kernel entry (k, stride, input type, output type). */
    const int k = (_i >> 5) & 1 ? 3 : 1, s = (_i >> 4) & 1 ? 2 : 1;
    const nl_type in = (nl_type)((_i >> 2) & 3), out = (nl_type)(_i & 3);
    if (in == NL_S32)
        return; /* not an input type */
    rng r = { 0x1234u + (uint64_t)_i };
    static const int sizes[][2] = { { 1, 1 }, { 1, 7 }, { 7, 1 }, { 5, 3 }, { 9, 6 } };
    int n = 0;
    for (int c = 0; c < 10; c++) {
        const int *sz = sizes[c % NELEM(sizes)];
        int cin = c < 5 ? rng_range(&r, 1, 40) : rng_range(&r, 1, 9);
        int cout = rng_range(&r, 1, 70);
        n += conv_case(&r, k, s, in, out, sz[0], sz[1], cin, cout, 0, c & 1, c == 3,
                       c == 4 ? 3 : 0);
    }
    /* Worst cases: the largest cin the accumulator bound allows. */
    const int64_t maxp = (int64_t)(in == NL_S16 ? NL_S16_MAX : 255) * 128; /* nl_conv_check's */
    int cin_max = (int)(((1ll << 30) - 1) / (maxp * k * k));
    if (cin_max > 512)
        cin_max = 512; /* keeps the case small; u8/s8 are far from the bound there */
    for (int mode = 1; mode <= 2; mode++)
        for (int ext = 0; ext <= 1; ext++, n++)
            ck_assert(conv_case(&r, k, s, in, out, 3, 4, cin_max, 5, mode, ext, 0, 0));
    ck_assert_int_eq(n, 14); /* every case above was a valid descriptor */
    printf("nl_conv_%s_cl k%d s%d -> %s: %d cases bit-exact\n", tu_type_name(in), k, s, tu_type_name(out), n);
}
END_TEST

/* ------------------------------------------------------------ element-wise */

START_TEST(requant_bit_exact)
{
    require_device();
    rng r = { 77 };
    int n = 0;
    for (int st = 0; st < NL_NTYPES; st++)
        for (int dt = 0; dt < NL_NTYPES; dt++)
            for (int rep = 0; rep < 4; rep++, n++) {
                int h = rng_range(&r, 1, 6), w = rng_range(&r, 1, 9), c = rng_range(&r, 1, 33);
                int32_t lo, hi;
                nl_type_range((nl_type)st, &lo, &hi);
                nl_tensor x = tensor_new(&r, h, w, c, (nl_type)st, rep == 1 ? 2 : 0, 0, lo, hi);
                rq_arrays a;
                rq_fill(&r, &a, c, rep >= 2, rep != 3);
                nl_requant rq = { a.bias, a.mult, a.shift, 0, 0 };
                clamp_range(&r, (nl_type)dt, rep == 1, &rq.lo, &rq.hi);
                nl_tensor want = tensor_like(h, w, c, (nl_type)dt, 0, 1);
                nl_tensor got = tensor_like(h, w, c, (nl_type)dt, 0, 2);
                nl_requant_ref(&rq, &x, &want, 0, h);
                ck_assert_int_eq(nl_cl_requant(&rq, &x, &got), 0);
                ck_assert_msg(rows_equal(&want, &got), "nl_requant_cl %s -> %s rep %d differs",
                              tu_type_name((nl_type)st), tu_type_name((nl_type)dt), rep);
                free(x.data);
                free(want.data);
                free(got.data);
                rq_free(&a);
            }
    /* Exact ties of the rounding rule (x * m == (2k + 1) * 2^(s-1)), where
     * round-half-up differs from every other rounding, at large shifts:
     * per channel (m, s) and s32 sources x, x +- 1 around the ties. */
    static const int32_t tm[] = { 1, 1 << 30, 1 << 30, 1 << 30, 3, INT32_MAX };
    static const uint8_t ts[] = { 1, 31, 61, 62, 1, 62 };
    static const int32_t tx[] = { 1, -1, 3, -3, 1 << 30, -(1 << 30), INT32_MIN, INT32_MAX,
                                  (1 << 30) + 1, -(1 << 30) - 1, 0, 5 };
    const int c = NELEM(tm), w = NELEM(tx);
    for (int dt = 0; dt < NL_NTYPES; dt++, n++) {
        nl_tensor x = tensor_like(1, w, c, NL_S32, 0, 0);
        for (int i = 0; i < w; i++)
            for (int ch = 0; ch < c; ch++)
                tu_put(x.data, NL_S32, (size_t)i * c + ch, tx[i]);
        nl_requant rq = { NULL, tm, ts, 0, 0 };
        nl_type_range((nl_type)dt, &rq.lo, &rq.hi);
        nl_tensor want = tensor_like(1, w, c, (nl_type)dt, 0, 1);
        nl_tensor got = tensor_like(1, w, c, (nl_type)dt, 0, 2);
        nl_requant_ref(&rq, &x, &want, 0, 1);
        ck_assert_int_eq(nl_cl_requant(&rq, &x, &got), 0);
        ck_assert_msg(rows_equal(&want, &got), "nl_requant_cl ties -> %s differ", tu_type_name((nl_type)dt));
        free(x.data);
        free(want.data);
        free(got.data);
    }
    printf("nl_requant_cl: %d cases bit-exact (every source and destination type, exact ties)\n", n);
}
END_TEST

START_TEST(add_bit_exact)
{
    require_device();
    rng r = { 99 };
    int n = 0;
    for (int at = 0; at < 3; at++)
        for (int bt = 0; bt < 3; bt++)
            for (int dt = 0; dt < NL_NTYPES; dt++)
                for (int rep = 0; rep < 2; rep++, n++) {
                    int h = rng_range(&r, 1, 5), w = rng_range(&r, 1, 8), c = rng_range(&r, 1, 20);
                    int32_t lo, hi;
                    in_range((nl_type)at, &lo, &hi);
                    nl_tensor a = tensor_new(&r, h, w, c, (nl_type)at, rep, rep ? 1 : 0, lo, hi);
                    in_range((nl_type)bt, &lo, &hi);
                    nl_tensor b = tensor_new(&r, h, w, c, (nl_type)bt, 0, rep ? 2 : 0, lo, hi);
                    rq_arrays ma, mb;
                    rq_fill(&r, &ma, c, rep, 0);
                    rq_fill(&r, &mb, c, rep, 0);
                    nl_add_desc d = { ma.mult, mb.mult, ma.shift, 0, 0 };
                    clamp_range(&r, (nl_type)dt, 0, &d.lo, &d.hi);
                    nl_tensor want = tensor_like(h, w, c, (nl_type)dt, 0, 1);
                    nl_tensor got = tensor_like(h, w, c, (nl_type)dt, 0, 2);
                    nl_add_ref(&d, &a, &b, &want, 0, h);
                    ck_assert_int_eq(nl_cl_add(&d, &a, &b, &got), 0);
                    ck_assert_msg(rows_equal(&want, &got), "nl_add_cl %s + %s -> %s differs",
                                  tu_type_name((nl_type)at), tu_type_name((nl_type)bt), tu_type_name((nl_type)dt));
                    free(a.data);
                    free(b.data);
                    free(want.data);
                    free(got.data);
                    rq_free(&ma);
                    rq_free(&mb);
                }
    printf("nl_add_cl: %d cases bit-exact (u8/s8/s16 operands, every output type)\n", n);
}
END_TEST

START_TEST(clamp_bit_exact)
{
    require_device();
    rng r = { 5 };
    int n = 0;
    for (int t = 0; t < NL_NTYPES; t++)
        for (int rep = 0; rep < 3; rep++, n++) {
            int h = rng_range(&r, 1, 5), w = rng_range(&r, 1, 8), c = rng_range(&r, 1, 20);
            int32_t lo, hi, clo, chi;
            nl_type_range((nl_type)t, &lo, &hi);
            nl_tensor want = tensor_new(&r, h, w, c, (nl_type)t, rep, 0, lo, hi);
            nl_tensor got = tensor_like(h, w, c, (nl_type)t, rep, 0);
            memcpy(got.data, want.data, tensor_size(&want));
            clamp_range(&r, (nl_type)t, rep != 0, &clo, &chi);
            nl_clamp_ref(&want, clo, chi, 0, h);
            ck_assert_int_eq(nl_cl_clamp(&got, clo, chi), 0);
            ck_assert_msg(!memcmp(want.data, got.data, tensor_size(&want)),
                          "nl_clamp_cl %s differs (or wrote the row slack)", tu_type_name((nl_type)t));
            free(want.data);
            free(got.data);
        }
    printf("nl_clamp_cl: %d cases bit-exact (every type)\n", n);
}
END_TEST

START_TEST(shuffle_bit_exact)
{
    require_device();
    rng r = { 11 };
    static const int rs[] = { 2, 3, 4, 8 };
    int n = 0;
    for (int t = 0; t < NL_NTYPES; t++)
        for (int ri = 0; ri < NELEM(rs); ri++, n++) {
            const int f = rs[ri];
            int h = f * rng_range(&r, 1, 3), w = f * rng_range(&r, 1, 3), c = rng_range(&r, 1, 7);
            int32_t lo, hi;
            nl_type_range((nl_type)t, &lo, &hi);
            nl_tensor x = tensor_new(&r, h, w, c, (nl_type)t, ri & 1, 0, lo, hi);
            nl_tensor want = tensor_like(h / f, w / f, c * f * f, (nl_type)t, 0, 1);
            nl_tensor got = tensor_like(h / f, w / f, c * f * f, (nl_type)t, 0, 2);
            nl_s2d_ref(&x, &want, f, 0, want.h);
            ck_assert_int_eq(nl_cl_s2d(&x, &got, f), 0);
            ck_assert_msg(rows_equal(&want, &got), "nl_s2d_cl %s r %d differs", tu_type_name((nl_type)t), f);
            nl_tensor back = tensor_like(h, w, c, (nl_type)t, 0, 1);
            nl_tensor back_cl = tensor_like(h, w, c, (nl_type)t, 0, 2);
            nl_d2s_ref(&want, &back, f, 0, h);
            ck_assert_int_eq(nl_cl_d2s(&want, &back_cl, f), 0);
            ck_assert_msg(rows_equal(&back, &back_cl), "nl_d2s_cl %s r %d differs", tu_type_name((nl_type)t), f);
            ck_assert(rows_equal(&back, &x));
            free(x.data);
            free(want.data);
            free(got.data);
            free(back.data);
            free(back_cl.data);
        }
    printf("nl_s2d_cl, nl_d2s_cl: %d cases each bit-exact (every type, r 2, 3, 4, 8)\n", n);
}
END_TEST

START_TEST(concat_bit_exact)
{
    require_device();
    rng r = { 13 };
    int n = 0;
    for (int t = 0; t < NL_NTYPES; t++)
        for (int rep = 0; rep < 3; rep++, n++) {
            int h = rng_range(&r, 1, 5), w = rng_range(&r, 1, 8), ca = rng_range(&r, 1, 20), cb = rng_range(&r, 1, 20);
            int32_t lo, hi;
            nl_type_range((nl_type)t, &lo, &hi);
            nl_tensor a = tensor_new(&r, h, w, ca, (nl_type)t, rep, 0, lo, hi);
            nl_tensor b = tensor_new(&r, h, w, cb, (nl_type)t, 0, 0, lo, hi);
            nl_tensor want = tensor_like(h, w, ca + cb, (nl_type)t, 0, 1);
            nl_tensor got = tensor_like(h, w, ca + cb, (nl_type)t, 0, 2);
            nl_concat_ref(&a, &b, &want, 0, h);
            ck_assert_int_eq(nl_cl_concat(&a, &b, &got), 0);
            ck_assert_msg(rows_equal(&want, &got), "nl_concat_cl %s differs", tu_type_name((nl_type)t));
            free(a.data);
            free(b.data);
            free(want.data);
            free(got.data);
        }
    printf("nl_concat_cl: %d cases bit-exact (every type)\n", n);
}
END_TEST

/* ------------------------------------------------------------ OBMC */

/* Planes of w x h (luma) with strides wider than the plane. */
static void picture_new(nv_picture *p, int w, int h)
{
    const ptrdiff_t ls = w + 5, cs = w / 2 + 3;
    memset(p, 0, sizeof(*p));
    p->mem = calloc((size_t)(ls * h + 2 * cs * (h / 2)), 1);
    ck_assert_ptr_nonnull(p->mem);
    p->data[0] = p->mem;
    p->data[1] = p->mem + ls * h;
    p->data[2] = p->data[1] + cs * (h / 2);
    p->stride[0] = ls;
    p->stride[1] = p->stride[2] = cs;
    p->width[0] = w;
    p->height[0] = h;
    p->width[1] = p->width[2] = w / 2;
    p->height[1] = p->height[2] = h / 2;
}

START_TEST(obmc_bit_exact)
{
    require_device();
    rng r = { 17 };
    static const int sizes[][2] = { { 16, 16 }, { 32, 16 }, { 48, 32 }, { 80, 64 }, { 128, 48 } };
    int n = 0;
    for (int si = 0; si < NELEM(sizes); si++)
        for (int mode = 0; mode < 4; mode++, n++) {
            const int w = sizes[si][0], h = sizes[si][1], wb = w / 16, hb = h / 16;
            nv_picture ref, pred;
            picture_new(&ref, w, h);
            picture_new(&pred, w, h);
            for (int p = 0; p < 3; p++)
                for (int y = 0; y < ref.height[p]; y++)
                    for (int x = 0; x < ref.width[p]; x++)
                        ref.data[p][(ptrdiff_t)y * ref.stride[p] + x] =
                            (uint8_t)(mode == 3 ? ((x / 3 + y) & 1) * 255 : rng_range(&r, 0, 255));
            /* mv_stride wb + 1: the row slack must not be read. */
            const ptrdiff_t ms = wb + 1;
            nv_mv *mvs = calloc((size_t)ms * (size_t)hb, sizeof(*mvs));
            ck_assert_ptr_nonnull(mvs);
            for (int i = 0; i < ms * hb; i++) {
                int v = rng_range(&r, 0, 9);
                if (mode == 0) { /* small, with repeats so that cells share vectors */
                    mvs[i].x = (int16_t)(v < 4 ? 0 : rng_range(&r, -9, 9));
                    mvs[i].y = (int16_t)(v < 4 ? 0 : rng_range(&r, -9, 9));
                } else if (mode == 1) { /* the coded range, limits included */
                    mvs[i].x = (int16_t)(v < 3 ? NV_MV_MIN : v < 6 ? NV_MV_MAX : rng_range(&r, NV_MV_MIN, NV_MV_MAX));
                    mvs[i].y = (int16_t)rng_range(&r, NV_MV_MIN, NV_MV_MAX);
                } else { /* any int16 */
                    mvs[i].x = (int16_t)(v < 2 ? INT16_MIN : v < 4 ? INT16_MAX : rng_range(&r, INT16_MIN, INT16_MAX));
                    mvs[i].y = (int16_t)(v < 2 ? INT16_MAX : rng_range(&r, INT16_MIN, INT16_MAX));
                }
            }
            nl_tensor want = tensor_like(h / 2, w / 2, 6, NL_U8, 0, 1);
            nl_tensor got = tensor_like(h / 2, w / 2, 6, NL_U8, 0, 2);
            nv_mc_obmc_picture(&pred, &ref, mvs, ms);
            nv_x6_pack(&pred, &want);
            nl_cl_mc *mc = NULL;
            char err[256];
            ck_assert_int_eq(nl_cl_mc_new(&mc, w, h, err, sizeof(err)), 0);
            const uint8_t *const planes[3] = { ref.data[0], ref.data[1], ref.data[2] };
            const ptrdiff_t strides[3] = { ref.stride[0], ref.stride[1], ref.stride[2] };
            ck_assert_int_eq(nl_cl_mc_obmc_x6(mc, planes, strides, (const int16_t *)mvs, ms, &got), 0);
            ck_assert_msg(rows_equal(&want, &got), "nl_mc_obmc_x6_cl %dx%d mode %d differs", w, h, mode);
            nl_cl_mc_free(&mc);
            free(mvs);
            free(want.data);
            free(got.data);
            free(ref.mem);
            free(pred.mem);
        }
    printf("nl_mc_obmc_x6_cl: %d pictures bit-exact with nv_mc_obmc_picture + nv_x6_pack\n", n);
}
END_TEST

/* ------------------------------------------------------------ executor */

/* Every graph of the model on the CPU and on OpenCL (executors of their
 * own), random inputs, outputs compared; then the codec's executor sets
 * (nv_nets), whose inter graphs take pt and pf from inter.pred on the
 * device (linked, not read back), compared through their outputs. */
static void nets_compare(const nv_model *m, int wp, int hp, rng *r)
{
    nl_dsp cpu, ocl;
    char err[256];
    nl_dsp_init(&cpu, 0);
    ck_assert_int_eq(nl_dsp_init_cpu(&ocl, NEUVC_CPU_OPENCL), 0);
    const nl_graph *const gs[] = { m->analysis, m->hyper_analysis, m->hyper_synthesis,
                                   m->synthesis, m->inter.pred, m->inter.analysis,
                                   m->inter.hyper_analysis, m->inter.hyper_synthesis,
                                   m->inter.synthesis };
    /* Input sizes per graph (docs/codec.md): x6-level, pt-level, latent, hyper. */
    const int xs[2] = { hp / 2, wp / 2 }, ts[2] = { hp / 8, wp / 8 }, ls[2] = { hp / 16, wp / 16 },
              zs[2] = { hp / 64, wp / 64 };
    const int *const sz[9][3] = {
        { xs }, { ls }, { zs }, { ls }, { xs }, { xs, xs, ts }, { ls }, { zs, ls }, { ls, ts, xs },
    };
    for (int gi = 0; gi < 9; gi++) {
        const nl_graph *g = gs[gi];
        nl_graph_exec *ea = NULL, *eb = NULL;
        nl_tensor in[NL_GRAPH_MAX_IO], oa[NL_GRAPH_MAX_IO], ob[NL_GRAPH_MAX_IO];
        int h[NL_GRAPH_MAX_IO], w[NL_GRAPH_MAX_IO];
        ck_assert_int_eq(nl_graph_exec_new_dsp(&ea, g, &cpu), 0);
        ck_assert_int_eq(nl_graph_exec_new_dsp(&eb, g, &ocl), 0);
        ck_assert_int_eq(nl_graph_exec_on_device(eb), 1);
        for (uint32_t i = 0; i < g->n_inputs; i++) {
            int32_t lo, hi;
            h[i] = sz[gi][i][0];
            w[i] = sz[gi][i][1];
            in_range((nl_type)g->inputs[i].type, &lo, &hi);
            in[i] = tensor_new(r, h[i], w[i], (int)g->inputs[i].c, (nl_type)g->inputs[i].type,
                               (int)i, 0, lo, hi);
        }
        ck_assert_int_eq(nl_graph_prepare(ea, h, w), 0);
        ck_assert_msg(nl_graph_prepare(eb, h, w) == 0, "%s: %s", g->name, nl_graph_exec_error(eb));
        ck_assert_int_eq(nl_graph_run(ea, in, oa, NULL), 0);
        ck_assert_msg(nl_graph_run(eb, in, ob, NULL) == 0, "%s: %s", g->name,
                      nl_graph_exec_error(eb));
        for (uint32_t i = 0; i < g->n_outputs; i++)
            ck_assert_msg(rows_equal(&oa[i], &ob[i]), "graph %s at %dx%d: output %u differs",
                          g->name, wp, hp, (unsigned)i);
        ck_assert_uint_eq(nl_graph_exec_macs(ea), nl_graph_exec_macs(eb));
        for (uint32_t i = 0; i < g->n_inputs; i++)
            free(in[i].data);
        nl_graph_exec_free(&ea);
        nl_graph_exec_free(&eb);
    }
    nv_nets a, b;
    ck_assert_msg(nv_nets_open(&a, m, wp, hp, 1, &cpu, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(nv_nets_open(&b, m, wp, hp, 1, &ocl, err, sizeof(err)) == 0, "%s", err);
    nl_tensor p6 = tensor_new(r, xs[0], xs[1], 6, NL_U8, 0, 0, 0, 255);
    nl_tensor x6 = tensor_new(r, xs[0], xs[1], 6, NL_U8, 0, 0, 0, 255);
    nl_tensor z = tensor_new(r, zs[0], zs[1], m->cz, NL_S16, 0, 0, -40, 40);
    nl_tensor yd = tensor_new(r, ls[0], ls[1], m->cy, NL_S16, 0, 0, -64, 64);
    nl_tensor pa[2], pb[2], ya, yb, ra, rb, ha[2], hb[2];
    for (int rep = 0; rep < 2; rep++) { /* twice: the second run reuses every binding */
        ck_assert_int_eq(nl_graph_run(a.pred, &p6, pa, NULL), 0);
        ck_assert_int_eq(nl_graph_run(b.pred, &p6, pb, NULL), 0);
        const nl_tensor ia[3] = { x6, p6, pa[0] }, ib[3] = { x6, p6, pb[0] };
        ck_assert_int_eq(nl_graph_run(a.inter_analysis, ia, &ya, NULL), 0);
        ck_assert_int_eq(nl_graph_run(b.inter_analysis, ib, &yb, NULL), 0);
        ck_assert_msg(rows_equal(&ya, &yb), "linked inter.analysis differs");
        const nl_tensor za[2] = { z, pa[1] }, zb[2] = { z, pb[1] };
        ck_assert_int_eq(nl_graph_run(a.inter_hyper_synthesis, za, ha, NULL), 0);
        ck_assert_int_eq(nl_graph_run(b.inter_hyper_synthesis, zb, hb, NULL), 0);
        ck_assert_msg(rows_equal(&ha[0], &hb[0]) && rows_equal(&ha[1], &hb[1]),
                      "linked inter.hyper_synthesis differs");
        const nl_tensor sa[3] = { yd, pa[0], p6 }, sb[3] = { yd, pb[0], p6 };
        ck_assert_int_eq(nl_graph_run(a.inter_synthesis, sa, &ra, NULL), 0);
        ck_assert_int_eq(nl_graph_run(b.inter_synthesis, sb, &rb, NULL), 0);
        ck_assert_msg(rows_equal(&ra, &rb), "linked inter.synthesis differs");
        ((uint8_t *)p6.data)[rep] ^= 0x55; /* a new prediction for the second pass */
    }
    free(p6.data);
    free(x6.data);
    free(z.data);
    free(yd.data);
    nv_nets_close(&a);
    nv_nets_close(&b);
}

/* The OpenCL executor refuses what the CPU one refuses, with a message. */
START_TEST(executor_bad_input)
{
    require_device();
    nv_model *m = NULL;
    char err[256];
    ck_assert_msg(nv_model_open(&m, NULL, err, sizeof(err)) == 0, "%s", err);
    nl_dsp ocl;
    ck_assert_int_eq(nl_dsp_init_cpu(&ocl, NEUVC_CPU_OPENCL), 0);
    nl_graph_exec *ex = NULL;
    ck_assert_int_eq(nl_graph_exec_new_dsp(&ex, m->analysis, &ocl), 0);
    nl_tensor x = tensor_like(32, 32, 6, NL_U8, 0, 0), out;
    ck_assert_int_eq(nl_graph_run(ex, &x, &out, NULL), NEUVC_ERR(EINVAL)); /* not prepared */
    int h = 30, w = 32; /* s2d by 4 of 30 rows */
    ck_assert_int_eq(nl_graph_prepare(ex, &h, &w), NEUVC_ERR(EINVAL));
    ck_assert_ptr_nonnull(strstr(nl_graph_exec_error(ex), "not divisible"));
    h = 0;
    ck_assert_int_eq(nl_graph_prepare(ex, &h, &w), NEUVC_ERR(ERANGE));
    h = 32;
    ck_assert_int_eq(nl_graph_prepare(ex, &h, &w), 0);
    ck_assert_ptr_nonnull(nl_graph_output(ex, 0));
    ck_assert_ptr_null(nl_graph_output(ex, 1));
    x.c = 5; /* wrong channel count */
    ck_assert_int_eq(nl_graph_run(ex, &x, &out, NULL), NEUVC_ERR(EINVAL));
    ck_assert_ptr_nonnull(strstr(nl_graph_exec_error(ex), "input 0"));
    x.c = 6;
    void *mem = x.data;
    x.data = NULL;
    ck_assert_int_eq(nl_graph_run(ex, &x, &out, NULL), NEUVC_ERR(EINVAL));
    x.data = mem;
    ck_assert_int_eq(nl_graph_run(ex, &x, &out, NULL), 0);
    ck_assert_int_eq(out.h, 4); /* x6 at 1/2, the latent at 1/16 */
    ck_assert_int_eq(out.c, m->cy);
    ck_assert_int_eq(nl_graph_exec_link(ex, 1, ex, 0), NEUVC_ERR(EINVAL)); /* no input 1 */
    free(x.data);
    nl_graph_exec_free(&ex);
    ck_assert_ptr_null(ex);
    nv_model_close(&m);
}
END_TEST

START_TEST(executor_equals_cpu)
{
    require_device();
    nv_model *m = NULL;
    char err[256];
    ck_assert_msg(nv_model_open(&m, NULL, err, sizeof(err)) == 0, "%s", err);
    ck_assert(m->has_inter);
    rng r = { 21 };
    nets_compare(m, 64, 64, &r);
    nets_compare(m, 192, 128, &r);
    nv_model_close(&m);
    printf("executor: the 9 graphs of the default model at 64x64 and 192x128 equal the CPU's\n");
}
END_TEST

/* ------------------------------------------------------------ codec */

#define NFRAMES 5
#define CW 99
#define CH 70
#define CSIZE TU_FRAME_BYTES(CW, CH)

static uint8_t clip[NFRAMES][CSIZE];

typedef tu_stream stream;

static void encode(stream *s, NeuvcCpu cpu)
{
    NeuvcEncSettings es;
    tu_enc_settings(&es, CW, CH, 30, 4, cpu);
    tu_encode_ck(s, &es, clip[0], NFRAMES);
}

static void decode_check(const stream *s, NeuvcCpu cpu, const char *what)
{
    NeuvcDecSettings ds;
    static uint8_t buf[NFRAMES][CSIZE];
    char err[128];
    neuvc_dec_default_settings(&ds);
    ds.cpu = cpu;
    ds.log_level = 0;
    int ret = tu_decode(s, &ds, CW, CH, buf[0], err, sizeof(err));
    ck_assert_msg(ret == 0, "%s: %s", what, err);
    for (int k = 0; k < NFRAMES; k++)
        ck_assert_msg(!memcmp(buf[k], s->recon[k], CSIZE), "%s: frame %d differs from the "
                      "encoder's reconstruction", what, k);
}

START_TEST(codec_cpu_opencl_identical)
{
    require_device();
    static stream cpu, ocl;
    tu_clip_crop_ck(clip[0], NFRAMES, CW, CH, 150, 60);
    encode(&cpu, NEUVC_CPU_AUTO);
    encode(&ocl, NEUVC_CPU_OPENCL);
    for (int k = 0; k < NFRAMES; k++) {
        ck_assert_msg(cpu.size[k] == ocl.size[k] && !memcmp(cpu.pkt[k], ocl.pkt[k], cpu.size[k]),
                      "packet %d: OpenCL encoder differs from the CPU's", k);
        ck_assert_msg(!memcmp(cpu.recon[k], ocl.recon[k], CSIZE),
                      "reconstruction %d: OpenCL encoder differs from the CPU's", k);
    }
    decode_check(&cpu, NEUVC_CPU_OPENCL, "encoded on the CPU, decoded on OpenCL");
    decode_check(&ocl, NEUVC_CPU_AUTO, "encoded on OpenCL, decoded on the CPU");
    decode_check(&ocl, NEUVC_CPU_OPENCL, "encoded on OpenCL, decoded on OpenCL");
    size_t bytes = 0;
    for (int k = 0; k < NFRAMES; k++) {
        bytes += cpu.size[k];
    }
    tu_stream_free(&cpu);
    tu_stream_free(&ocl);
    printf("codec: %dx%d, %d frames (I P P P I), %zu bytes: CPU (%s) and OpenCL encoders give "
           "the same packets and reconstructions; CPU->OpenCL and OpenCL->CPU decodes equal the "
           "encoder's reconstruction\n", CW, CH, NFRAMES, bytes,
           nl_dsp_level_name(nl_dsp_default()));
}
END_TEST

/* ------------------------------------------------------------ main */

static Suite *opencl_suite(void)
{
    Suite *s = suite_create("opencl");
    TCase *tc = tcase_create("opencl");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, cl_api_abi);
    tcase_add_loop_test(tc, conv_bit_exact, 0, 64);
    tcase_add_test(tc, requant_bit_exact);
    tcase_add_test(tc, add_bit_exact);
    tcase_add_test(tc, clamp_bit_exact);
    tcase_add_test(tc, shuffle_bit_exact);
    tcase_add_test(tc, concat_bit_exact);
    tcase_add_test(tc, obmc_bit_exact);
    tcase_add_test(tc, executor_equals_cpu);
    tcase_add_test(tc, executor_bad_input);
    tcase_add_test(tc, codec_cpu_opencl_identical);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char err[256];
    const char *ci = getenv("CI"), *req = getenv("NEUVC_OPENCL_REQUIRED");
    const int required = (ci && !strcmp(ci, "true")) || (req && !strcmp(req, "1"));
    if (nl_cl_get(NULL, err, sizeof(err)) < 0 && !required) {
        printf("OpenCL suite SKIPPED: %s (CI=true or NEUVC_OPENCL_REQUIRED=1 makes this a "
               "failure)\n", err);
        return 77;
    }
    SRunner *sr = srunner_create(opencl_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
