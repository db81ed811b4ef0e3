/*
 * Element-wise kernels with AVX-512 (F, BW, VL, VNNI): requant, add,
 * clamp, concat.  Constants per channel as elem_x86.h describes (L = 8
 * lanes of 64 bits; the 32-bit add form: L = 32 elements).
 *
 * requant, exactly the reference's int64 arithmetic:
 *   the reference computes ((x + bias) * m + 2^(s-1)) >> s; here
 *   x * m + (bias * m + 2^(s-1)), the same integer (no step overflows:
 *   |x| <= 2^31 as int32, 0 <= m < 2^31 so |x * m| <= 2^62; |bias * m| <
 *   2^61 and 2^(s-1) <= 2^61 so the constant is below 2^62; the sum is
 *   below 2^63).  x is loaded sign- or zero-extended into 64-bit lanes,
 *   vpmuldq multiplies the low signed 32 bits (all of x, all of m),
 *   vpsravq is the arithmetic (flooring) shift, vpminsq / vpmaxsq clamp
 *   in 64 bits to [lo, hi] (inside the output type), and vpmovq[bwd]
 *   store the low bits, which are then the value.
 * add, 64-bit form (any descriptor): a * ma + b * mb with |a|, |b| <=
 *   2^15 (u8, s8, s16 inputs) and 0 <= ma, mb < 2^31: |sum| < 2^47;
 *   + 2^(s-1), vpsravq, clamp as above (the reference's rounding rule with
 *   m = 1).
 * add, 32-bit form (16 lanes; descriptors with every shift >= 17 and ma,
 *   mb < 2^31 - 2^15: nl_x86_add16_covered), exact as follows.  Inputs a,
 *   b in [-2^15, 2^15) (u8 and s8 widened to s16), interleaved as (a, b)
 *   s16 pairs by vpunpck[lh]wd.  Each multiplier m = mh * 2^16 + ml with
 *   mh in [0, 2^15), ml in [-2^15, 2^15) (elem_x86.c), so
 *     sum = a * ma + b * mb = H * 2^16 + L,
 *     H = a * mha + b * mhb in [-2^31 + 2^16, 2^31 - 2^17 + 2],
 *     L = a * mla + b * mlb in [-2^31 + 2^16, 2^31]
 *   (each product of two s16 fits int32; only L's top value 2^31, at a =
 *   mla = b = mlb = -2^15, leaves int32).  vpdpwssd adds the two products
 *   to its accumulator modulo 2^32 (no saturation), so:
 *     U = vpdpwssd(2^31 - 2^16; a, b; mla, mlb) = L + 2^31 - 2^16, which
 *       lies in [0, 2^32 - 2^16]: exact as an unsigned 32-bit number, and
 *       the logical shift gives U >> 16 = floor(L / 2^16) + 2^15 - 1;
 *     G = vpdpwssd(-(2^15 - 1); a, b; mha, mhb) = H - 2^15 + 1, in int32;
 *     V = G + (U >> 16) = H + floor(L / 2^16) = floor(sum / 2^16), in
 *       [-2^31 + 2^15, 2^31 - 2^17 + 2^15 + 2]: int32, so the wrapping
 *       vpaddd gives it exactly.
 *   The reference's result, with k = s - 16 >= 1 (s >= 17, so 2^(s-1) is
 *   a multiple of 2^16 and drops out of the inner floor):
 *     floor((sum + 2^(s-1)) / 2^s) = floor((V + 2^(k-1)) / 2^k)
 *                                  = floor((floor(V / 2^(k-1)) + 1) / 2),
 *   nested floors of positive powers of two (floor(floor(x / p) / q) =
 *   floor(x / (p q))).  vpsravd by k - 1 = s - 17 (0 .. 45) is floor(V /
 *   2^(k-1)); counts of 32 and more fill with the sign bit, which is that
 *   floor too since |V| < 2^31.  + 1 cannot overflow (V < 2^31 - 1), and
 *   vpsrad by 1 is the last floor.  The result is the reference's value
 *   before its clamp, in int32; the clamp is vpminsd / vpmaxsd (s32
 *   output) or, for the narrower outputs, vpackssdw (saturation to s16)
 *   then vpminsw / vpmaxsw: [lo, hi] lies inside s16, so clamping the
 *   saturated value gives the same result.  The lanes hold elements 8i +
 *   {0..3} (low unpack) and 8i + {4..7} (high unpack), the constants are
 *   stored in that order (nl_x86_add16_pattern), and vpackssdw puts the
 *   elements back in row order (s32 output: vpermt2d).  7 operations per
 *   16 results where the 64-bit form takes 7 per 8.
 * Tails (row lengths not a multiple of 8, or of 32) use masked loads and
 * stores, so nothing outside a row's w * c elements is read or written.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "netlib/ref/elem.h"
#include "netlib/x86/elem_x86.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* 8 elements (mask k) of type t at element e of row p, as int64 lanes. */
ALWAYS_INLINE __m512i load8(const void *p, ptrdiff_t e, nl_type t, __mmask8 k)
{
    switch (t) {
    case NL_U8: return _mm512_cvtepu8_epi64(_mm_maskz_loadu_epi8(k, (const uint8_t *)p + e));
    case NL_S8: return _mm512_cvtepi8_epi64(_mm_maskz_loadu_epi8(k, (const int8_t *)p + e));
    case NL_S16: return _mm512_cvtepi16_epi64(_mm_maskz_loadu_epi16(k, (const int16_t *)p + e));
    default: return _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, (const int32_t *)p + e));
    }
}

/* Stores the low bits of 8 int64 lanes (mask k): the value, once clamped
 * into t's range. */
ALWAYS_INLINE void store8(void *p, ptrdiff_t e, nl_type t, __mmask8 k, __m512i v)
{
    switch (t) {
    case NL_U8:
    case NL_S8: _mm512_mask_cvtepi64_storeu_epi8((uint8_t *)p + e, k, v); break;
    case NL_S16: _mm512_mask_cvtepi64_storeu_epi16((int16_t *)p + e, k, v); break;
    default: _mm512_mask_cvtepi64_storeu_epi32((int32_t *)p + e, k, v); break;
    }
}

/* ------------------------------------------------------------ requant */

ALWAYS_INLINE void requant_rows(const nl_x86_rq_pattern *pt, int period, const nl_tensor *src,
                                nl_tensor *dst, int64_t lo, int64_t hi, int y0, int y1,
                                nl_type ti, nl_type to)
{
    const ptrdiff_t n = (ptrdiff_t)src->w * src->c;
    const __m512i vlo = _mm512_set1_epi64(lo), vhi = _mm512_set1_epi64(hi);
    for (int y = y0; y < y1; y++) {
        const void *s = nl_elem_ptr(src, y, 0);
        void *d = nl_elem_ptr(dst, y, 0);
        int j = 0;
        for (ptrdiff_t e = 0; e < n; e += 8) {
            __mmask8 k = n - e >= 8 ? 0xFF : (__mmask8)((1u << (n - e)) - 1);
            __m512i x = load8(s, e, ti, k);
            __m512i v = _mm512_add_epi64(_mm512_mul_epi32(x, _mm512_loadu_si512(pt->m + j)),
                                         _mm512_loadu_si512(pt->k + j));
            v = _mm512_srav_epi64(v, _mm512_loadu_si512(pt->s + j));
            v = _mm512_min_epi64(_mm512_max_epi64(v, vlo), vhi);
            store8(d, e, to, k, v);
            j += 8;
            if (j == period)
                j = 0;
        }
    }
}

/* requant with mult 1 and shift 0 on every channel (the model's u8 -> s16
 * widening): clamp(x + bias, lo, hi), the reference's value with no
 * rounding step.  x is u8, s8 or s16 (|x| <= 2^15) and |bias| < 2^30, so
 * x + bias fits int32: 16 lanes of 32 bits, clamped by vpmaxsd / vpminsd
 * into [lo, hi] (inside the output type), stored by vpmovd[bw] (the low
 * bits, which are then the value) or as is. */
ALWAYS_INLINE __m512i load16_epi32(const void *p, ptrdiff_t e, nl_type t, __mmask16 k)
{
    switch (t) {
    case NL_U8: return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(k, (const uint8_t *)p + e));
    case NL_S8: return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, (const int8_t *)p + e));
    default: return _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(k, (const int16_t *)p + e));
    }
}

ALWAYS_INLINE void offset_rows(const int32_t *bp, int period, const nl_tensor *src,
                               nl_tensor *dst, int32_t lo, int32_t hi, int y0, int y1,
                               nl_type ti, nl_type to)
{
    const ptrdiff_t n = (ptrdiff_t)src->w * src->c;
    const __m512i vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
    for (int y = y0; y < y1; y++) {
        const void *s = nl_elem_ptr(src, y, 0);
        void *d = nl_elem_ptr(dst, y, 0);
        int j = 0;
        for (ptrdiff_t e = 0; e < n; e += 16) {
            __mmask16 k = n - e >= 16 ? 0xFFFF : (__mmask16)((1u << (n - e)) - 1);
            __m512i v = _mm512_add_epi32(load16_epi32(s, e, ti, k), _mm512_loadu_si512(bp + j));
            v = _mm512_min_epi32(_mm512_max_epi32(v, vlo), vhi);
            switch (to) {
            case NL_U8:
            case NL_S8: _mm512_mask_cvtepi32_storeu_epi8((int8_t *)d + e, k, v); break;
            case NL_S16: _mm512_mask_cvtepi32_storeu_epi16((int16_t *)d + e, k, v); break;
            default: _mm512_mask_storeu_epi32((int32_t *)d + e, k, v); break;
            }
            j += 16;
            if (j == period)
                j = 0;
        }
    }
}

/* 1 if requant is an offset (mult 1, shift 0 on the first c channels). */
static int rq_is_offset(const nl_requant *rq, int c)
{
    for (int ch = 0; ch < c; ch++)
        if (rq->mult[ch] != 1 || rq->shift[ch] != 0)
            return 0;
    return 1;
}

static void nl_requant_avx512(const nl_requant *rq, const nl_tensor *src, nl_tensor *dst,
                              int y0, int y1)
{
    const int c = src->c, p16 = nl_x86_elem_period(c, 16);
    if (src->type != NL_S32 && nl_x86_rq_vector_ok(p16, src, dst) && rq_is_offset(rq, c)) {
        int32_t bp[NL_X86_ELEM_PMAX];
        for (int e = 0; e < p16; e++)
            bp[e] = rq->bias ? rq->bias[e % c] : 0;
        const nl_type ti = src->type, to = dst->type;
        if (ti == NL_U8 && to == NL_S16)
            offset_rows(bp, p16, src, dst, rq->lo, rq->hi, y0, y1, NL_U8, NL_S16);
        else
            offset_rows(bp, p16, src, dst, rq->lo, rq->hi, y0, y1, ti, to);
        return;
    }
    const int period = nl_x86_elem_period(c, 8);
    if (!nl_x86_rq_vector_ok(period, src, dst)) {
        nl_requant_ref(rq, src, dst, y0, y1);
        return;
    }
    nl_x86_rq_pattern pt;
    nl_x86_rq_pattern_fill(&pt, rq, c, period);
    const nl_type ti = src->type, to = dst->type;
#define RQ_CASE(a, b)                                                                  \
    if (ti == a && to == b) {                                                          \
        requant_rows(&pt, period, src, dst, rq->lo, rq->hi, y0, y1, a, b);             \
        return;                                                                        \
    }
    NL_X86_RQ_PAIRS(RQ_CASE)
#undef RQ_CASE
    requant_rows(&pt, period, src, dst, rq->lo, rq->hi, y0, y1, ti, to);
}

/* ---------------------------------------------------------------- add */

ALWAYS_INLINE void add_rows(const nl_x86_add_pattern *pt, int period, const nl_tensor *a,
                            const nl_tensor *b, nl_tensor *dst, int64_t lo, int64_t hi, int y0,
                            int y1, nl_type ta, nl_type tb, nl_type to)
{
    const ptrdiff_t n = (ptrdiff_t)a->w * a->c;
    const __m512i vlo = _mm512_set1_epi64(lo), vhi = _mm512_set1_epi64(hi);
    for (int y = y0; y < y1; y++) {
        const void *pa = nl_elem_ptr(a, y, 0), *pb = nl_elem_ptr(b, y, 0);
        void *d = nl_elem_ptr(dst, y, 0);
        int j = 0;
        for (ptrdiff_t e = 0; e < n; e += 8) {
            __mmask8 k = n - e >= 8 ? 0xFF : (__mmask8)((1u << (n - e)) - 1);
            __m512i va = load8(pa, e, ta, k), vb = load8(pb, e, tb, k);
            __m512i v = _mm512_add_epi64(_mm512_mul_epi32(va, _mm512_loadu_si512(pt->ma + j)),
                                         _mm512_mul_epi32(vb, _mm512_loadu_si512(pt->mb + j)));
            v = _mm512_add_epi64(v, _mm512_loadu_si512(pt->k + j));
            v = _mm512_srav_epi64(v, _mm512_loadu_si512(pt->s + j));
            v = _mm512_min_epi64(_mm512_max_epi64(v, vlo), vhi);
            store8(d, e, to, k, v);
            j += 8;
            if (j == period)
                j = 0;
        }
    }
}

/* 32 elements (mask k) of type t (u8, s8 or s16) at element e of row p,
 * as s16. */
ALWAYS_INLINE __m512i load32(const void *p, ptrdiff_t e, nl_type t, __mmask32 k)
{
    switch (t) {
    case NL_U8: return _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(k, (const uint8_t *)p + e));
    case NL_S8: return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(k, (const int8_t *)p + e));
    default: return _mm512_maskz_loadu_epi16(k, (const int16_t *)p + e);
    }
}

/* floor((sum + 2^(s-1)) / 2^s) of 16 (a, b) pairs x: the 32-bit form
 * above (ml, mh, s - 17 from the pattern). */
ALWAYS_INLINE __m512i add16_step(__m512i x, const int32_t *ml, const int32_t *mh,
                                 const int32_t *s17)
{
    const __m512i cu = _mm512_set1_epi32(0x7FFF0000), cg = _mm512_set1_epi32(-32767);
    __m512i u = _mm512_dpwssd_epi32(cu, x, _mm512_loadu_si512(ml));
    __m512i g = _mm512_dpwssd_epi32(cg, x, _mm512_loadu_si512(mh));
    __m512i v = _mm512_add_epi32(g, _mm512_srli_epi32(u, 16));
    v = _mm512_srav_epi32(v, _mm512_loadu_si512(s17));
    return _mm512_srai_epi32(_mm512_add_epi32(v, _mm512_set1_epi32(1)), 1);
}

ALWAYS_INLINE void add16_rows(const nl_x86_add16_pattern *pt, int period, const nl_tensor *a,
                              const nl_tensor *b, nl_tensor *dst, int32_t lo, int32_t hi,
                              int y0, int y1, nl_type ta, nl_type tb, nl_type to)
{
    const ptrdiff_t n = (ptrdiff_t)a->w * a->c;
    const __m512i lo16 = _mm512_set1_epi16((short)lo), hi16 = _mm512_set1_epi16((short)hi);
    const __m512i lo32 = _mm512_set1_epi32(lo), hi32 = _mm512_set1_epi32(hi);
    /* s32 output: row order from the unpack order (entries 0..15 of the
     * low result, 16..31 of the high one). */
    const __m512i ord0 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i ord1 = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29,
                                           30, 31);
    for (int y = y0; y < y1; y++) {
        const void *pa = nl_elem_ptr(a, y, 0), *pb = nl_elem_ptr(b, y, 0);
        void *d = nl_elem_ptr(dst, y, 0);
        int j = 0;
        for (ptrdiff_t e = 0; e < n; e += 32) {
            __mmask32 k = n - e >= 32 ? ~(__mmask32)0 : (__mmask32)((1u << (n - e)) - 1);
            __m512i va = load32(pa, e, ta, k), vb = load32(pb, e, tb, k);
            __m512i r0 = add16_step(_mm512_unpacklo_epi16(va, vb), pt->ml + j, pt->mh + j,
                                    pt->s + j);
            __m512i r1 = add16_step(_mm512_unpackhi_epi16(va, vb), pt->ml + j + 16,
                                    pt->mh + j + 16, pt->s + j + 16);
            if (to == NL_S32) {
                r0 = _mm512_min_epi32(_mm512_max_epi32(r0, lo32), hi32);
                r1 = _mm512_min_epi32(_mm512_max_epi32(r1, lo32), hi32);
                int32_t *d32 = (int32_t *)d + e;
                _mm512_mask_storeu_epi32(d32, (__mmask16)k,
                                         _mm512_permutex2var_epi32(r0, ord0, r1));
                _mm512_mask_storeu_epi32(d32 + 16, (__mmask16)(k >> 16),
                                         _mm512_permutex2var_epi32(r0, ord1, r1));
            } else {
                __m512i r = _mm512_min_epi16(_mm512_max_epi16(_mm512_packs_epi32(r0, r1), lo16),
                                             hi16);
                if (to == NL_S16)
                    _mm512_mask_storeu_epi16((int16_t *)d + e, k, r);
                else
                    _mm512_mask_cvtepi16_storeu_epi8((int8_t *)d + e, k, r);
            }
            j += 32;
            if (j == period)
                j = 0;
        }
    }
}

static void nl_add_avx512(const nl_add_desc *ad, const nl_tensor *a, const nl_tensor *b,
                          nl_tensor *dst, int y0, int y1)
{
    const int c = a->c, period16 = nl_x86_elem_period(c, 32);
    if (nl_x86_add_vector_ok(period16, a, b, dst) && nl_x86_add16_covered(ad, c)) {
        nl_x86_add16_pattern pt;
        nl_x86_add16_pattern_fill(&pt, ad, c, period16);
        const nl_type ta = a->type, tb = b->type, to = dst->type;
#define ADD16_CASE(x, o)                                                               \
        if (ta == x && tb == x && to == o) {                                           \
            add16_rows(&pt, period16, a, b, dst, ad->lo, ad->hi, y0, y1, x, x, o);     \
            return;                                                                    \
        }
        NL_X86_ADD_PAIRS(ADD16_CASE)
#undef ADD16_CASE
        add16_rows(&pt, period16, a, b, dst, ad->lo, ad->hi, y0, y1, ta, tb, to);
        return;
    }
    const int period = nl_x86_elem_period(c, 8);
    if (!nl_x86_add_vector_ok(period, a, b, dst)) {
        nl_add_ref(ad, a, b, dst, y0, y1);
        return;
    }
    nl_x86_add_pattern pt;
    nl_x86_add_pattern_fill(&pt, ad, c, period);
    const nl_type ta = a->type, tb = b->type, to = dst->type;
#define ADD_CASE(x, o)                                                                 \
    if (ta == x && tb == x && to == o) {                                               \
        add_rows(&pt, period, a, b, dst, ad->lo, ad->hi, y0, y1, x, x, o);             \
        return;                                                                        \
    }
    NL_X86_ADD_PAIRS(ADD_CASE)
#undef ADD_CASE
    add_rows(&pt, period, a, b, dst, ad->lo, ad->hi, y0, y1, ta, tb, to);
}

/* -------------------------------------------------------------- clamp */

static void nl_clamp_avx512(nl_tensor *t, int32_t lo, int32_t hi, int y0, int y1)
{
    const ptrdiff_t es = nl_elem_size(t->type), nb = (ptrdiff_t)t->w * t->c * es;
    for (int y = y0; y < y1; y++) {
        uint8_t *p = nl_elem_ptr(t, y, 0);
        for (ptrdiff_t o = 0; o < nb; o += 64) {
            __mmask64 k = nb - o >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (nb - o)) - 1);
            __m512i v = _mm512_maskz_loadu_epi8(k, p + o);
            switch (t->type) {
            case NL_U8:
                v = _mm512_min_epu8(_mm512_max_epu8(v, _mm512_set1_epi8((char)lo)),
                                    _mm512_set1_epi8((char)hi));
                break;
            case NL_S8:
                v = _mm512_min_epi8(_mm512_max_epi8(v, _mm512_set1_epi8((char)lo)),
                                    _mm512_set1_epi8((char)hi));
                break;
            case NL_S16:
                v = _mm512_min_epi16(_mm512_max_epi16(v, _mm512_set1_epi16((short)lo)),
                                     _mm512_set1_epi16((short)hi));
                break;
            default:
                v = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(lo)),
                                     _mm512_set1_epi32(hi));
                break;
            }
            _mm512_mask_storeu_epi8(p + o, k, v);
        }
    }
}

/* ------------------------------------------------------------- concat
 *
 * Parts of na and nb bytes per pixel (dst nd = na + nb), moved in units
 * of U = 4 or 2 bytes (the largest that divides na and nb; a u8 part of
 * odd size has none: the AVX2 kernel runs).  With V = 64 / U units per
 * vector and nd_u = nd / U, a group of P = V / gcd(V, nd_u) pixels fills
 * T = nd_u / gcd(V, nd_u) whole vectors of dst.  Each of them is one
 * vpermt2[dw] of two loads: V units of a from abase[t] and V units of b
 * from bbase[t] (units from the group's start), with the unit each lane
 * takes in idx[t] (a's below V, b's from V).  The a units of one output
 * vector are consecutive units of a (the b parts between them take no a
 * units), so they lie within V of each other, and so do the b units; for
 * parts below 64 bytes nd_u < 2V, so T < CONCAT_TMAX.  The groups whose
 * loads stay inside the rows run unmasked; the last ones mask the loads
 * at the rows' ends and the stores at dst's.  Parts of 64 bytes and more
 * are copied pixel by pixel with whole vectors and one masked vector for
 * the rest. */

#define CONCAT_TMAX 64 /* nd_u / gcd(V, nd_u) < 64 for parts below 64 bytes */

typedef struct concat_plan {
    int P, T;
    int abase[CONCAT_TMAX], bbase[CONCAT_TMAX];
    int aover, bover;            /* max(base + V) - P * n_u: reach past a group */
    union {
        int32_t d[CONCAT_TMAX][16];
        int16_t w[CONCAT_TMAX][32];
    } idx;
} concat_plan;

static int gcd_int(int x, int y)
{
    while (y) {
        int t = x % y;
        x = y;
        y = t;
    }
    return x;
}

/* 1 and the plan of parts na_u + nb_u units, V units a vector; 0 if none. */
static int concat_plan_make(concat_plan *pl, int na_u, int nb_u, int V)
{
    const int nd_u = na_u + nb_u, g = gcd_int(V, nd_u);
    pl->P = V / g;
    pl->T = nd_u / g;
    if (pl->T > CONCAT_TMAX)
        return 0;
    pl->aover = pl->bover = INT32_MIN;
    for (int t = 0; t < pl->T; t++) {
        int amin = INT32_MAX, amax = -1, bmin = INT32_MAX, bmax = -1;
        for (int o = t * V; o < (t + 1) * V; o++) {
            int x = o / nd_u, q = o % nd_u;
            if (q < na_u) {
                int u = x * na_u + q;
                amin = u < amin ? u : amin;
                amax = u > amax ? u : amax;
            } else {
                int u = x * nb_u + q - na_u;
                bmin = u < bmin ? u : bmin;
                bmax = u > bmax ? u : bmax;
            }
        }
        if (amax - amin >= V || bmax - bmin >= V)
            return 0;
        pl->abase[t] = amax < 0 ? 0 : amin;
        pl->bbase[t] = bmax < 0 ? 0 : bmin;
        int ao = pl->abase[t] + V - pl->P * na_u, bo = pl->bbase[t] + V - pl->P * nb_u;
        pl->aover = ao > pl->aover ? ao : pl->aover;
        pl->bover = bo > pl->bover ? bo : pl->bover;
        for (int o = t * V; o < (t + 1) * V; o++) {
            int x = o / nd_u, q = o % nd_u;
            int i = q < na_u ? x * na_u + q - pl->abase[t] : V + x * nb_u + q - na_u - pl->bbase[t];
            if (V == 16)
                pl->idx.d[t][o - t * V] = i;
            else
                pl->idx.w[t][o - t * V] = (int16_t)i;
        }
    }
    return 1;
}

/* Mask of the first n (clamped to 0 .. V) of V lanes. */
ALWAYS_INLINE uint64_t lanes_mask(ptrdiff_t n, const int V)
{
    return n >= V ? (V == 64 ? ~(uint64_t)0 : ((uint64_t)1 << V) - 1)
                  : n <= 0 ? 0 : ((uint64_t)1 << n) - 1;
}

ALWAYS_INLINE __m512i load_u(const void *p, uint64_t k, const int U)
{
    return U == 4 ? _mm512_maskz_loadu_epi32((__mmask16)k, p)
                  : _mm512_maskz_loadu_epi16((__mmask32)k, p);
}

ALWAYS_INLINE void concat_vec(uint8_t *d, const uint8_t *pa, const uint8_t *pb, const void *idx,
                              uint64_t ka, uint64_t kb, uint64_t kd, const int U, const int full)
{
    __m512i va = full ? _mm512_loadu_si512(pa) : load_u(pa, ka, U);
    __m512i vb = full ? _mm512_loadu_si512(pb) : load_u(pb, kb, U);
    __m512i ix = _mm512_loadu_si512(idx);
    if (U == 4) {
        __m512i v = _mm512_permutex2var_epi32(va, ix, vb);
        if (full)
            _mm512_storeu_si512(d, v);
        else
            _mm512_mask_storeu_epi32(d, (__mmask16)kd, v);
    } else {
        __m512i v = _mm512_permutex2var_epi16(va, ix, vb);
        if (full)
            _mm512_storeu_si512(d, v);
        else
            _mm512_mask_storeu_epi16(d, (__mmask32)kd, v);
    }
}

ALWAYS_INLINE void concat_perm_rows(const concat_plan *pl, const nl_tensor *a, const nl_tensor *b,
                                    nl_tensor *dst, int y0, int y1, const int U)
{
    const int V = 64 / U, P = pl->P, T = pl->T, w = dst->w;
    const ptrdiff_t es = nl_elem_size(dst->type);
    const ptrdiff_t na_u = a->c * es / U, nb_u = b->c * es / U, nd_u = na_u + nb_u;
    const ptrdiff_t ra = w * na_u, rb = w * nb_u, rd = w * nd_u; /* row lengths, units */
    /* Groups [0, gs): every load inside the rows. */
    ptrdiff_t gs = w / P;
    if (pl->aover > 0 && (ra - pl->aover) / (P * na_u) < gs)
        gs = (ra - pl->aover) / (P * na_u);
    if (pl->bover > 0 && (rb - pl->bover) / (P * nb_u) < gs)
        gs = (rb - pl->bover) / (P * nb_u);
    gs = gs < 0 ? 0 : gs;
    const ptrdiff_t ng = (w + P - 1) / P;
    for (int y = y0; y < y1; y++) {
        const uint8_t *pa = nl_elem_ptr(a, y, 0), *pb = nl_elem_ptr(b, y, 0);
        uint8_t *d = nl_elem_ptr(dst, y, 0);
        ptrdiff_t g = 0;
        for (; g < gs; g++) {
            const uint8_t *ga = pa + g * P * na_u * U, *gb = pb + g * P * nb_u * U;
            uint8_t *gd = d + g * P * nd_u * U;
            for (int t = 0; t < T; t++)
                concat_vec(gd + t * 64, ga + pl->abase[t] * U, gb + pl->bbase[t] * U,
                           U == 4 ? (const void *)pl->idx.d[t] : (const void *)pl->idx.w[t],
                           0, 0, 0, U, 1);
        }
        for (; g < ng; g++) {
            const ptrdiff_t A = g * P * na_u, B = g * P * nb_u, D = g * P * nd_u;
            for (int t = 0; t < T && D + t * V < rd; t++) {
                const ptrdiff_t ao = A + pl->abase[t], bo = B + pl->bbase[t];
                concat_vec(d + (D + t * V) * U, pa + ao * U, pb + bo * U,
                           U == 4 ? (const void *)pl->idx.d[t] : (const void *)pl->idx.w[t],
                           lanes_mask(ra - ao, V), lanes_mask(rb - bo, V),
                           lanes_mask(rd - D - t * V, V), U, 0);
            }
        }
    }
}

/* n bytes from s to d: whole vectors, then one masked (tail mask kt). */
ALWAYS_INLINE void copy_part(uint8_t *d, const uint8_t *s, ptrdiff_t n64, __mmask64 kt)
{
    for (ptrdiff_t i = 0; i < n64; i++)
        _mm512_storeu_si512(d + 64 * i, _mm512_loadu_si512(s + 64 * i));
    if (kt)
        _mm512_mask_storeu_epi8(d + 64 * n64, kt, _mm512_maskz_loadu_epi8(kt, s + 64 * n64));
}

static void concat_copy_rows(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst, int y0,
                             int y1)
{
    const ptrdiff_t es = nl_elem_size(dst->type);
    const ptrdiff_t na = a->c * es, nb = b->c * es, nd = na + nb;
    const __mmask64 ka = (__mmask64)lanes_mask(na % 64, 64), kb = (__mmask64)lanes_mask(nb % 64, 64);
    for (int y = y0; y < y1; y++) {
        const uint8_t *pa = nl_elem_ptr(a, y, 0), *pb = nl_elem_ptr(b, y, 0);
        uint8_t *d = nl_elem_ptr(dst, y, 0);
        for (int x = 0; x < dst->w; x++) {
            copy_part(d + x * nd, pa + x * na, na / 64, ka);
            copy_part(d + x * nd + na, pb + x * nb, nb / 64, kb);
        }
    }
}

static void nl_concat_avx512(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst, int y0,
                             int y1)
{
    const ptrdiff_t es = nl_elem_size(dst->type), na = a->c * es, nb = b->c * es;
    const int U = na % 4 == 0 && nb % 4 == 0 ? 4 : na % 2 == 0 && nb % 2 == 0 ? 2 : 1;
    concat_plan pl;
    if (na < 64 && nb < 64 && U > 1 && concat_plan_make(&pl, (int)(na / U), (int)(nb / U), 64 / U)) {
        if (U == 4)
            concat_perm_rows(&pl, a, b, dst, y0, y1, 4);
        else
            concat_perm_rows(&pl, a, b, dst, y0, y1, 2);
    } else if (U == 1 && na <= 64 && nb <= 64) {
        nl_concat_avx2(a, b, dst, y0, y1);
    } else {
        concat_copy_rows(a, b, dst, y0, y1);
    }
}

void nl_dsp_init_x86_elem_avx512(nl_dsp *d)
{
    d->requant = nl_requant_avx512;  d->requant_name = "nl_requant_avx512";
    d->add = nl_add_avx512;          d->add_name = "nl_add_avx512";
    d->clamp = nl_clamp_avx512;      d->clamp_name = "nl_clamp_avx512";
    d->concat = nl_concat_avx512;    d->concat_name = "nl_concat_avx512";
}
