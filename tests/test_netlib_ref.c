/* netlib reference kernels (netlib/ref) and descriptor checks (netlib.c):
 * hand-computed cases for every op, the rounding rule at its ties and
 * extremes, saturation of every output type, layout invariants (row
 * ranges, row strides, channel orders), and a randomized comparison of the
 * convolution with an independent naive formulation written here. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "neuvc/neuvc.h"
#include "netlib/netlib.h"

#define CANARY 0xA5
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ----------------------------------------------------------- helpers */

static size_t esize(nl_type t)
{
    return t == NL_S32 ? 4 : t == NL_S16 ? 2 : 1;
}

/* h x w x c tensor with row stride `stride`, every byte set to CANARY. */
static nl_tensor tnew(int h, int w, int c, ptrdiff_t stride, nl_type type)
{
    nl_tensor t = { NULL, h, w, c, stride, type };
    size_t bytes = (size_t)h * (size_t)stride * esize(type);
    t.data = malloc(bytes);
    ck_assert_ptr_nonnull(t.data);
    memset(t.data, CANARY, bytes);
    return t;
}

static nl_tensor tnew_packed(int h, int w, int c, nl_type type)
{
    return tnew(h, w, c, (ptrdiff_t)w * c, type);
}

static void tfree(nl_tensor *t)
{
    free(t->data);
    t->data = NULL;
}

static unsigned char *taddr(const nl_tensor *t, int y, int x, int c)
{
    size_t i = (size_t)y * (size_t)t->stride + (size_t)x * (size_t)t->c + (size_t)c;
    return (unsigned char *)t->data + i * esize(t->type);
}

static int32_t tget(const nl_tensor *t, int y, int x, int c)
{
    const unsigned char *p = taddr(t, y, x, c);
    switch (t->type) {
    case NL_U8: return *p;
    case NL_S8: { int8_t v; memcpy(&v, p, 1); return v; }
    case NL_S16: { int16_t v; memcpy(&v, p, 2); return v; }
    default: { int32_t v; memcpy(&v, p, 4); return v; }
    }
}

static void tset(nl_tensor *t, int y, int x, int c, int32_t v)
{
    unsigned char *p = taddr(t, y, x, c);
    switch (t->type) {
    case NL_U8: *p = (unsigned char)v; break;
    case NL_S8: { int8_t b = (int8_t)v; memcpy(p, &b, 1); break; }
    case NL_S16: { int16_t s = (int16_t)v; memcpy(p, &s, 2); break; }
    default: memcpy(p, &v, 4); break;
    }
}

/* Fill from / compare with values listed in HWC order. */
static void tfill(nl_tensor *t, const int32_t *v)
{
    int n = 0;
    for (int y = 0; y < t->h; y++)
        for (int x = 0; x < t->w; x++)
            for (int c = 0; c < t->c; c++)
                tset(t, y, x, c, v[n++]);
}

static void tfill_const(nl_tensor *t, int32_t v)
{
    for (int y = 0; y < t->h; y++)
        for (int x = 0; x < t->w; x++)
            for (int c = 0; c < t->c; c++)
                tset(t, y, x, c, v);
}

static void texpect(const nl_tensor *t, const int32_t *exp, const char *what)
{
    int n = 0;
    for (int y = 0; y < t->h; y++)
        for (int x = 0; x < t->w; x++)
            for (int c = 0; c < t->c; c++, n++) {
                int32_t got = tget(t, y, x, c);
                ck_assert_msg(got == exp[n], "%s: (y %d, x %d, c %d) is %d, expected %d",
                              what, y, x, c, (int)got, (int)exp[n]);
            }
}

/* Every byte between w*c and stride of every row still holds CANARY. */
static int canary_intact(const nl_tensor *t)
{
    size_t es = esize(t->type);
    for (int y = 0; y < t->h; y++) {
        const unsigned char *row = (const unsigned char *)t->data + (size_t)y * (size_t)t->stride * es;
        for (size_t b = (size_t)t->w * (size_t)t->c * es; b < (size_t)t->stride * es; b++)
            if (row[b] != CANARY)
                return 0;
    }
    return 1;
}

/* Same values (not bytes: strides may differ). */
static int tsame(const nl_tensor *p, const nl_tensor *q)
{
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++)
            for (int c = 0; c < p->c; c++)
                if (tget(p, y, x, c) != tget(q, y, x, c))
                    return 0;
    return 1;
}

static void trange(nl_type t, int32_t *lo, int32_t *hi)
{
    nl_type_range(t, lo, hi);
}

/* A convolution descriptor with its own arrays. */
typedef struct conv_case {
    nl_conv_desc d;
    int8_t *w;
    int32_t *bias, *mult;
    uint8_t *shift;
} conv_case;

/* Weights from wv (NULL: all zero), bias from bv (NULL: no bias), one
 * multiplier and shift for every output channel, the out type's range. */
static conv_case conv_new(int k, int stride, int cin, int cout, nl_type in, nl_type out,
                          const int8_t *wv, const int32_t *bv, int32_t m, int s)
{
    conv_case cc;
    size_t nw = (size_t)cout * (size_t)(k * k) * (size_t)cin;
    cc.w = calloc(nw, 1);
    cc.bias = bv ? malloc((size_t)cout * sizeof(int32_t)) : NULL;
    cc.mult = malloc((size_t)cout * sizeof(int32_t));
    cc.shift = malloc((size_t)cout);
    ck_assert(cc.w && cc.mult && cc.shift && (!bv || cc.bias));
    if (wv)
        memcpy(cc.w, wv, nw);
    for (int o = 0; o < cout; o++) {
        if (bv)
            cc.bias[o] = bv[o];
        cc.mult[o] = m;
        cc.shift[o] = (uint8_t)s;
    }
    memset(&cc.d, 0, sizeof(cc.d));
    cc.d.k = k;
    cc.d.stride = stride;
    cc.d.cin = cin;
    cc.d.cout = cout;
    cc.d.in_type = in;
    cc.d.out_type = out;
    cc.d.weight = cc.w;
    cc.d.rq.bias = cc.bias;
    cc.d.rq.mult = cc.mult;
    cc.d.rq.shift = cc.shift;
    trange(out, &cc.d.rq.lo, &cc.d.rq.hi);
    return cc;
}

static void conv_free(conv_case *cc)
{
    free(cc->w);
    free(cc->bias);
    free(cc->mult);
    free(cc->shift);
}

/* Runs the whole convolution into a new packed tensor. */
static nl_tensor conv_run(const conv_case *cc, const nl_tensor *src)
{
    ck_assert_int_eq(nl_conv_check(&cc->d), 0);
    int ho = nl_conv_out_size(src->h, cc->d.stride), wo = nl_conv_out_size(src->w, cc->d.stride);
    nl_tensor dst = tnew_packed(ho, wo, cc->d.cout, cc->d.out_type);
    nl_conv_ref(&cc->d, src, &dst, 0, ho, NULL);
    return dst;
}

/* ------------------------------------------------------- type helpers */

START_TEST(type_helpers)
{
    int32_t lo, hi;
    ck_assert_uint_eq(nl_type_size(NL_U8), 1);
    ck_assert_uint_eq(nl_type_size(NL_S8), 1);
    ck_assert_uint_eq(nl_type_size(NL_S16), 2);
    ck_assert_uint_eq(nl_type_size(NL_S32), 4);
    nl_type_range(NL_U8, &lo, &hi);
    ck_assert(lo == 0 && hi == 255);
    nl_type_range(NL_S8, &lo, &hi);
    ck_assert(lo == -128 && hi == 127);
    /* The s16 literals of this file assume NL_S16_MAX = 4096. */
    ck_assert_int_eq(NL_S16_MAX, 4096);
    nl_type_range(NL_S16, &lo, &hi);
    ck_assert(lo == -4096 && hi == 4096);
    nl_type_range(NL_S32, &lo, &hi);
    ck_assert(lo == INT32_MIN && hi == INT32_MAX);
    ck_assert_int_eq(nl_conv_out_size(5, 1), 5);
    ck_assert_int_eq(nl_conv_out_size(5, 2), 3);
    ck_assert_int_eq(nl_conv_out_size(4, 2), 2);
    ck_assert_int_eq(nl_conv_out_size(1, 2), 1);
}
END_TEST

/* ------------------------------------------------- the rounding rule */

/* One s32 pixel, one channel per case, through nl_requant_ref to s32. */
static void requant_cases(const int32_t *x, const int32_t *bias, const int32_t *m,
                          const uint8_t *s, const int32_t *exp, int n)
{
    nl_tensor src = tnew_packed(1, 1, n, NL_S32), dst = tnew_packed(1, 1, n, NL_S32);
    tfill(&src, x);
    nl_requant rq = { bias, m, s, INT32_MIN, INT32_MAX };
    ck_assert_int_eq(nl_requant_check(&rq, n, NL_S32), 0);
    nl_requant_ref(&rq, &src, &dst, 0, 1);
    texpect(&dst, exp, "requant");
    tfree(&src);
    tfree(&dst);
}

START_TEST(rounding_ties)
{
    /* value x*m/2^s                    2.5  -2.5  1.5  -1.5  -0.5  0.5
     * 3.75  -3.75  -2.5  2.5  -2.75 -2.5  (round half towards +infinity) */
    static const int32_t x[] = { 5, -5, 3, -3, -1, 1, 3, -3, -2, 2, -11, -10 };
    static const int32_t m[] = { 1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 1, 1 };
    static const uint8_t s[] = { 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2 };
    static const int32_t e[] = { 3, -2, 2, -1, 0, 1, 4, -4, -2, 3, -3, -2 };
    requant_cases(x, NULL, m, s, e, NELEM(x));
}
END_TEST

START_TEST(rounding_shift0)
{
    /* s = 0: exactly x * m, no rounding term. */
    static const int32_t x[] = { 7, -7, 100000, -1, 0 };
    static const int32_t m[] = { 3, 3, 1000, 2147483647, 2147483647 };
    static const uint8_t s[] = { 0, 0, 0, 0, 0 };
    static const int32_t e[] = { 21, -21, 100000000, -2147483647, 0 };
    requant_cases(x, NULL, m, s, e, NELEM(x));
}
END_TEST

START_TEST(rounding_shift62)
{
    /* With B = NL_BIAS_MAX = 2^30 - 1, M = 2^31 - 1:
     * c0 (2^31-1)*M / 2^62 = 1 - 2^-30 + 2^-62        -> 1
     * c1 -2^31 * M / 2^62  = -1 + 2^-31                -> -1
     * c2 2^30 * M / 2^62   = 0.5 - 2^-32               -> 0
     * c3 (2^31-1 + 1) * 2^30 / 2^62 = 0.5 exactly      -> 1 (tie up)
     * c4 -2^31 * 2^30 / 2^62 = -0.5 exactly            -> 0 (tie up)
     * c5 (2^31-1 + B) * M / 2^62 = (3*2^61 - 7*2^30 + 2) / 2^62
     *    = 1.5 - tiny, and x*m + 2^61 = 2^63 - 7*2^30 + 2 < 2^63: no overflow -> 1
     * c6 (-2^31 - B) * M / 2^62 = (-3*2^61 + 5*2^30 - 1) / 2^62
     *    = -1.5 + tiny                                 -> -1
     * c7 as c5 with s = 61: 3 - tiny                   -> 3
     * c8 as c6 with s = 61: -3 + tiny                  -> -3 */
    static const int32_t x[] = { INT32_MAX, INT32_MIN, 1 << 30, INT32_MAX, INT32_MIN,
                                 INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN };
    static const int32_t b[] = { 0, 0, 0, 1, 0, NL_BIAS_MAX, -NL_BIAS_MAX, NL_BIAS_MAX, -NL_BIAS_MAX };
    static const int32_t m[] = { INT32_MAX, INT32_MAX, INT32_MAX, 1 << 30, 1 << 30,
                                 INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX };
    static const uint8_t s[] = { 62, 62, 62, 62, 62, 62, 62, 61, 61 };
    static const int32_t e[] = { 1, -1, 0, 1, 0, 1, -1, 3, -3 };
    requant_cases(x, b, m, s, e, NELEM(x));
}
END_TEST

START_TEST(requant_bias_and_types)
{
    /* u8 source, bias then multiply: (10 - 3) * 3 / 2 = 10.5 -> 11,
     * (0 - 3) * 3 / 2 = -4.5 -> -4, (255 + 100) * 1 / 1 = 355 -> 355. */
    static const int32_t in[] = { 10, 0, 255 };
    static const int32_t bias[] = { -3, -3, 100 };
    static const int32_t m[] = { 3, 3, 1 };
    static const uint8_t s[] = { 1, 1, 0 };
    static const int32_t e[] = { 11, -4, 355 };
    nl_tensor src = tnew_packed(1, 1, 3, NL_U8), dst = tnew_packed(1, 1, 3, NL_S16);
    tfill(&src, in);
    nl_requant rq = { bias, m, s, -NL_S16_MAX, NL_S16_MAX };
    nl_requant_ref(&rq, &src, &dst, 0, 1);
    texpect(&dst, e, "requant u8->s16");
    /* In place on an s16 tensor: 11*3/2 = 16.5 -> 17 with bias 0. */
    static const int32_t m2[] = { 3, 1, 1 };
    static const uint8_t s2[] = { 1, 0, 1 };
    static const int32_t e2[] = { 17, -4, 178 }; /* 355 / 2 = 177.5 -> 178 */
    nl_requant rq2 = { NULL, m2, s2, -NL_S16_MAX, NL_S16_MAX };
    nl_requant_ref(&rq2, &dst, &dst, 0, 1);
    texpect(&dst, e2, "requant in place");
    tfree(&src);
    tfree(&dst);
}
END_TEST

START_TEST(saturation_every_type)
{
    static const int32_t in[] = { INT32_MIN, INT32_MAX, 300, -300, 9000, -9000, 200, -200, 0 };
    static const int32_t e_u8[] = { 0, 255, 255, 0, 255, 0, 200, 0, 0 };
    static const int32_t e_s8[] = { -128, 127, 127, -128, 127, -128, 127, -128, 0 };
    static const int32_t e_s16[] = { -4096, 4096, 300, -300, 4096, -4096, 200, -200, 0 };
    static const int32_t e_narrow[] = { -5, 10, 10, -5, 10, -5, 10, -5, 0 };
    static const int32_t *exps[] = { e_u8, e_s8, e_s16, in };
    int32_t m[NELEM(in)];
    uint8_t s[NELEM(in)];
    for (int i = 0; i < NELEM(in); i++) {
        m[i] = 1;
        s[i] = 0;
    }
    nl_tensor src = tnew_packed(1, 1, NELEM(in), NL_S32);
    tfill(&src, in);
    for (int t = NL_U8; t <= NL_S32; t++) {
        nl_tensor dst = tnew_packed(1, 1, NELEM(in), (nl_type)t);
        nl_requant rq = { NULL, m, s, 0, 0 };
        trange((nl_type)t, &rq.lo, &rq.hi);
        nl_requant_ref(&rq, &src, &dst, 0, 1);
        texpect(&dst, exps[t], "saturation");
        tfree(&dst);
    }
    nl_tensor dst = tnew_packed(1, 1, NELEM(in), NL_S8);
    nl_requant rq = { NULL, m, s, -5, 10 };
    nl_requant_ref(&rq, &src, &dst, 0, 1);
    texpect(&dst, e_narrow, "narrow bounds");
    tfree(&dst);
    tfree(&src);
}
END_TEST

/* --------------------------------------------------------- convolution */

/* 3 x 5 picture 1..15, used by several cases:
 *    1  2  3  4  5
 *    6  7  8  9 10
 *   11 12 13 14 15 */
static const int32_t pic3x5[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

START_TEST(conv3x3_zero_padding)
{
    /* All-ones 3x3 kernel: each output is the sum of its 3x3 neighbourhood,
     * zero outside.  Corner (0,0) = 1+2+6+7 = 16, edge (0,1) = 1+2+3+6+7+8
     * = 27, centre (1,1) = 1+2+3+6+7+8+11+12+13 = 63, (1,4) = 4+5+9+10+14+15
     * = 57, (2,3) = 8+9+10+13+14+15 = 69, ... */
    static const int32_t box[] = { 16, 27, 33, 39, 28,
                                   39, 63, 72, 81, 57,
                                   36, 57, 63, 69, 48 };
    int8_t ones[9];
    memset(ones, 1, sizeof(ones));
    nl_tensor src = tnew_packed(3, 5, 1, NL_U8);
    tfill(&src, pic3x5);
    conv_case cc = conv_new(3, 1, 1, 1, NL_U8, NL_S32, ones, NULL, 1, 0);
    nl_tensor dst = conv_run(&cc, &src);
    texpect(&dst, box, "box sums");
    tfree(&dst);
    conv_free(&cc);

    /* Bias -20, m 3, s 2, u8 out: (S - 20) * 3 / 4 half up:
     * 16 -> -3 -> 0 (clamped), 27 -> 5.25 -> 5, 33 -> 9.75 -> 10,
     * 39 -> 14.25 -> 14, 28 -> 6, 63 -> 32.25 -> 32, 72 -> 39,
     * 81 -> 45.75 -> 46, 57 -> 27.75 -> 28, 36 -> 12, 69 -> 36.75 -> 37,
     * 48 -> 21. */
    static const int32_t e_u8[] = { 0, 5, 10, 14, 6,
                                    14, 32, 39, 46, 28,
                                    12, 28, 32, 37, 21 };
    const int32_t bias = -20;
    cc = conv_new(3, 1, 1, 1, NL_U8, NL_U8, ones, &bias, 3, 2);
    dst = conv_run(&cc, &src);
    texpect(&dst, e_u8, "box sums requantized");
    tfree(&dst);
    conv_free(&cc);
    tfree(&src);
}
END_TEST

START_TEST(conv3x3_orientation)
{
    /* Weights w0[ky][kx] = 3*ky + kx + 1 (output 0) and -10 * w0 (output 1),
     * layout [cout][ky][kx][cin].  Cross-correlation: out(y,x) =
     * sum w[ky][kx] * in(y+ky-1, x+kx-1).  An impulse v at (py,px) gives
     * out(y,x) = v * w[py-y+1][px-x+1]. */
    int8_t w[18];
    for (int i = 0; i < 9; i++) {
        w[i] = (int8_t)(i + 1);
        w[9 + i] = (int8_t)(-10 * (i + 1));
    }
    /* Impulse 2 at (1,2): rows 0..2 see ky = 2..0, columns 1..3 see kx = 2..0. */
    static const int32_t e_mid[] = {
        0, 0, 18, -180, 16, -160, 14, -140, 0, 0,
        0, 0, 12, -120, 10, -100,  8,  -80, 0, 0,
        0, 0,  6,  -60,  4,  -40,  2,  -20, 0, 0 };
    nl_tensor src = tnew_packed(3, 5, 1, NL_S8);
    tfill_const(&src, 0);
    tset(&src, 1, 2, 0, 2);
    conv_case cc = conv_new(3, 1, 1, 2, NL_S8, NL_S32, w, NULL, 1, 0);
    nl_tensor dst = conv_run(&cc, &src);
    texpect(&dst, e_mid, "impulse at centre");
    tfree(&dst);

    /* Impulses 1 at corners (0,0) and (2,4): (0,0) -> w[1][1] = 5,
     * (0,1) -> w[1][0] = 4, (1,0) -> w[0][1] = 2, (1,1) -> w[0][0] = 1;
     * (1,3) -> w[2][2] = 9, (1,4) -> w[2][1] = 8, (2,3) -> w[1][2] = 6,
     * (2,4) -> w[1][1] = 5.  Taps that would fall outside read zero. */
    static const int32_t e_corner[] = {
        5, -50, 4, -40, 0, 0, 0,   0, 0,   0,
        2, -20, 1, -10, 0, 0, 9, -90, 8, -80,
        0,   0, 0,   0, 0, 0, 6, -60, 5, -50 };
    tfill_const(&src, 0);
    tset(&src, 0, 0, 0, 1);
    tset(&src, 2, 4, 0, 1);
    dst = conv_run(&cc, &src);
    texpect(&dst, e_corner, "impulses at corners");
    tfree(&dst);
    conv_free(&cc);
    tfree(&src);
}
END_TEST

START_TEST(conv_stride2_odd)
{
    int8_t ones[9];
    memset(ones, 1, sizeof(ones));
    /* 3x5 -> 2x3: centres at input (0,0) (0,2) (0,4) (2,0) (2,2) (2,4),
     * the box sums of conv3x3_zero_padding there. */
    static const int32_t e3[] = { 16, 33, 28, 36, 63, 48 };
    /* 1x1 stride 2 picks the samples at even coordinates. */
    static const int32_t e1[] = { 1, 3, 5, 11, 13, 15 };
    nl_tensor src = tnew_packed(3, 5, 1, NL_U8);
    tfill(&src, pic3x5);
    conv_case cc = conv_new(3, 2, 1, 1, NL_U8, NL_S32, ones, NULL, 1, 0);
    nl_tensor dst = conv_run(&cc, &src);
    ck_assert(dst.h == 2 && dst.w == 3);
    texpect(&dst, e3, "3x3 stride 2");
    tfree(&dst);
    conv_free(&cc);
    cc = conv_new(1, 2, 1, 1, NL_U8, NL_S32, ones, NULL, 1, 0);
    dst = conv_run(&cc, &src);
    texpect(&dst, e1, "1x1 stride 2");
    tfree(&dst);
    conv_free(&cc);
    tfree(&src);

    /* 4x4 (1..16) -> 2x2: (0,0) = 1+2+5+6 = 14, (0,2) = 2+3+4+6+7+8 = 30,
     * (2,0) = 5+6+9+10+13+14 = 57, (2,2) = 6+7+8+10+11+12+14+15+16 = 99. */
    static const int32_t e4[] = { 14, 30, 57, 99 };
    int32_t v16[16];
    for (int i = 0; i < 16; i++)
        v16[i] = i + 1;
    src = tnew_packed(4, 4, 1, NL_U8);
    tfill(&src, v16);
    cc = conv_new(3, 2, 1, 1, NL_U8, NL_S32, ones, NULL, 1, 0);
    dst = conv_run(&cc, &src);
    texpect(&dst, e4, "4x4 stride 2");
    tfree(&dst);
    tfree(&src);

    /* 1x1 picture: only the centre tap is inside. */
    static const int32_t e_one[] = { 7 };
    src = tnew_packed(1, 1, 1, NL_U8);
    tset(&src, 0, 0, 0, 7);
    dst = conv_run(&cc, &src);
    ck_assert(dst.h == 1 && dst.w == 1);
    texpect(&dst, e_one, "1x1 picture stride 2");
    tfree(&dst);
    conv_free(&cc);
    tfree(&src);
}
END_TEST

START_TEST(conv1x1_cin5)
{
    /* cin = 5 (not a multiple of 4), cout = 3, bias {0, 10, -2}.
     * pixel 0 = {1, -2, 3, -4, 5}:
     *   o0 {1,1,1,1,1}:        1-2+3-4+5 = 3
     *   o1 {127,-127,2,0,-1}:  127+254+6+0-5 = 382, +10 = 392
     *   o2 {-3,0,0,0,7}:       -3+35 = 32, -2 = 30
     * pixel 1 = {-128, 127, 0, 1, -1}:
     *   o0: -128+127+0+1-1 = -1
     *   o1: -16256-16129+0+0+1 = -32384, +10 = -32374
     *   o2: 384-7 = 377, -2 = 375 */
    static const int8_t w[] = { 1, 1, 1, 1, 1, 127, -127, 2, 0, -1, -3, 0, 0, 0, 7 };
    static const int32_t bias[] = { 0, 10, -2 };
    static const int32_t in[] = { 1, -2, 3, -4, 5, -128, 127, 0, 1, -1 };
    static const int32_t e[] = { 3, 392, 30, -1, -32374, 375 };
    nl_tensor src = tnew_packed(1, 2, 5, NL_S8);
    tfill(&src, in);
    conv_case cc = conv_new(1, 1, 5, 3, NL_S8, NL_S32, w, bias, 1, 0);
    nl_tensor dst = conv_run(&cc, &src);
    texpect(&dst, e, "1x1 cin 5");
    tfree(&dst);
    conv_free(&cc);
    tfree(&src);
}
END_TEST

START_TEST(conv_s16_extremes)
{
    /* 3x3, cin 227 (k*k*cin = 2043, the largest 3x3 s16 layer), all
     * weights 127, all inputs 4096 on a 3x3 picture: one product is
     * 4096 * 127 = 520192; a corner sees 4 * 227 = 908 taps
     * -> 472334336, an edge 6 * 227 = 1362 -> 708501504, the centre
     * 2043 -> 1062752256 (< 2^30). */
    const int cin = 227;
    int8_t *w = malloc((size_t)9 * cin);
    ck_assert_ptr_nonnull(w);
    memset(w, 127, (size_t)9 * cin);
    static const int32_t e_pos[] = { 472334336, 708501504, 472334336,
                                     708501504, 1062752256, 708501504,
                                     472334336, 708501504, 472334336 };
    static const int32_t e_neg[] = { -472334336, -708501504, -472334336,
                                     -708501504, -1062752256, -708501504,
                                     -472334336, -708501504, -472334336 };
    nl_tensor src = tnew_packed(3, 3, cin, NL_S16);
    tfill_const(&src, NL_S16_MAX);
    conv_case cc = conv_new(3, 1, cin, 1, NL_S16, NL_S32, w, NULL, 1, 0);
    nl_tensor dst = conv_run(&cc, &src);
    texpect(&dst, e_pos, "s16 +4096");
    tfree(&dst);
    tfill_const(&src, -NL_S16_MAX);
    dst = conv_run(&cc, &src);
    texpect(&dst, e_neg, "s16 -4096");
    tfree(&dst);
    conv_free(&cc);
    tfree(&src);
    free(w);

    /* 1x1, in {4096, -4096} and {-4096, 4096}, weights {127, -127}:
     * +-2 * 4096 * 127 = +-1040384.  s16 out, s = 8: 1040384 / 256 =
     * 4064 exactly; s = 7: 8128 -> 4096 (saturated), -8128 -> -4096. */
    static const int8_t w2[] = { 127, -127 };
    static const int32_t in2[] = { 4096, -4096, -4096, 4096 };
    static const int32_t e8[] = { 4064, -4064 };
    static const int32_t e7[] = { 4096, -4096 };
    src = tnew_packed(1, 2, 2, NL_S16);
    tfill(&src, in2);
    cc = conv_new(1, 1, 2, 1, NL_S16, NL_S16, w2, NULL, 1, 8);
    dst = conv_run(&cc, &src);
    texpect(&dst, e8, "s16 shift 8");
    tfree(&dst);
    conv_free(&cc);
    cc = conv_new(1, 1, 2, 1, NL_S16, NL_S16, w2, NULL, 1, 7);
    dst = conv_run(&cc, &src);
    texpect(&dst, e7, "s16 shift 7 saturating");
    tfree(&dst);
    conv_free(&cc);
    tfree(&src);
}
END_TEST

START_TEST(conv_u8_extremes)
{
    /* cin 3, input 255: o0 {127,127,127} = 3 * 32385 = 97155,
     * o1 {-127,-127,-127} = -97155, o2 {127,-127,127} = 32385,
     * o3 zero weights with bias 5 = 5.  Saturated per output type. */
    static const int8_t w[] = { 127, 127, 127, -127, -127, -127, 127, -127, 127, 0, 0, 0 };
    static const int32_t bias[] = { 0, 0, 0, 5 };
    static const int32_t e_u8[] = { 255, 0, 255, 5 };
    static const int32_t e_s8[] = { 127, -128, 127, 5 };
    static const int32_t e_s16[] = { 4096, -4096, 4096, 5 };
    static const int32_t e_s32[] = { 97155, -97155, 32385, 5 };
    static const int32_t *exps[] = { e_u8, e_s8, e_s16, e_s32 };
    nl_tensor src = tnew_packed(1, 1, 3, NL_U8);
    tfill_const(&src, 255);
    for (int t = NL_U8; t <= NL_S32; t++) {
        conv_case cc = conv_new(1, 1, 3, 4, NL_U8, (nl_type)t, w, bias, 1, 0);
        nl_tensor dst = conv_run(&cc, &src);
        texpect(&dst, exps[t], "u8 255 x +-127");
        tfree(&dst);
        conv_free(&cc);
    }
    tfree(&src);

    /* The largest accepted u8 layer, 1x1 with cin 32896: 32896 * 255 * 127
     * = 1065336960, plus bias NL_BIAS_MAX = 1073741823 -> 2139078783
     * (< 2^31 - 1); the negated weights and bias give -2139078783. */
    const int cin = 32896;
    int8_t *wb = malloc((size_t)2 * cin);
    ck_assert_ptr_nonnull(wb);
    memset(wb, 127, (size_t)cin);
    memset(wb + cin, -127, (size_t)cin);
    static const int32_t bias2[] = { NL_BIAS_MAX, -NL_BIAS_MAX };
    static const int32_t e_big[] = { 2139078783, -2139078783 };
    src = tnew_packed(1, 1, cin, NL_U8);
    tfill_const(&src, 255);
    conv_case cc = conv_new(1, 1, cin, 2, NL_U8, NL_S32, wb, bias2, 1, 0);
    nl_tensor dst = conv_run(&cc, &src);
    texpect(&dst, e_big, "largest u8 layer");
    tfree(&dst);
    conv_free(&cc);
    tfree(&src);
    free(wb);
}
END_TEST

/* --------------------------------------------------- random shapes */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    /* xorshift64*: deterministic, seeded per test. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

/* Uniform in [lo, hi]. */
static int32_t rnd_in(int32_t lo, int32_t hi)
{
    uint64_t span = (uint64_t)((int64_t)hi - lo) + 1;
    uint64_t r = span > UINT32_MAX ? rnd() : rnd() % span;
    return (int32_t)((int64_t)lo + (int64_t)r);
}

static int32_t rnd_sample(nl_type t)
{
    int32_t lo, hi;
    trange(t, &lo, &hi);
    switch (rnd() % 8) {
    case 0: return lo;
    case 1: return hi;
    default: return rnd_in(lo, hi);
    }
}

static void tfill_random(nl_tensor *t)
{
    for (int y = 0; y < t->h; y++)
        for (int x = 0; x < t->w; x++)
            for (int c = 0; c < t->c; c++)
                tset(t, y, x, c, rnd_sample(t->type));
}

/* Random valid descriptor for a random input shape. */
static conv_case conv_random(void)
{
    static const nl_type ins[] = { NL_U8, NL_S8, NL_S16 };
    int k = rnd() % 2 ? 3 : 1, stride = rnd() % 2 + 1;
    int cin = rnd_in(1, 13), cout = rnd_in(1, 7);
    nl_type in = ins[rnd() % 3], out = (nl_type)(rnd() % 4);
    conv_case cc = conv_new(k, stride, cin, cout, in, out, NULL, NULL, 0, 0);
    size_t nw = (size_t)cout * (size_t)(k * k) * (size_t)cin;
    for (size_t i = 0; i < nw; i++) {
        uint32_t r = rnd() % 8;
        cc.w[i] = (int8_t)(r == 0 ? -127 : r == 1 ? 127 : rnd_in(-127, 127));
    }
    if (rnd() % 4) {
        cc.bias = malloc((size_t)cout * sizeof(int32_t));
        ck_assert_ptr_nonnull(cc.bias);
        for (int o = 0; o < cout; o++)
            cc.bias[o] = rnd() % 8 == 0 ? (rnd() % 2 ? NL_BIAS_MAX : -NL_BIAS_MAX)
                                        : rnd_in(-(1 << 20), 1 << 20);
        cc.d.rq.bias = cc.bias;
    }
    for (int o = 0; o < cout; o++) {
        /* Spread over magnitudes: mostly a mult of 10..31 bits with a
         * shift that lands the result near the output range, sometimes
         * the extremes 0, 2^31 - 1, shift 0 and 62. */
        uint32_t r = rnd() % 10;
        int32_t m = (int32_t)(rnd() >> (1 + rnd() % 22));
        int s = rnd_in(0, 40);
        if (r == 0)
            m = 0;
        else if (r == 1)
            m = INT32_MAX;
        if (r == 2)
            s = 0;
        else if (r == 3)
            s = 62;
        cc.mult[o] = m;
        cc.shift[o] = (uint8_t)s;
    }
    if (rnd() % 3 == 0) {
        int32_t lo, hi;
        trange(out, &lo, &hi);
        int32_t a = rnd_in(lo / 2, hi / 2), b = rnd_in(lo / 2, hi / 2);
        cc.d.rq.lo = a < b ? a : b;
        cc.d.rq.hi = a < b ? b : a;
    }
    return cc;
}

/* round half up of num / 2^(s+1) with num = 2*x*m + 2^s, by floor division
 * in __int128: an independent spelling of the rule. */
static int64_t naive_round(int64_t x, int32_t m, int s)
{
    __int128 num = (__int128)x * m * 2 + ((__int128)1 << s);
    __int128 den = (__int128)1 << (s + 1);
    __int128 q = num / den;
    if (num % den != 0 && num < 0)
        q -= 1;
    return (int64_t)q;
}

/* Naive convolution: copy the input into a zero-bordered int64 array,
 * then the direct formula with no bounds tests. */
static void naive_conv(const conv_case *cc, const nl_tensor *src, int32_t *out)
{
    const nl_conv_desc *d = &cc->d;
    int h = src->h, w = src->w, cin = d->cin, k = d->k, s = d->stride;
    int ph = h + 2, pw = w + 2;
    int64_t *pad = calloc((size_t)ph * pw * cin, sizeof(int64_t));
    ck_assert_ptr_nonnull(pad);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < cin; c++)
                pad[((size_t)(y + 1) * pw + (x + 1)) * cin + c] = tget(src, y, x, c);
    int off = k == 3 ? 0 : 1; /* 1x1 reads the centre of the border frame */
    int ho = (h + s - 1) / s, wo = (w + s - 1) / s;
    for (int y = 0; y < ho; y++)
        for (int x = 0; x < wo; x++)
            for (int o = 0; o < d->cout; o++) {
                int64_t acc = d->rq.bias ? d->rq.bias[o] : 0;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                        for (int c = 0; c < cin; c++)
                            acc += pad[((size_t)(y * s + ky + off) * pw + (x * s + kx + off)) * cin + c] *
                                   d->weight[(((size_t)o * k + ky) * k + kx) * cin + c];
                int64_t v = naive_round(acc, d->rq.mult[o], d->rq.shift[o]);
                if (v < d->rq.lo)
                    v = d->rq.lo;
                if (v > d->rq.hi)
                    v = d->rq.hi;
                out[((size_t)y * wo + x) * d->cout + o] = (int32_t)v;
            }
    free(pad);
}

START_TEST(conv_random_vs_naive)
{
    rng_state = 0x9E3779B97F4A7C15ull;
    long inner = 0, total = 0;
    for (int iter = 0; iter < 400; iter++) {
        conv_case cc = conv_random();
        ck_assert_int_eq(nl_conv_check(&cc.d), 0);
        int h = rnd_in(1, 9), w = rnd_in(1, 9);
        nl_tensor src = tnew(h, w, cc.d.cin, (ptrdiff_t)w * cc.d.cin + rnd_in(0, 3), cc.d.in_type);
        tfill_random(&src);
        int ho = nl_conv_out_size(h, cc.d.stride), wo = nl_conv_out_size(w, cc.d.stride);
        nl_tensor dst = tnew(ho, wo, cc.d.cout, (ptrdiff_t)wo * cc.d.cout + rnd_in(0, 3), cc.d.out_type);
        int split = rnd_in(0, ho);
        nl_conv_ref(&cc.d, &src, &dst, 0, split, NULL);
        nl_conv_ref(&cc.d, &src, &dst, split, ho, NULL);
        int32_t *exp = malloc((size_t)ho * wo * cc.d.cout * sizeof(int32_t));
        ck_assert_ptr_nonnull(exp);
        naive_conv(&cc, &src, exp);
        int n = 0;
        for (int y = 0; y < ho; y++)
            for (int x = 0; x < wo; x++)
                for (int o = 0; o < cc.d.cout; o++, n++) {
                    int32_t got = tget(&dst, y, x, o);
                    ck_assert_msg(got == exp[n],
                                  "iter %d k%d s%d cin %d cout %d in %d out %d %dx%d: "
                                  "(%d,%d,%d) is %d, expected %d",
                                  iter, cc.d.k, cc.d.stride, cc.d.cin, cc.d.cout,
                                  cc.d.in_type, cc.d.out_type, h, w, y, x, o,
                                  (int)got, (int)exp[n]);
                    inner += got > cc.d.rq.lo && got < cc.d.rq.hi;
                    total++;
                }
        ck_assert(canary_intact(&dst));
        free(exp);
        tfree(&dst);
        tfree(&src);
        conv_free(&cc);
    }
    /* The cases must exercise rounding, not only saturation. */
    ck_assert_msg(inner * 4 > total, "only %ld of %ld outputs unsaturated", inner, total);
}
END_TEST

/* ------------------------------------------- row ranges and strides */

START_TEST(conv_row_ranges)
{
    rng_state = 12345;
    for (int iter = 0; iter < 60; iter++) {
        conv_case cc = conv_random();
        int h = rnd_in(1, 11), w = rnd_in(1, 7);
        nl_tensor src = tnew_packed(h, w, cc.d.cin, cc.d.in_type);
        tfill_random(&src);
        int ho = nl_conv_out_size(h, cc.d.stride), wo = nl_conv_out_size(w, cc.d.stride);
        nl_tensor one = tnew_packed(ho, wo, cc.d.cout, cc.d.out_type);
        nl_tensor pieces = tnew_packed(ho, wo, cc.d.cout, cc.d.out_type);
        nl_conv_ref(&cc.d, &src, &one, 0, ho, NULL);
        /* [0, a) [a, a) [a, b) [b, ho), computed out of order. */
        int a = rnd_in(0, ho), b = rnd_in(a, ho);
        nl_conv_ref(&cc.d, &src, &pieces, b, ho, NULL);
        nl_conv_ref(&cc.d, &src, &pieces, a, a, NULL);
        nl_conv_ref(&cc.d, &src, &pieces, 0, a, NULL);
        nl_conv_ref(&cc.d, &src, &pieces, a, b, NULL);
        size_t bytes = (size_t)ho * wo * cc.d.cout * nl_type_size(cc.d.out_type);
        ck_assert_msg(memcmp(one.data, pieces.data, bytes) == 0, "iter %d", iter);
        /* A range leaves every other row untouched. */
        if (ho >= 2) {
            nl_tensor part = tnew_packed(ho, wo, cc.d.cout, cc.d.out_type);
            nl_conv_ref(&cc.d, &src, &part, 1, ho, NULL);
            size_t row = (size_t)wo * cc.d.cout * nl_type_size(cc.d.out_type);
            for (size_t i = 0; i < row; i++)
                ck_assert(((unsigned char *)part.data)[i] == CANARY);
            ck_assert(memcmp((char *)part.data + row, (char *)one.data + row, bytes - row) == 0);
            tfree(&part);
        }
        tfree(&one);
        tfree(&pieces);
        tfree(&src);
        conv_free(&cc);
    }
}
END_TEST

START_TEST(conv_wide_strides)
{
    rng_state = 777;
    for (int iter = 0; iter < 60; iter++) {
        conv_case cc = conv_random();
        int h = rnd_in(1, 8), w = rnd_in(1, 8);
        int ho = nl_conv_out_size(h, cc.d.stride), wo = nl_conv_out_size(w, cc.d.stride);
        nl_tensor src = tnew_packed(h, w, cc.d.cin, cc.d.in_type);
        nl_tensor wide = tnew(h, w, cc.d.cin, (ptrdiff_t)w * cc.d.cin + rnd_in(1, 9), cc.d.in_type);
        tfill_random(&src);
        /* Garbage between the rows of the wide source must not be read. */
        memset(wide.data, 0x7f, (size_t)h * wide.stride * nl_type_size(wide.type));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < cc.d.cin; c++)
                    tset(&wide, y, x, c, tget(&src, y, x, c));
        nl_tensor d0 = tnew_packed(ho, wo, cc.d.cout, cc.d.out_type);
        nl_tensor d1 = tnew(ho, wo, cc.d.cout, (ptrdiff_t)wo * cc.d.cout + rnd_in(1, 9), cc.d.out_type);
        nl_conv_ref(&cc.d, &src, &d0, 0, ho, NULL);
        nl_conv_ref(&cc.d, &wide, &d1, 0, ho, NULL);
        ck_assert_msg(tsame(&d0, &d1), "iter %d", iter);
        ck_assert_msg(canary_intact(&d1), "iter %d", iter);
        tfree(&d0);
        tfree(&d1);
        tfree(&wide);
        tfree(&src);
        conv_free(&cc);
    }
}
END_TEST

START_TEST(elementwise_wide_strides)
{
    /* 3 x 2 x 2 tensors with 3 spare elements per row; rows [1, 3) only. */
    static const int32_t va[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    static const int32_t vb[] = { -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12 };
    static const int32_t m[] = { 2, 3 };
    static const uint8_t s[] = { 0, 0 };
    nl_tensor a = tnew(3, 2, 2, 7, NL_S16), b = tnew(3, 2, 2, 7, NL_S8);
    tfill(&a, va);
    tfill(&b, vb);
    /* requant: a * {2, 3} on rows 1, 2. */
    nl_tensor r = tnew(3, 2, 2, 9, NL_S32);
    nl_requant rq = { NULL, m, s, INT32_MIN, INT32_MAX };
    nl_requant_ref(&rq, &a, &r, 1, 3);
    ck_assert(canary_intact(&r));
    for (int i = 0; i < 4 * 4; i++) /* row 0 untouched */
        ck_assert(((unsigned char *)r.data)[i] == CANARY);
    ck_assert_int_eq(tget(&r, 1, 0, 0), 10);
    ck_assert_int_eq(tget(&r, 1, 1, 1), 24);
    ck_assert_int_eq(tget(&r, 2, 1, 1), 36);
    /* add: a * 1 + b * 2 = -a on rows 1, 2; row 0 keeps its canary. */
    static const int32_t one[] = { 1, 1 }, two[] = { 2, 2 };
    nl_add_desc ad = { one, two, s, -NL_S16_MAX, NL_S16_MAX };
    nl_tensor sum = tnew(3, 2, 2, 5, NL_S16);
    nl_add_ref(&ad, &a, &b, &sum, 1, 3);
    ck_assert(canary_intact(&sum));
    ck_assert_int_eq(tget(&sum, 1, 0, 0), -5);
    ck_assert_int_eq(tget(&sum, 2, 1, 1), -12);
    ck_assert_int_eq(tget(&sum, 0, 0, 0), (int16_t)(CANARY * 257));
    /* clamp in place, rows [0, 2). */
    nl_clamp_ref(&a, 3, 6, 0, 2);
    static const int32_t e_cl[] = { 3, 3, 3, 4, 5, 6, 6, 6, 9, 10, 11, 12 };
    texpect(&a, e_cl, "clamp rows 0..1");
    ck_assert(canary_intact(&a) && canary_intact(&b));
    tfree(&a);
    tfree(&b);
    tfree(&r);
    tfree(&sum);
}
END_TEST

/* ------------------------------------------------------------ add */

START_TEST(add_multipliers)
{
    /* c0: a = 10, b = -3, ma 3, mb 5, shift 2: (30 - 15) / 4 = 3.75 -> 4
     * c1: a = 200, b = 50, ma 2^14, mb 2^13, shift 14:
     *     (3276800 + 409600) / 16384 = 225 exactly
     * c2: a = 1, b = 1, ma = mb = 1, shift 2: 0.5 -> 1 (tie up)
     * c3: a = 0, b = -2, ma 7, mb 1, shift 2: -0.5 -> 0 (tie up)
     * c4: a = 255, b = 127, ma mb 2^31 - 1, shift 0: saturates to 255
     * c5: a = 0, b = -128, ma 1, mb 2^31 - 1, shift 30: -128 * (2 - 2^-30)
     *     = -255.99999988 -> -256 -> clamped to 0 in u8 */
    static const int32_t va[] = { 10, 200, 1, 0, 255, 0 };
    static const int32_t vb[] = { -3, 50, 1, -2, 127, -128 };
    static const int32_t ma[] = { 3, 1 << 14, 1, 7, INT32_MAX, 1 };
    static const int32_t mb[] = { 5, 1 << 13, 1, 1, INT32_MAX, INT32_MAX };
    static const uint8_t sh[] = { 2, 14, 2, 2, 0, 30 };
    static const int32_t e_u8[] = { 4, 225, 1, 0, 255, 0 };
    /* s16 out: c4 = (255 + 127) * (2^31 - 1) -> 4096, c5 -> -256 */
    static const int32_t e_s16[] = { 4, 225, 1, 0, 4096, -256 };
    nl_tensor a = tnew_packed(1, 1, 6, NL_U8), b = tnew_packed(1, 1, 6, NL_S8);
    tfill(&a, va);
    tfill(&b, vb);
    nl_add_desc d = { ma, mb, sh, 0, 255 };
    ck_assert_int_eq(nl_add_check(&d, 6, NL_U8), 0);
    nl_tensor o = tnew_packed(1, 1, 6, NL_U8);
    nl_add_ref(&d, &a, &b, &o, 0, 1);
    texpect(&o, e_u8, "add u8");
    tfree(&o);
    d.lo = -NL_S16_MAX;
    d.hi = NL_S16_MAX;
    o = tnew_packed(1, 1, 6, NL_S16);
    nl_add_ref(&d, &a, &b, &o, 0, 1);
    texpect(&o, e_s16, "add s16");
    tfree(&o);
    tfree(&a);
    tfree(&b);

    /* s16 + s16 into itself: {4096, -4096} + {4096, -3} with ma = mb =
     * 2^14, shift 15: (4096 + 4096) / 2 = 4096, (-4096 - 3) / 2 = -2049.5
     * -> -2049 (tie towards +infinity). */
    static const int32_t sa[] = { 4096, -4096 }, sb[] = { 4096, -3 };
    static const int32_t m14[] = { 1 << 14, 1 << 14 };
    static const uint8_t s15[] = { 15, 15 };
    static const int32_t e_self[] = { 4096, -2049 };
    a = tnew_packed(1, 1, 2, NL_S16);
    b = tnew_packed(1, 1, 2, NL_S16);
    tfill(&a, sa);
    tfill(&b, sb);
    nl_add_desc d2 = { m14, m14, s15, -NL_S16_MAX, NL_S16_MAX };
    nl_add_ref(&d2, &a, &b, &a, 0, 1);
    texpect(&a, e_self, "add in place");
    tfree(&a);
    tfree(&b);
}
END_TEST

START_TEST(add_check_fields)
{
    int32_t ma[] = { 1, 2 }, mb[] = { 3, 4 };
    uint8_t sh[] = { 0, 62 };
    nl_add_desc d = { ma, mb, sh, -128, 127 };
    ck_assert_int_eq(nl_add_check(&d, 2, NL_S8), 0);
    ck_assert_int_eq(nl_add_check(NULL, 2, NL_S8), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nl_add_check(&d, 0, NL_S8), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nl_add_check(&d, 2, NL_U8), NEUVC_ERR(EINVAL)); /* lo < 0 */
    ck_assert_int_eq(nl_add_check(&d, 2, NL_NTYPES), NEUVC_ERR(EINVAL));
    sh[1] = 63;
    ck_assert_int_eq(nl_add_check(&d, 2, NL_S8), NEUVC_ERR(EINVAL));
    sh[1] = 62;
    mb[1] = -1;
    ck_assert_int_eq(nl_add_check(&d, 2, NL_S8), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nl_add_check(&d, 1, NL_S8), 0); /* only c entries */
    mb[1] = 4;
    ma[0] = -5;
    ck_assert_int_eq(nl_add_check(&d, 2, NL_S8), NEUVC_ERR(EINVAL));
    ma[0] = INT32_MAX;
    ck_assert_int_eq(nl_add_check(&d, 2, NL_S8), 0);
    d.lo = 5;
    d.hi = 4;
    ck_assert_int_eq(nl_add_check(&d, 2, NL_S8), NEUVC_ERR(EINVAL));
    d.lo = d.hi = 4;
    ck_assert_int_eq(nl_add_check(&d, 2, NL_S8), 0);
    d.mb = NULL;
    ck_assert_int_eq(nl_add_check(&d, 2, NL_S8), NEUVC_ERR(EINVAL));
}
END_TEST

/* ---------------------------------------------------------- clamp */

START_TEST(clamp_every_type)
{
    static const int32_t v_u8[] = { 0, 7, 100, 255 };
    static const int32_t e_u8[] = { 0, 7, 9, 9 };       /* [0, 9] */
    static const int32_t v_s8[] = { -128, -1, 0, 127 };
    static const int32_t e_s8[] = { 0, 0, 0, 127 };     /* ReLU [0, 127] */
    static const int32_t v_s16[] = { -4096, -300, 300, 4096 };
    static const int32_t e_s16[] = { -256, -256, 255, 255 }; /* [-256, 255] */
    static const int32_t v_s32[] = { INT32_MIN, -70000, 70000, INT32_MAX };
    static const int32_t e_s32[] = { -65536, -65536, 65535, 65535 };
    static const int32_t *vals[] = { v_u8, v_s8, v_s16, v_s32 };
    static const int32_t *exps[] = { e_u8, e_s8, e_s16, e_s32 };
    static const int32_t los[] = { 0, 0, -256, -65536 }, his[] = { 9, 127, 255, 65535 };
    for (int t = NL_U8; t <= NL_S32; t++) {
        nl_tensor x = tnew(2, 1, 2, 3, (nl_type)t);
        tfill(&x, vals[t]);
        nl_clamp_ref(&x, los[t], his[t], 0, 2);
        texpect(&x, exps[t], "clamp");
        ck_assert(canary_intact(&x));
        tfree(&x);
    }
}
END_TEST

/* ----------------------------------------- space/depth and concat */

START_TEST(s2d_d2s_order)
{
    /* 1 channel 4x4 (values 0..15), r = 2: output pixel (y, x) holds
     * [in(2y,2x), in(2y,2x+1), in(2y+1,2x), in(2y+1,2x+1)]. */
    int32_t v16[16];
    for (int i = 0; i < 16; i++)
        v16[i] = i;
    static const int32_t e[] = { 0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15 };
    nl_tensor src = tnew_packed(4, 4, 1, NL_U8), dst = tnew_packed(2, 2, 4, NL_U8);
    tfill(&src, v16);
    nl_s2d_ref(&src, &dst, 2, 0, dst.h);
    texpect(&dst, e, "s2d 1 channel");
    nl_tensor back = tnew_packed(4, 4, 1, NL_U8);
    nl_d2s_ref(&dst, &back, 2, 0, back.h);
    texpect(&back, v16, "d2s 1 channel");
    tfree(&src);
    tfree(&dst);
    tfree(&back);

    /* 2 channels 2x2, src(y, x, c) = 100 c + 10 y + x, r = 2: channel
     * c*4 + i*2 + j = src(i, j, c) -> {0, 1, 10, 11, 100, 101, 110, 111}. */
    static const int32_t v2[] = { 0, 100, 1, 101, 10, 110, 11, 111 };
    static const int32_t e2[] = { 0, 1, 10, 11, 100, 101, 110, 111 };
    src = tnew_packed(2, 2, 2, NL_S16);
    dst = tnew_packed(1, 1, 8, NL_S16);
    tfill(&src, v2);
    nl_s2d_ref(&src, &dst, 2, 0, dst.h);
    texpect(&dst, e2, "s2d 2 channels");
    back = tnew_packed(2, 2, 2, NL_S16);
    nl_d2s_ref(&dst, &back, 2, 0, back.h);
    texpect(&back, v2, "d2s 2 channels");
    tfree(&src);
    tfree(&dst);
    tfree(&back);
}
END_TEST

START_TEST(s2d_d2s_round_trip)
{
    rng_state = 4242;
    for (int iter = 0; iter < 40; iter++) {
        int r = rnd_in(1, 4), c = rnd_in(1, 5);
        int h = r * rnd_in(1, 4), w = r * rnd_in(1, 4);
        nl_type t = (nl_type)(rnd() % 4);
        nl_tensor src = tnew(h, w, c, (ptrdiff_t)w * c + rnd_in(0, 2), t);
        nl_tensor mid = tnew(h / r, w / r, c * r * r, (ptrdiff_t)(w / r) * c * r * r + rnd_in(0, 2), t);
        nl_tensor back = tnew(h, w, c, (ptrdiff_t)w * c + rnd_in(0, 2), t);
        tfill_random(&src);
        nl_s2d_ref(&src, &mid, r, 0, mid.h);
        nl_d2s_ref(&mid, &back, r, 0, back.h);
        ck_assert_msg(tsame(&src, &back), "iter %d r %d", iter, r);
        ck_assert(canary_intact(&mid) && canary_intact(&back));
        /* One element of the channel order, spot-checked per case. */
        int y = rnd_in(0, h / r - 1), x = rnd_in(0, w / r - 1), ch = rnd_in(0, c - 1);
        int i = rnd_in(0, r - 1), j = rnd_in(0, r - 1);
        ck_assert_int_eq(tget(&mid, y, x, ch * r * r + i * r + j), tget(&src, y * r + i, x * r + j, ch));
        tfree(&src);
        tfree(&mid);
        tfree(&back);
    }
}
END_TEST

START_TEST(concat_channels)
{
    /* a: 2x1 pixels with 2 channels, b: 1 channel; dst = [a0 a1 b0]. */
    static const int32_t va[] = { 1, 2, 3, 4 }, vb[] = { 9, 8 };
    static const int32_t e[] = { 1, 2, 9, 3, 4, 8 };
    for (int t = NL_U8; t <= NL_S32; t++) {
        nl_type ty = (nl_type)t;
        nl_tensor a = tnew(2, 1, 2, 3, ty), b = tnew(2, 1, 1, 1, ty), d = tnew(2, 1, 3, 5, ty);
        tfill(&a, va);
        tfill(&b, vb);
        nl_concat_ref(&a, &b, &d, 0, d.h);
        texpect(&d, e, "concat");
        ck_assert(canary_intact(&d));
        tfree(&a);
        tfree(&b);
        tfree(&d);
    }
}
END_TEST

/* ------------------------------------------------------ conv check */

START_TEST(conv_check_fields)
{
    int8_t w[3 * 3 * 4 * 2];
    memset(w, 0, sizeof(w));
    int32_t mult[] = { 1, 1 }, bias[] = { 0, 0 };
    uint8_t shift[] = { 0, 0 };
    const nl_conv_desc ok = { 3, 1, 4, 2, NL_U8, NL_U8, w, { bias, mult, shift, 0, 255 } };
    nl_conv_desc d = ok;
    ck_assert_int_eq(nl_conv_check(&d), 0);
    ck_assert_int_eq(nl_conv_check(NULL), NEUVC_ERR(EINVAL));

#define EXPECT_REFUSED(field, value) \
    do { d = ok; d.field = value; \
         ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL)); } while (0)
    EXPECT_REFUSED(k, 0);
    EXPECT_REFUSED(k, 2);
    EXPECT_REFUSED(k, 5);
    EXPECT_REFUSED(stride, 0);
    EXPECT_REFUSED(stride, 3);
    EXPECT_REFUSED(cin, 0);
    EXPECT_REFUSED(cin, -1);
    EXPECT_REFUSED(cin, NL_CHANNELS_MAX + 1);
    EXPECT_REFUSED(cout, 0);
    EXPECT_REFUSED(cout, NL_CHANNELS_MAX + 1);
    EXPECT_REFUSED(in_type, NL_S32);
    EXPECT_REFUSED(in_type, NL_NTYPES);
    EXPECT_REFUSED(in_type, (nl_type)-1);
    EXPECT_REFUSED(out_type, NL_NTYPES);
    EXPECT_REFUSED(weight, NULL);
    EXPECT_REFUSED(rq.mult, NULL);
    EXPECT_REFUSED(rq.shift, NULL);
    EXPECT_REFUSED(rq.lo, -1);        /* below u8 */
    EXPECT_REFUSED(rq.hi, 256);       /* above u8 */
#undef EXPECT_REFUSED
}
END_TEST

START_TEST(conv_check_bounds)
{
    int8_t w[3 * 3 * 4 * 2];
    memset(w, 0, sizeof(w));
    int32_t mult[] = { 1, 1 }, bias[] = { 0, 0 };
    uint8_t shift[] = { 0, 0 };
    nl_conv_desc d = { 3, 2, 4, 2, NL_S8, NL_S8, w, { bias, mult, shift, -128, 127 } };
    ck_assert_int_eq(nl_conv_check(&d), 0);
    /* bounds of the output type, per type */
    d.rq.lo = 10; d.rq.hi = 9;
    ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL));
    d.rq.lo = d.rq.hi = 9;
    ck_assert_int_eq(nl_conv_check(&d), 0);
    d.rq.lo = -129; d.rq.hi = 127;
    ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL));
    d.rq.lo = -128; d.rq.hi = 128;
    ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL));
    d.out_type = NL_S16;
    ck_assert_int_eq(nl_conv_check(&d), 0);
    d.rq.lo = -4096; d.rq.hi = 4096;
    ck_assert_int_eq(nl_conv_check(&d), 0);
    d.rq.hi = 4097;
    ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL));
    d.rq.lo = -4097; d.rq.hi = 4096;
    ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL));
    d.out_type = NL_S32;
    d.rq.lo = INT32_MIN; d.rq.hi = INT32_MAX;
    ck_assert_int_eq(nl_conv_check(&d), 0);

    /* per-channel arrays: the last channel carries the bad value */
    mult[1] = -1;
    ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL));
    mult[1] = INT32_MAX;
    ck_assert_int_eq(nl_conv_check(&d), 0);
    shift[1] = 63;
    ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL));
    shift[1] = 255;
    ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL));
    shift[1] = NL_SHIFT_MAX;
    ck_assert_int_eq(nl_conv_check(&d), 0);
    bias[1] = NL_BIAS_MAX + 1;
    ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL));
    bias[1] = -NL_BIAS_MAX - 1;
    ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL));
    bias[1] = -NL_BIAS_MAX;
    ck_assert_int_eq(nl_conv_check(&d), 0);
    bias[1] = NL_BIAS_MAX;
    ck_assert_int_eq(nl_conv_check(&d), 0);
    d.rq.bias = NULL;
    ck_assert_int_eq(nl_conv_check(&d), 0);

    /* weights: [-127, 127]; -128 anywhere is refused */
    w[sizeof(w) - 1] = -128;
    ck_assert_int_eq(nl_conv_check(&d), NEUVC_ERR(EINVAL));
    w[sizeof(w) - 1] = -127;
    w[0] = 127;
    ck_assert_int_eq(nl_conv_check(&d), 0);
}
END_TEST

/* Accumulator bound: k*k*cin * max_product < 2^30, max_product =
 * 255 * 128 = 32640 (u8, s8) or 4096 * 128 = 524288 = 2^19 (s16).
 * u8/s8: 32896 * 32640 = 1073725440 < 2^30 = 1073741824,
 *        32897 * 32640 = 1073758080 >= 2^30.
 * s16:   2047 * 2^19 < 2^30, 2048 * 2^19 = 2^30 (refused);
 *        3x3: 9 * 227 = 2043 accepted, 9 * 228 = 2052 refused. */
static int check_taps(int k, int cin, nl_type in)
{
    int8_t *w = calloc((size_t)k * k * cin, 1);
    ck_assert_ptr_nonnull(w);
    int32_t mult = 1;
    uint8_t shift = 0;
    nl_conv_desc d = { k, 1, cin, 1, in, NL_S32, w, { NULL, &mult, &shift, INT32_MIN, INT32_MAX } };
    int ret = nl_conv_check(&d);
    free(w);
    return ret;
}

START_TEST(conv_check_accumulator)
{
    ck_assert_int_eq(check_taps(1, 32896, NL_U8), 0);
    ck_assert_int_eq(check_taps(1, 32897, NL_U8), NEUVC_ERR(ERANGE));
    ck_assert_int_eq(check_taps(3, 3655, NL_U8), 0);      /* 32895 taps */
    ck_assert_int_eq(check_taps(3, 3656, NL_U8), NEUVC_ERR(ERANGE));
    ck_assert_int_eq(check_taps(1, 32896, NL_S8), 0);
    ck_assert_int_eq(check_taps(1, 32897, NL_S8), NEUVC_ERR(ERANGE));
    ck_assert_int_eq(check_taps(3, 3655, NL_S8), 0);
    ck_assert_int_eq(check_taps(3, 3656, NL_S8), NEUVC_ERR(ERANGE));
    ck_assert_int_eq(check_taps(1, 2047, NL_S16), 0);
    ck_assert_int_eq(check_taps(1, 2048, NL_S16), NEUVC_ERR(ERANGE));
    ck_assert_int_eq(check_taps(3, 227, NL_S16), 0);
    ck_assert_int_eq(check_taps(3, 228, NL_S16), NEUVC_ERR(ERANGE));
    /* the channel limit itself: cout NL_CHANNELS_MAX is accepted */
    int32_t *mult = calloc(NL_CHANNELS_MAX, sizeof(int32_t));
    uint8_t *shift = calloc(NL_CHANNELS_MAX, 1);
    int8_t *wb = calloc(NL_CHANNELS_MAX, 1);
    ck_assert(mult && shift && wb);
    nl_conv_desc d = { 1, 2, 1, NL_CHANNELS_MAX, NL_S16, NL_S16, wb, { NULL, mult, shift, -NL_S16_MAX, NL_S16_MAX } };
    ck_assert_int_eq(nl_conv_check(&d), 0);
    free(mult);
    free(shift);
    free(wb);
}
END_TEST

START_TEST(requant_check_fields)
{
    int32_t mult[] = { 5, 7, 9 };
    uint8_t shift[] = { 1, 2, 3 };
    int32_t bias[] = { 0, NL_BIAS_MAX, -NL_BIAS_MAX };
    nl_requant rq = { bias, mult, shift, 0, 255 };
    ck_assert_int_eq(nl_requant_check(&rq, 3, NL_U8), 0);
    ck_assert_int_eq(nl_requant_check(&rq, 3, NL_S8), NEUVC_ERR(EINVAL)); /* hi 255 > 127 */
    ck_assert_int_eq(nl_requant_check(&rq, 0, NL_U8), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nl_requant_check(NULL, 3, NL_U8), NEUVC_ERR(EINVAL));
    bias[2] = -NL_BIAS_MAX - 1;
    ck_assert_int_eq(nl_requant_check(&rq, 3, NL_U8), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nl_requant_check(&rq, 2, NL_U8), 0); /* only c entries */
}
END_TEST

/* ------------------------------------------------------- MAC counter */

START_TEST(mac_counter)
{
    /* 3x3 stride 2, cin 3, cout 4 on 5x7: output 3x4, 12 pixels * 4
     * channels * 27 taps = 1296 (nominal, border taps included). */
    conv_case cc = conv_new(3, 2, 3, 4, NL_U8, NL_U8, NULL, NULL, 1, 0);
    nl_tensor src = tnew_packed(5, 7, 3, NL_U8), dst = tnew_packed(3, 4, 4, NL_U8);
    tfill_const(&src, 1);
    nl_stats st = { 1000 };
    nl_conv_ref(&cc.d, &src, &dst, 0, 3, &st);
    ck_assert_uint_eq(st.macs, 1000 + 1296);
    /* rows [1, 3): 2 rows * 4 * 4 * 27 = 864 */
    nl_conv_ref(&cc.d, &src, &dst, 1, 3, &st);
    ck_assert_uint_eq(st.macs, 2296 + 864);
    /* an empty range adds nothing; a NULL counter is allowed */
    nl_conv_ref(&cc.d, &src, &dst, 2, 2, &st);
    ck_assert_uint_eq(st.macs, 3160);
    nl_conv_ref(&cc.d, &src, &dst, 0, 3, NULL);
    tfree(&src);
    tfree(&dst);
    conv_free(&cc);

    /* 1x1 stride 1, cin 5, cout 3 on 2x3: 6 * 3 * 5 = 90. */
    cc = conv_new(1, 1, 5, 3, NL_S16, NL_S32, NULL, NULL, 1, 0);
    src = tnew_packed(2, 3, 5, NL_S16);
    dst = tnew_packed(2, 3, 3, NL_S32);
    tfill_const(&src, 0);
    st.macs = 0;
    nl_conv_ref(&cc.d, &src, &dst, 0, 2, &st);
    ck_assert_uint_eq(st.macs, 90);
    tfree(&src);
    tfree(&dst);
    conv_free(&cc);
}
END_TEST

static Suite *netlib_ref_suite(void)
{
    Suite *s = suite_create("netlib_ref");
    TCase *tc = tcase_create("ref");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, type_helpers);
    tcase_add_test(tc, rounding_ties);
    tcase_add_test(tc, rounding_shift0);
    tcase_add_test(tc, rounding_shift62);
    tcase_add_test(tc, requant_bias_and_types);
    tcase_add_test(tc, saturation_every_type);
    tcase_add_test(tc, conv3x3_zero_padding);
    tcase_add_test(tc, conv3x3_orientation);
    tcase_add_test(tc, conv_stride2_odd);
    tcase_add_test(tc, conv1x1_cin5);
    tcase_add_test(tc, conv_s16_extremes);
    tcase_add_test(tc, conv_u8_extremes);
    tcase_add_test(tc, conv_random_vs_naive);
    tcase_add_test(tc, conv_row_ranges);
    tcase_add_test(tc, conv_wide_strides);
    tcase_add_test(tc, elementwise_wide_strides);
    tcase_add_test(tc, add_multipliers);
    tcase_add_test(tc, add_check_fields);
    tcase_add_test(tc, clamp_every_type);
    tcase_add_test(tc, s2d_d2s_order);
    tcase_add_test(tc, s2d_d2s_round_trip);
    tcase_add_test(tc, concat_channels);
    tcase_add_test(tc, conv_check_fields);
    tcase_add_test(tc, conv_check_bounds);
    tcase_add_test(tc, conv_check_accumulator);
    tcase_add_test(tc, requant_check_fields);
    tcase_add_test(tc, mac_counter);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(netlib_ref_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
