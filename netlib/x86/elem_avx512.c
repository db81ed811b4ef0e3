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
 * add: a * ma + b * mb with |a|, |b| <= 2^15 (u8, s8, s16 inputs) and
 *   0 <= ma, mb < 2^31: |sum| < 2^47; + 2^(s-1), vpsravq, clamp as above
 *   (the reference's rounding rule with m = 1).
 * Tails (row lengths not a multiple of 8) use masked loads and stores, so
 * nothing outside a row's w * c elements is read or written.
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

static void nl_add_avx512(const nl_add_desc *ad, const nl_tensor *a, const nl_tensor *b,
                          nl_tensor *dst, int y0, int y1)
{
    const int c = a->c, period = nl_x86_elem_period(c, 8);
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
