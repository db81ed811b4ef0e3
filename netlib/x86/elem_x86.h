/*
 * x86 kernels of the element-wise and data-movement ops (requant, add,
 * clamp, concat, space-to-depth, depth-to-space): the table fillers.
 *
 * Per-channel constants.  requant and add apply per-channel constants to
 * HWC rows, i.e. constants that repeat every c elements.  The kernels walk
 * a row L elements at a time (L lanes) and read the constants from a
 * pattern of P = lcm(c, L) elements built on the stack at each call (the
 * channel of element e of a row is e % c, and P is a multiple of both c
 * and L, so position e % P of the pattern is that channel's constant and
 * each step of L stays inside the pattern).  Rows whose pattern would
 * exceed NL_X86_ELEM_PMAX elements (c above 1024) run the reference.
 */
#ifndef NEUVC_NETLIB_X86_ELEM_X86_H
#define NEUVC_NETLIB_X86_ELEM_X86_H

#include "netlib/dsp.h"

#define NL_X86_ELEM_PMAX 1024

/* P = lcm(c, lanes) (lanes a power of two), or 0 when above
 * NL_X86_ELEM_PMAX. */
static inline int nl_x86_elem_period(int c, int lanes)
{
    int g = 1;
    while (g < lanes && c % (2 * g) == 0)
        g *= 2;
    long p = (long)c * (lanes / g);
    return p <= NL_X86_ELEM_PMAX ? (int)p : 0;
}

/* Per-channel constants of requant over a pattern of period elements
 * (channel e % c at position e): x * m + k, shifted right by s, is the
 * reference's rounded result (k = bias * m + rounding); sub = 2^(63 - s)
 * for the AVX2 form's biased shift (the AVX-512 form shifts arithmetically
 * and ignores it). */
typedef struct nl_x86_rq_pattern {
    int64_t m[NL_X86_ELEM_PMAX], k[NL_X86_ELEM_PMAX], s[NL_X86_ELEM_PMAX],
        sub[NL_X86_ELEM_PMAX];
} nl_x86_rq_pattern;

/* The same for add: a * ma + b * mb + k, shifted right by s. */
typedef struct nl_x86_add_pattern {
    int64_t ma[NL_X86_ELEM_PMAX], mb[NL_X86_ELEM_PMAX], k[NL_X86_ELEM_PMAX],
        s[NL_X86_ELEM_PMAX], sub[NL_X86_ELEM_PMAX];
} nl_x86_add_pattern;

/* Fill the first period (<= NL_X86_ELEM_PMAX) entries for c channels
 * (elem_x86.c; plain C). */
void nl_x86_rq_pattern_fill(nl_x86_rq_pattern *pt, const nl_requant *rq, int c, int period);
void nl_x86_add_pattern_fill(nl_x86_add_pattern *pt, const nl_add_desc *ad, int c, int period);

/* add in 32-bit lanes (elem_avx512.c states the method and its proof).
 * Covers the descriptors whose every channel has shift >= 17 and ma, mb <
 * NL_X86_ADD16_MMAX; each multiplier m is split as m = mh * 2^16 + ml with
 * ml in [-2^15, 2^15), mh in [0, 2^15).  The pattern is in the order of
 * the kernel's lanes: in each block of 32 elements (period a multiple of
 * 32), entries 0..15 are the elements 8i + {0..3} and entries 16..31 the
 * elements 8i + {4..7} (i = 0..3: vpunpck[lh]wd order), each holding the
 * (a, b) pairs of s16 pieces (a in the low half) and shift - 17. */
#define NL_X86_ADD16_MMAX (INT32_MAX - 32767) /* 2^31 - 2^15 */
typedef struct nl_x86_add16_pattern {
    int32_t ml[NL_X86_ELEM_PMAX], mh[NL_X86_ELEM_PMAX], s[NL_X86_ELEM_PMAX];
} nl_x86_add16_pattern;

/* 1 if the first c channels of ad are covered (as above), else 0. */
int nl_x86_add16_covered(const nl_add_desc *ad, int c);
void nl_x86_add16_pattern_fill(nl_x86_add16_pattern *pt, const nl_add_desc *ad, int c,
                               int period);

/* p and q are the same rows (data, stride and type): an element op may
 * run in place on them, each group of lanes read before it is written. */
static inline int nl_x86_same_rows(const nl_tensor *p, const nl_tensor *q)
{
    return p->data == q->data && p->stride == q->stride && p->type == q->type;
}

/* requant may run the vector rows: the pattern fits (period > 0) and dst
 * is not over src with other rows (outside the contract; in place over the
 * same rows is safe: each group of lanes is read before it is written).
 * Otherwise the reference runs. */
static inline int nl_x86_rq_vector_ok(int period, const nl_tensor *src, const nl_tensor *dst)
{
    return period && (src->data != dst->data || nl_x86_same_rows(src, dst));
}

/* The same for add, dst over a or b. */
static inline int nl_x86_add_vector_ok(int period, const nl_tensor *a, const nl_tensor *b,
                                       const nl_tensor *dst)
{
    return period && (dst->data != a->data || nl_x86_same_rows(dst, a)) &&
           (dst->data != b->data || nl_x86_same_rows(dst, b));
}

/* The type pairs the model's requant (in, out) and add (both inputs, out)
 * use, each given its own specialised loop as X(in, out); other pairs
 * share one generic loop. */
#define NL_X86_RQ_PAIRS(X) X(NL_U8, NL_S16) X(NL_S16, NL_S16) X(NL_S32, NL_S16) X(NL_S16, NL_U8)
#define NL_X86_ADD_PAIRS(X) X(NL_S16, NL_S16) X(NL_S16, NL_S32) X(NL_S16, NL_U8)

/* Plain C data-movement kernels (shuffle_x86.c; no ISA flags), used from
 * the AVX2 level up: s2d / d2s through a per-call table of element
 * offsets, concat with whole-pixel copies. */
void nl_s2d_c_fast(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1);
void nl_d2s_c_fast(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1);

/* concat with AVX2 (elem_avx2.c): parts of up to 64 bytes with whole-
 * vector moves, larger ones through the reference; the AVX-512 kernel
 * runs it for the shapes it has no form for. */
void nl_concat_avx2(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst, int y0, int y1);

/* Table fillers; call only when nl_cpu_flags() has the level. */
void nl_dsp_init_x86_elem_avx2(nl_dsp *d);
void nl_dsp_init_x86_elem_avx512(nl_dsp *d);

#endif
