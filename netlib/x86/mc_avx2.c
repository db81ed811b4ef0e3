/*
 * Motion-compensation kernels with AVX2 (common/mcdsp.h): the 4-tap
 * interpolation of 8- and 16-sample rows and the 16x16 SAD, byte for byte
 * the C kernels of common/mc.c.
 *
 * Exactness.  One-dimensional sums t0 s[-1] + t1 s[0] + t2 s[1] + t3 s[2]
 * of u8 samples with the taps of nv_mc_taps (|t| <= 64, positive taps
 * summing to at most 74, negative to at least -10) and every partial sum
 * lie in [-10 * 255, 74 * 255] = [-2550, 18870]: vpmullw / vpaddw in int16
 * are exact, as is + 32 (<= 18902).  vpsraw is the flooring shift, and
 * vpackuswb clips to [0, 255] as clip_u8 does.  The second pass of put_hv
 * multiplies pairs of int16 rows by pairs of taps with vpmaddwd (exact:
 * |h| <= 18870, never the -32768 * -32768 case) into int32, |sum| <= 84 *
 * 18870 < 2^21; + 2048, vpsrad 12, then vpackssdw (the values, in
 * [-400, 400], do not saturate) and vpackuswb (the clip).  vpunpck[lh]wd
 * and vpackssdw work within 128-bit lanes in inverse orders, so the
 * samples come out in place.  psadbw sums |a - b| exactly.
 */
#include <immintrin.h>
#include <stdint.h>

#include "common/mcdsp.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* 16 horizontal sums of row s (int16). */
ALWAYS_INLINE __m256i hsum16(const uint8_t *s, __m256i t0, __m256i t1, __m256i t2, __m256i t3)
{
    __m256i a = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s - 1)));
    __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)s));
    __m256i c = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s + 1)));
    __m256i d = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s + 2)));
    __m256i v = _mm256_add_epi16(_mm256_mullo_epi16(a, t0), _mm256_mullo_epi16(b, t1));
    v = _mm256_add_epi16(v, _mm256_mullo_epi16(c, t2));
    return _mm256_add_epi16(v, _mm256_mullo_epi16(d, t3));
}

/* 8 horizontal sums of row s (int16). */
ALWAYS_INLINE __m128i hsum8(const uint8_t *s, __m128i t0, __m128i t1, __m128i t2, __m128i t3)
{
    __m128i a = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(s - 1)));
    __m128i b = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)s));
    __m128i c = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(s + 1)));
    __m128i d = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(s + 2)));
    __m128i v = _mm_add_epi16(_mm_mullo_epi16(a, t0), _mm_mullo_epi16(b, t1));
    v = _mm_add_epi16(v, _mm_mullo_epi16(c, t2));
    return _mm_add_epi16(v, _mm_mullo_epi16(d, t3));
}

/* 16 sums of 4 rows (a, b, c, d at stride ss) down the columns. */
ALWAYS_INLINE __m256i vsum16(const uint8_t *s, ptrdiff_t ss, __m256i t0, __m256i t1,
                             __m256i t2, __m256i t3)
{
    __m256i a = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s - ss)));
    __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)s));
    __m256i c = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s + ss)));
    __m256i d = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s + 2 * ss)));
    __m256i v = _mm256_add_epi16(_mm256_mullo_epi16(a, t0), _mm256_mullo_epi16(b, t1));
    v = _mm256_add_epi16(v, _mm256_mullo_epi16(c, t2));
    return _mm256_add_epi16(v, _mm256_mullo_epi16(d, t3));
}

ALWAYS_INLINE __m128i vsum8(const uint8_t *s, ptrdiff_t ss, __m128i t0, __m128i t1, __m128i t2,
                            __m128i t3)
{
    __m128i a = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(s - ss)));
    __m128i b = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)s));
    __m128i c = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(s + ss)));
    __m128i d = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(s + 2 * ss)));
    __m128i v = _mm_add_epi16(_mm_mullo_epi16(a, t0), _mm_mullo_epi16(b, t1));
    v = _mm_add_epi16(v, _mm_mullo_epi16(c, t2));
    return _mm_add_epi16(v, _mm_mullo_epi16(d, t3));
}

/* (v + 32) >> 6, clipped to u8: 16 samples stored. */
ALWAYS_INLINE void store_round16(uint8_t *o, __m256i v)
{
    v = _mm256_srai_epi16(_mm256_add_epi16(v, _mm256_set1_epi16(32)), 6);
    _mm_storeu_si128((__m128i *)o,
                     _mm_packus_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
}

ALWAYS_INLINE void store_round8(uint8_t *o, __m128i v)
{
    v = _mm_srai_epi16(_mm_add_epi16(v, _mm_set1_epi16(32)), 6);
    _mm_storel_epi64((__m128i *)o, _mm_packus_epi16(v, v));
}

static void nv_mc_put_h16_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                               int bh, const int8_t *t)
{
    const __m256i t0 = _mm256_set1_epi16(t[0]), t1 = _mm256_set1_epi16(t[1]);
    const __m256i t2 = _mm256_set1_epi16(t[2]), t3 = _mm256_set1_epi16(t[3]);
    for (int j = 0; j < bh; j++)
        store_round16(dst + j * ds, hsum16(src + j * ss, t0, t1, t2, t3));
}

static void nv_mc_put_h8_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                              int bh, const int8_t *t)
{
    const __m128i t0 = _mm_set1_epi16(t[0]), t1 = _mm_set1_epi16(t[1]);
    const __m128i t2 = _mm_set1_epi16(t[2]), t3 = _mm_set1_epi16(t[3]);
    for (int j = 0; j < bh; j++)
        store_round8(dst + j * ds, hsum8(src + j * ss, t0, t1, t2, t3));
}

static void nv_mc_put_v16_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                               int bh, const int8_t *t)
{
    const __m256i t0 = _mm256_set1_epi16(t[0]), t1 = _mm256_set1_epi16(t[1]);
    const __m256i t2 = _mm256_set1_epi16(t[2]), t3 = _mm256_set1_epi16(t[3]);
    for (int j = 0; j < bh; j++)
        store_round16(dst + j * ds, vsum16(src + j * ss, ss, t0, t1, t2, t3));
}

static void nv_mc_put_v8_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                              int bh, const int8_t *t)
{
    const __m128i t0 = _mm_set1_epi16(t[0]), t1 = _mm_set1_epi16(t[1]);
    const __m128i t2 = _mm_set1_epi16(t[2]), t3 = _mm_set1_epi16(t[3]);
    for (int j = 0; j < bh; j++)
        store_round8(dst + j * ds, vsum8(src + j * ss, ss, t0, t1, t2, t3));
}

/* A pair of taps as the two int16 halves of an int32 (low: the first). */
static inline int32_t tap_pair(int a, int b)
{
    return (int32_t)((uint32_t)(uint16_t)(int16_t)a | ((uint32_t)(uint16_t)(int16_t)b << 16));
}

static void nv_mc_put_hv16_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                                int bh, const int8_t *th, const int8_t *tv)
{
    const __m256i t0 = _mm256_set1_epi16(th[0]), t1 = _mm256_set1_epi16(th[1]);
    const __m256i t2 = _mm256_set1_epi16(th[2]), t3 = _mm256_set1_epi16(th[3]);
    const __m256i v01 = _mm256_set1_epi32(tap_pair(tv[0], tv[1]));
    const __m256i v23 = _mm256_set1_epi32(tap_pair(tv[2], tv[3]));
    const __m256i rnd = _mm256_set1_epi32(2048);
    /* h rows -1, 0, 1 of the window; each output row adds the next. */
    __m256i h0 = hsum16(src - ss, t0, t1, t2, t3);
    __m256i h1 = hsum16(src, t0, t1, t2, t3);
    __m256i h2 = hsum16(src + ss, t0, t1, t2, t3);
    for (int j = 0; j < bh; j++) {
        __m256i h3 = hsum16(src + (j + 2) * ss, t0, t1, t2, t3);
        __m256i lo = _mm256_add_epi32(_mm256_madd_epi16(_mm256_unpacklo_epi16(h0, h1), v01),
                                      _mm256_madd_epi16(_mm256_unpacklo_epi16(h2, h3), v23));
        __m256i hi = _mm256_add_epi32(_mm256_madd_epi16(_mm256_unpackhi_epi16(h0, h1), v01),
                                      _mm256_madd_epi16(_mm256_unpackhi_epi16(h2, h3), v23));
        lo = _mm256_srai_epi32(_mm256_add_epi32(lo, rnd), 12);
        hi = _mm256_srai_epi32(_mm256_add_epi32(hi, rnd), 12);
        __m256i w = _mm256_packs_epi32(lo, hi);
        _mm_storeu_si128((__m128i *)(dst + j * ds),
                         _mm_packus_epi16(_mm256_castsi256_si128(w),
                                          _mm256_extracti128_si256(w, 1)));
        h0 = h1;
        h1 = h2;
        h2 = h3;
    }
}

static void nv_mc_put_hv8_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                               int bh, const int8_t *th, const int8_t *tv)
{
    const __m128i t0 = _mm_set1_epi16(th[0]), t1 = _mm_set1_epi16(th[1]);
    const __m128i t2 = _mm_set1_epi16(th[2]), t3 = _mm_set1_epi16(th[3]);
    const __m128i v01 = _mm_set1_epi32(tap_pair(tv[0], tv[1]));
    const __m128i v23 = _mm_set1_epi32(tap_pair(tv[2], tv[3]));
    const __m128i rnd = _mm_set1_epi32(2048);
    __m128i h0 = hsum8(src - ss, t0, t1, t2, t3);
    __m128i h1 = hsum8(src, t0, t1, t2, t3);
    __m128i h2 = hsum8(src + ss, t0, t1, t2, t3);
    for (int j = 0; j < bh; j++) {
        __m128i h3 = hsum8(src + (j + 2) * ss, t0, t1, t2, t3);
        __m128i lo = _mm_add_epi32(_mm_madd_epi16(_mm_unpacklo_epi16(h0, h1), v01),
                                   _mm_madd_epi16(_mm_unpacklo_epi16(h2, h3), v23));
        __m128i hi = _mm_add_epi32(_mm_madd_epi16(_mm_unpackhi_epi16(h0, h1), v01),
                                   _mm_madd_epi16(_mm_unpackhi_epi16(h2, h3), v23));
        lo = _mm_srai_epi32(_mm_add_epi32(lo, rnd), 12);
        hi = _mm_srai_epi32(_mm_add_epi32(hi, rnd), 12);
        __m128i w = _mm_packs_epi32(lo, hi);
        _mm_storel_epi64((__m128i *)(dst + j * ds), _mm_packus_epi16(w, w));
        h0 = h1;
        h1 = h2;
        h2 = h3;
    }
}

static uint32_t nv_mc_sad16x16_avx2(const uint8_t *a, ptrdiff_t as, const uint8_t *b,
                                    ptrdiff_t bs)
{
    __m256i acc = _mm256_setzero_si256();
    for (int j = 0; j < 16; j += 2) {
        __m256i x = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(a + j * as))),
            _mm_loadu_si128((const __m128i *)(a + (j + 1) * as)), 1);
        __m256i y = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(b + j * bs))),
            _mm_loadu_si128((const __m128i *)(b + (j + 1) * bs)), 1);
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(x, y));
    }
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
    return (uint32_t)_mm_cvtsi128_si32(s);
}

void nv_mcdsp_init_x86_avx2(nv_mcdsp *d)
{
    d->put_h[0] = nv_mc_put_h8_avx2;
    d->put_h[1] = nv_mc_put_h16_avx2;
    d->put_v[0] = nv_mc_put_v8_avx2;
    d->put_v[1] = nv_mc_put_v16_avx2;
    d->put_hv[0] = nv_mc_put_hv8_avx2;
    d->put_hv[1] = nv_mc_put_hv16_avx2;
    d->sad16 = nv_mc_sad16x16_avx2;
    d->name = "nv_mc_avx2";
}
