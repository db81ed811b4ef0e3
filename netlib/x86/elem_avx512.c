/*
 * Element-wise kernels with AVX-512 (F, BW, VL): requant, add, clamp
 * (concat: the AVX2 kernel, elem_avx2.c, measured faster).  Constants
 * per channel as elem_x86.h describes (L = 8 lanes of 64 bits).
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

static void nl_requant_avx512(const nl_requant *rq, const nl_tensor *src, nl_tensor *dst,
                              int y0, int y1)
{
    const int c = src->c, period = nl_x86_elem_period(c, 8);
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

void nl_dsp_init_x86_elem_avx512(nl_dsp *d)
{
    d->requant = nl_requant_avx512;  d->requant_name = "nl_requant_avx512";
    d->add = nl_add_avx512;          d->add_name = "nl_add_avx512";
    d->clamp = nl_clamp_avx512;      d->clamp_name = "nl_clamp_avx512";
    /* concat: the AVX2 kernel (elem_avx2.c) measured faster. */
}
