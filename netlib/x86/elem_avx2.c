/*
 * Element-wise kernels with AVX2: requant, add, clamp, concat.  Constants
 * per channel as elem_x86.h describes (L = 8 elements per step, two
 * vectors of four 64-bit lanes).
 *
 * requant: the reference computes ((x + bias) * m + 2^(s-1)) >> s; here
 *   v = x * m + k, k = bias * m + 2^(s-1), the same integer.  Bounds (as
 *   netlib/ref/rounding.h): |x + bias| < 3 * 2^30, 0 <= m < 2^31, so
 *   -3 * 2^61 < v < 2^63.  AVX2 has no 64-bit arithmetic shift, so
 *       u = v + 2^63, in (2^61, 2^64): exact as an unsigned number
 *   (computed modulo 2^64 by vpaddq); the logical shift vpsrlvq gives
 *   floor(u / 2^s) = floor(v / 2^s) + 2^(63 - s) (2^63 is a multiple of
 *   2^s, s <= 62), and subtracting 2^(63 - s) leaves the flooring shift of
 *   the reference.  vpmuldq multiplies the low signed 32 bits of each
 *   lane: x (an int32 sign- or zero-extended) and m.  The clamp to [lo,
 *   hi] uses the signed 64-bit compare vpcmpgtq; the clamped values fit
 *   int32 and are gathered (vpermd) and narrowed with vpackssdw /
 *   vpackuswb / vpacksswb, which cannot saturate on values already in the
 *   output type's range.
 * add: a * ma + b * mb + 2^(s-1) with |a|, |b| <= 2^15, 0 <= ma, mb <
 *   2^31: |v| < 2^47, then the same shift and clamp.
 * Row tails (fewer than 8 elements) run the reference's scalar rule
 * (netlib/ref/rounding.h), so nothing outside a row is read or written.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "netlib/ref/elem.h"
#include "netlib/ref/rounding.h"
#include "netlib/x86/elem_x86.h"
#include "netlib/x86/shuffle_x86.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* 4 elements of type t at element e of row p, as int64 lanes. */
ALWAYS_INLINE __m256i load4(const void *p, ptrdiff_t e, nl_type t)
{
    int32_t w;
    switch (t) {
    case NL_U8:
        memcpy(&w, (const uint8_t *)p + e, 4);
        return _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(w));
    case NL_S8:
        memcpy(&w, (const int8_t *)p + e, 4);
        return _mm256_cvtepi8_epi64(_mm_cvtsi32_si128(w));
    case NL_S16:
        return _mm256_cvtepi16_epi64(_mm_loadl_epi64((const __m128i *)((const int16_t *)p + e)));
    default:
        return _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)((const int32_t *)p + e)));
    }
}

/* Two vectors of 4 int64 in [lo, hi] (inside t's range) -> 8 elements. */
ALWAYS_INLINE void store8(void *p, ptrdiff_t e, nl_type t, __m256i v0, __m256i v1)
{
    const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    __m128i a = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(v0, idx));
    __m128i b = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(v1, idx));
    switch (t) {
    case NL_U8:
        _mm_storel_epi64((__m128i *)((uint8_t *)p + e),
                         _mm_packus_epi16(_mm_packs_epi32(a, b), _mm_setzero_si128()));
        break;
    case NL_S8:
        _mm_storel_epi64((__m128i *)((int8_t *)p + e),
                         _mm_packs_epi16(_mm_packs_epi32(a, b), _mm_setzero_si128()));
        break;
    case NL_S16:
        _mm_storeu_si128((__m128i *)((int16_t *)p + e), _mm_packs_epi32(a, b));
        break;
    default:
        _mm_storeu_si128((__m128i *)((int32_t *)p + e), a);
        _mm_storeu_si128((__m128i *)((int32_t *)p + e + 4), b);
        break;
    }
}

/* floor(v / 2^s) for v in (-2^63 + 2^61 ... ) as above: u = v + 2^63,
 * logical shift, minus 2^(63 - s) (sub). */
ALWAYS_INLINE __m256i shift_floor(__m256i v, __m256i s, __m256i sub)
{
    const __m256i top = _mm256_set1_epi64x(INT64_MIN);
    return _mm256_sub_epi64(_mm256_srlv_epi64(_mm256_add_epi64(v, top), s), sub);
}

ALWAYS_INLINE __m256i clamp64(__m256i v, __m256i lo, __m256i hi)
{
    v = _mm256_blendv_epi8(v, hi, _mm256_cmpgt_epi64(v, hi));
    return _mm256_blendv_epi8(v, lo, _mm256_cmpgt_epi64(lo, v));
}

/* ------------------------------------------------------------ requant */

ALWAYS_INLINE void requant_rows(const nl_requant *rq, const nl_x86_rq_pattern *pt, int period,
                                const nl_tensor *src, nl_tensor *dst, int y0, int y1,
                                nl_type ti, nl_type to)
{
    const int c = src->c;
    const ptrdiff_t n = (ptrdiff_t)src->w * c, n8 = n / 8 * 8;
    const __m256i vlo = _mm256_set1_epi64x(rq->lo), vhi = _mm256_set1_epi64x(rq->hi);
    for (int y = y0; y < y1; y++) {
        const void *s = nl_elem_ptr(src, y, 0);
        void *d = nl_elem_ptr(dst, y, 0);
        int j = 0;
        for (ptrdiff_t e = 0; e < n8; e += 8) {
            __m256i v[2];
            for (int h = 0; h < 2; h++) {
                __m256i x = load4(s, e + 4 * h, ti);
                __m256i t = _mm256_add_epi64(
                    _mm256_mul_epi32(x, _mm256_loadu_si256((const __m256i *)(pt->m + j + 4 * h))),
                    _mm256_loadu_si256((const __m256i *)(pt->k + j + 4 * h)));
                t = shift_floor(t, _mm256_loadu_si256((const __m256i *)(pt->s + j + 4 * h)),
                                _mm256_loadu_si256((const __m256i *)(pt->sub + j + 4 * h)));
                v[h] = clamp64(t, vlo, vhi);
            }
            store8(d, e, to, v[0], v[1]);
            j += 8;
            if (j == period)
                j = 0;
        }
        for (ptrdiff_t e = n8; e < n; e++) {
            const int ch = (int)(e % c);
            int64_t x = (int64_t)nl_elem_load(nl_elem_ptr(src, y, e), ti) +
                        (rq->bias ? rq->bias[ch] : 0);
            nl_elem_store(nl_elem_ptr(dst, y, e), to,
                          nl_round_requant(x, rq->mult[ch], rq->shift[ch], rq->lo, rq->hi));
        }
    }
}

static void nl_requant_avx2(const nl_requant *rq, const nl_tensor *src, nl_tensor *dst, int y0,
                            int y1)
{
    const int c = src->c, period = nl_x86_elem_period(c, 8);
    if (!nl_x86_rq_vector_ok(period, src, dst)) {
        nl_requant_ref(rq, src, dst, y0, y1);
        return;
    }
    nl_x86_rq_pattern pt;
    nl_x86_rq_pattern_fill(&pt, rq, c, period);
    const nl_type ti = src->type, to = dst->type;
#define RQ_CASE(a, b)                                                        \
    if (ti == a && to == b) {                                                \
        requant_rows(rq, &pt, period, src, dst, y0, y1, a, b);               \
        return;                                                              \
    }
    NL_X86_RQ_PAIRS(RQ_CASE)
#undef RQ_CASE
    requant_rows(rq, &pt, period, src, dst, y0, y1, ti, to);
}

/* ---------------------------------------------------------------- add */

ALWAYS_INLINE void add_rows(const nl_add_desc *ad, const nl_x86_add_pattern *pt, int period,
                            const nl_tensor *a, const nl_tensor *b, nl_tensor *dst, int y0,
                            int y1, nl_type ta, nl_type tb, nl_type to)
{
    const int c = a->c;
    const ptrdiff_t n = (ptrdiff_t)a->w * c, n8 = n / 8 * 8;
    const __m256i vlo = _mm256_set1_epi64x(ad->lo), vhi = _mm256_set1_epi64x(ad->hi);
    for (int y = y0; y < y1; y++) {
        const void *pa = nl_elem_ptr(a, y, 0), *pb = nl_elem_ptr(b, y, 0);
        void *d = nl_elem_ptr(dst, y, 0);
        int j = 0;
        for (ptrdiff_t e = 0; e < n8; e += 8) {
            __m256i v[2];
            for (int h = 0; h < 2; h++) {
                const int o = j + 4 * h;
                __m256i t = _mm256_add_epi64(
                    _mm256_mul_epi32(load4(pa, e + 4 * h, ta),
                                     _mm256_loadu_si256((const __m256i *)(pt->ma + o))),
                    _mm256_mul_epi32(load4(pb, e + 4 * h, tb),
                                     _mm256_loadu_si256((const __m256i *)(pt->mb + o))));
                t = _mm256_add_epi64(t, _mm256_loadu_si256((const __m256i *)(pt->k + o)));
                t = shift_floor(t, _mm256_loadu_si256((const __m256i *)(pt->s + o)),
                                _mm256_loadu_si256((const __m256i *)(pt->sub + o)));
                v[h] = clamp64(t, vlo, vhi);
            }
            store8(d, e, to, v[0], v[1]);
            j += 8;
            if (j == period)
                j = 0;
        }
        for (ptrdiff_t e = n8; e < n; e++) {
            const int ch = (int)(e % c);
            int64_t sum = (int64_t)nl_elem_load(nl_elem_ptr(a, y, e), ta) * ad->ma[ch] +
                          (int64_t)nl_elem_load(nl_elem_ptr(b, y, e), tb) * ad->mb[ch];
            nl_elem_store(nl_elem_ptr(dst, y, e), to,
                          nl_round_requant(sum, 1, ad->shift[ch], ad->lo, ad->hi));
        }
    }
}

static void nl_add_avx2(const nl_add_desc *ad, const nl_tensor *a, const nl_tensor *b,
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
#define ADD_CASE(x, o)                                                       \
    if (ta == x && tb == x && to == o) {                                     \
        add_rows(ad, &pt, period, a, b, dst, y0, y1, x, x, o);               \
        return;                                                              \
    }
    NL_X86_ADD_PAIRS(ADD_CASE)
#undef ADD_CASE
    add_rows(ad, &pt, period, a, b, dst, y0, y1, ta, tb, to);
}

/* -------------------------------------------------------------- clamp */

static void nl_clamp_avx2(nl_tensor *t, int32_t lo, int32_t hi, int y0, int y1)
{
    const ptrdiff_t es = nl_elem_size(t->type), n = (ptrdiff_t)t->w * t->c;
    const ptrdiff_t nb = n * es, nb32 = nb / 32 * 32;
    for (int y = y0; y < y1; y++) {
        uint8_t *p = nl_elem_ptr(t, y, 0);
        for (ptrdiff_t o = 0; o < nb32; o += 32) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(p + o));
            switch (t->type) {
            case NL_U8:
                v = _mm256_min_epu8(_mm256_max_epu8(v, _mm256_set1_epi8((char)lo)),
                                    _mm256_set1_epi8((char)hi));
                break;
            case NL_S8:
                v = _mm256_min_epi8(_mm256_max_epi8(v, _mm256_set1_epi8((char)lo)),
                                    _mm256_set1_epi8((char)hi));
                break;
            case NL_S16:
                v = _mm256_min_epi16(_mm256_max_epi16(v, _mm256_set1_epi16((short)lo)),
                                     _mm256_set1_epi16((short)hi));
                break;
            default:
                v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)),
                                     _mm256_set1_epi32(hi));
                break;
            }
            _mm256_storeu_si256((__m256i *)(p + o), v);
        }
        for (ptrdiff_t e = nb32 / es; e < n; e++) {
            void *q = nl_elem_ptr(t, y, e);
            int32_t v = nl_elem_load(q, t->type);
            nl_elem_store(q, t->type, v < lo ? lo : v > hi ? hi : v);
        }
    }
}

/* ------------------------------------------------------------- concat */

/* Each part of a pixel (na, nb <= M bytes, M = 32 or 64) moved with one
 * M-byte load and store, in increasing addresses, so that the bytes a
 * store writes past its part are written again, correctly, by a later
 * store; only while the M bytes stay inside the rows (the last pixels:
 * memcpy).  The AVX-512 kernel runs it for u8 parts of odd size (it has
 * no permutation form for them). */
ALWAYS_INLINE void move_m(uint8_t *d, const uint8_t *s, const int M)
{
    _mm256_storeu_si256((__m256i *)d, _mm256_loadu_si256((const __m256i *)s));
    if (M > 32)
        _mm256_storeu_si256((__m256i *)(d + 32), _mm256_loadu_si256((const __m256i *)(s + 32)));
}

ALWAYS_INLINE void concat_rows(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst, int y0,
                               int y1, const int M)
{
    const ptrdiff_t es = nl_elem_size(dst->type);
    const ptrdiff_t na = a->c * es, nb = b->c * es, nd = dst->c * es;
    const int w = dst->w;
    /* xv: the pixels x < xv whose moves stay inside every row: x * na + M
     * <= w * na, x * nb + M <= w * nb, x * nd + na + M <= w * nd. */
    int xv = w;
    while (xv > 0 && ((ptrdiff_t)(xv - 1) * na + M > (ptrdiff_t)w * na ||
                      (ptrdiff_t)(xv - 1) * nb + M > (ptrdiff_t)w * nb ||
                      (ptrdiff_t)(xv - 1) * nd + na + M > (ptrdiff_t)w * nd))
        xv--;
    for (int y = y0; y < y1; y++) {
        const uint8_t *pa = nl_elem_ptr(a, y, 0), *pb = nl_elem_ptr(b, y, 0);
        uint8_t *d = nl_elem_ptr(dst, y, 0);
        int x = 0;
        for (; x < xv; x++) {
            move_m(d + x * nd, pa + x * na, M);
            move_m(d + x * nd + na, pb + x * nb, M);
        }
        for (; x < w; x++) {
            memcpy(d + x * nd, pa + x * na, (size_t)na);
            memcpy(d + x * nd + na, pb + x * nb, (size_t)nb);
        }
    }
}

void nl_concat_avx2(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst, int y0, int y1)
{
    const ptrdiff_t es = nl_elem_size(dst->type);
    const ptrdiff_t nmax = (a->c > b->c ? a->c : b->c) * es;
    if (nmax <= 32)
        concat_rows(a, b, dst, y0, y1, 32);
    else if (nmax <= 64)
        concat_rows(a, b, dst, y0, y1, 64);
    else
        nl_concat_ref(a, b, dst, y0, y1); /* whole-pixel memcpy: as fast */
}

void nl_dsp_init_x86_elem_avx2(nl_dsp *d)
{
    d->requant = nl_requant_avx2;  d->requant_name = "nl_requant_avx2";
    d->add = nl_add_avx2;          d->add_name = "nl_add_avx2";
    d->clamp = nl_clamp_avx2;      d->clamp_name = "nl_clamp_avx2";
    d->concat = nl_concat_avx2;    d->concat_name = "nl_concat_avx2";
    d->s2d = nl_s2d_avx2;          d->s2d_name = "nl_s2d_avx2";     /* shuffle_avx2.c */
    d->d2s = nl_d2s_avx2;          d->d2s_name = "nl_d2s_avx2";
}
