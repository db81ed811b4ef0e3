/*
 * Motion-compensation kernels with AVX2 (common/mcdsp.h): the 4-tap
 * interpolation of 8- and 16-sample rows and the 16x16 SAD, byte for byte
 * the C kernels of common/mc.c.
 *
 * Exactness.  One-dimensional sums t0 s[-1] + t1 s[0] + t2 s[1] + t3 s[2]
 * of u8 samples with the taps of nv_mc_taps (|t0| + |t1| <= 64 and |t2| +
 * |t3| <= 64 in every row; positive taps sum to at most 74, negative to
 * at least -10) lie in [-10 * 255, 74 * 255] = [-2550, 18870].  vpmaddubsw
 * forms the pair sums t0 s[-1] + t1 s[0] and t2 s[1] + t3 s[2], each at
 * most 64 * 255 = 16320 in magnitude, so its saturation never acts, and
 * vpaddw of the two is exact, as is + 32 (<= 18902).  vpsraw is the
 * flooring shift, and vpackuswb clips to [0, 255] as clip_u8 does.  The
 * second pass of put_hv multiplies pairs of int16 rows by pairs of taps
 * with vpmaddwd (exact: |h| <= 18870, never the -32768 * -32768 case) into
 * int32, |sum| <= 84 * 18870 < 2^21; + 2048, vpsrad 12, then vpackssdw
 * (the values, in [-400, 400], do not saturate) and vpackuswb (the clip).
 * vpunpck[lh]wd and vpackssdw work within 128-bit lanes in inverse orders,
 * so the samples come out in place.  psadbw sums |a - b| exactly.
 *
 * Reads: never outside rows -1 .. bh + 1, columns -1 .. bw + 1 of src
 * (mcdsp.h's contract): a 16-sample row is read as s[-1 .. 14] and s[2 ..
 * 17], an 8-sample one as s[-1 .. 6] and s[2 .. 9].
 */
#include <immintrin.h>
#include <stdint.h>

#include "common/mcdsp.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Tap pairs (t0, t1) and (t2, t3) as the signed bytes vpmaddubsw
 * multiplies the unsigned samples by: each product pair sums to at most
 * 64 * 255 = 16320 in magnitude (|t0| + |t1| <= 64, |t2| + |t3| <= 64),
 * so the saturating add never saturates, and the sum of the two pairs is
 * the 4-tap sum in [-2550, 18870] exactly. */
static inline __m256i tap_bytes(int a, int b)
{
    return _mm256_set1_epi16((int16_t)(uint16_t)((uint8_t)(int8_t)a | (uint16_t)(uint8_t)(int8_t)b << 8));
}

/* Byte pairs (s[i - 1], s[i]) and (s[i + 1], s[i + 2]) of outputs i: lane
 * 0 holds s[-1 .. 14] (outputs 0..7), lane 1 s[2 .. 17] (outputs 8..15,
 * whose s[i - 1] is byte i - 3 of the lane). */
static const int8_t hpair01[32] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8,
                                    5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13 };
static const int8_t hpair23[32] = { 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10,
                                    7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15 };

/* 16 horizontal sums of row s (int16, in order); reads s[-1 .. 17]. */
ALWAYS_INLINE __m256i hsum16(const uint8_t *s, __m256i t01, __m256i t23, __m256i m01,
                             __m256i m23)
{
    __m256i x = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(s - 1))),
        _mm_loadu_si128((const __m128i *)(s + 2)), 1);
    return _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_shuffle_epi8(x, m01), t01),
                            _mm256_maddubs_epi16(_mm256_shuffle_epi8(x, m23), t23));
}

/* The same pairs for 8 outputs from s[-1 .. 6] (bytes 0..7) and s[2 .. 9]
 * (bytes 8..15): s[m] is byte m + 1 for m <= 6, else byte m + 6. */
static const int8_t hpair01_8[16] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 13 };
static const int8_t hpair23_8[16] = { 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 13, 13, 14, 14, 15 };

/* 8 horizontal sums of row s (int16); reads s[-1 .. 9]. */
ALWAYS_INLINE __m128i hsum8(const uint8_t *s, __m128i t01, __m128i t23, __m128i m01,
                            __m128i m23)
{
    __m128i x = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(s - 1)),
                                   _mm_loadl_epi64((const __m128i *)(s + 2)));
    return _mm_add_epi16(_mm_maddubs_epi16(_mm_shuffle_epi8(x, m01), t01),
                         _mm_maddubs_epi16(_mm_shuffle_epi8(x, m23), t23));
}

/* (v + 32) >> 6, clipped to u8: 16 samples. */
ALWAYS_INLINE __m128i round16(__m256i v)
{
    v = _mm256_srai_epi16(_mm256_add_epi16(v, _mm256_set1_epi16(32)), 6);
    return _mm_packus_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

/* One output row of 16 samples: stored at o (cur == NULL, a constant in
 * every caller) or its SAD against cur added to acc. */
ALWAYS_INLINE __m128i out16(uint8_t *o, const uint8_t *cur, __m128i v, __m128i acc)
{
    if (!cur) {
        _mm_storeu_si128((__m128i *)o, v);
        return acc;
    }
    return _mm_add_epi64(acc, _mm_sad_epu8(v, _mm_loadu_si128((const __m128i *)cur)));
}

ALWAYS_INLINE uint32_t sad_total(__m128i acc)
{
    return (uint32_t)_mm_cvtsi128_si32(_mm_add_epi64(acc, _mm_unpackhi_epi64(acc, acc)));
}

ALWAYS_INLINE void store_round8(uint8_t *o, __m128i v)
{
    v = _mm_srai_epi16(_mm_add_epi16(v, _mm_set1_epi16(32)), 6);
    _mm_storel_epi64((__m128i *)o, _mm_packus_epi16(v, v));
}

#define HTAPS16(t)                                                                        \
    const __m256i t01 = tap_bytes(t[0], t[1]), t23 = tap_bytes(t[2], t[3]);              \
    const __m256i m01 = _mm256_loadu_si256((const __m256i *)hpair01);                   \
    const __m256i m23 = _mm256_loadu_si256((const __m256i *)hpair23)
#define HTAPS8(t)                                                                         \
    const __m128i t01 = _mm256_castsi256_si128(tap_bytes(t[0], t[1]));                    \
    const __m128i t23 = _mm256_castsi256_si128(tap_bytes(t[2], t[3]));                    \
    const __m128i m01 = _mm_loadu_si128((const __m128i *)hpair01_8);                      \
    const __m128i m23 = _mm_loadu_si128((const __m128i *)hpair23_8)

/* The 16-wide kernels: dst rows (cur == NULL) or the SAD against the
 * rows of cur (cs apart; dst unused). */
ALWAYS_INLINE __m128i h16(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss, int bh,
                          const int8_t *t, const uint8_t *cur, ptrdiff_t cs)
{
    HTAPS16(t);
    __m128i acc = _mm_setzero_si128();
    for (int j = 0; j < bh; j++)
        acc = out16(dst + j * ds, cur ? cur + j * cs : NULL,
                    round16(hsum16(src + j * ss, t01, t23, m01, m23)), acc);
    return acc;
}

void nv_mc_put_h16_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                               int bh, const int8_t *t)
{
    h16(dst, ds, src, ss, bh, t, NULL, 0);
}

static void nv_mc_put_h8_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                              int bh, const int8_t *t)
{
    HTAPS8(t);
    for (int j = 0; j < bh; j++)
        store_round8(dst + j * ds, hsum8(src + j * ss, t01, t23, m01, m23));
}

/* Row s as [bytes 0..7, 0..7 | 8..15, 8..15] (64-bit units 0, 0, 1, 1):
 * vpunpcklbw of two such rows gives the column pairs (a[i], b[i]) of
 * columns 0..7 in lane 0 and 8..15 in lane 1. */
ALWAYS_INLINE __m256i vrow16(const uint8_t *s)
{
    return _mm256_permute4x64_epi64(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)s)),
                                    0x50);
}

/* Vertical: output row j is t01 . (row j - 1, row j) + t23 . (row j + 1,
 * row j + 2); the pairs of rows (k, k + 1) serve rows k + 1 and k - 1. */
ALWAYS_INLINE __m128i v16(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss, int bh,
                          const int8_t *t, const uint8_t *cur, ptrdiff_t cs)
{
    const __m256i t01 = tap_bytes(t[0], t[1]), t23 = tap_bytes(t[2], t[3]);
    __m256i r0 = vrow16(src - ss), r1 = vrow16(src), r2 = vrow16(src + ss);
    __m256i p0 = _mm256_unpacklo_epi8(r0, r1), p1 = _mm256_unpacklo_epi8(r1, r2);
    __m128i acc = _mm_setzero_si128();
    for (int j = 0; j < bh; j++) {
        __m256i r3 = vrow16(src + (j + 2) * ss);
        __m256i p2 = _mm256_unpacklo_epi8(r2, r3);
        acc = out16(dst + j * ds, cur ? cur + j * cs : NULL,
                    round16(_mm256_add_epi16(_mm256_maddubs_epi16(p0, t01),
                                             _mm256_maddubs_epi16(p2, t23))), acc);
        p0 = p1;
        p1 = p2;
        r2 = r3;
    }
    return acc;
}

static void nv_mc_put_v16_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                               int bh, const int8_t *t)
{
    v16(dst, ds, src, ss, bh, t, NULL, 0);
}

static void nv_mc_put_v8_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                              int bh, const int8_t *t)
{
    const __m128i t01 = _mm256_castsi256_si128(tap_bytes(t[0], t[1]));
    const __m128i t23 = _mm256_castsi256_si128(tap_bytes(t[2], t[3]));
    __m128i r0 = _mm_loadl_epi64((const __m128i *)(src - ss));
    __m128i r1 = _mm_loadl_epi64((const __m128i *)src);
    __m128i r2 = _mm_loadl_epi64((const __m128i *)(src + ss));
    __m128i p0 = _mm_unpacklo_epi8(r0, r1), p1 = _mm_unpacklo_epi8(r1, r2);
    for (int j = 0; j < bh; j++) {
        __m128i r3 = _mm_loadl_epi64((const __m128i *)(src + (j + 2) * ss));
        __m128i p2 = _mm_unpacklo_epi8(r2, r3);
        store_round8(dst + j * ds,
                     _mm_add_epi16(_mm_maddubs_epi16(p0, t01), _mm_maddubs_epi16(p2, t23)));
        p0 = p1;
        p1 = p2;
        r2 = r3;
    }
}

/* A pair of taps as the two int16 halves of an int32 (low: the first). */
static inline int32_t tap_pair(int a, int b)
{
    return (int32_t)((uint32_t)(uint16_t)(int16_t)a | ((uint32_t)(uint16_t)(int16_t)b << 16));
}

/* The vertical pass of put_hv: output row j is v01 . (h[j - 1], h[j]) +
 * v23 . (h[j + 1], h[j + 2]) per column, in int32; the interleaved pairs
 * (h[k], h[k + 1]) serve rows k + 1 and k - 1. */
ALWAYS_INLINE __m128i hv16(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss, int bh,
                           const int8_t *th, const int8_t *tv, const uint8_t *cur, ptrdiff_t cs)
{
    HTAPS16(th);
    const __m256i v01 = _mm256_set1_epi32(tap_pair(tv[0], tv[1]));
    const __m256i v23 = _mm256_set1_epi32(tap_pair(tv[2], tv[3]));
    const __m256i rnd = _mm256_set1_epi32(2048);
    __m256i h0 = hsum16(src - ss, t01, t23, m01, m23);
    __m256i h1 = hsum16(src, t01, t23, m01, m23);
    __m256i h2 = hsum16(src + ss, t01, t23, m01, m23);
    __m256i lo0 = _mm256_unpacklo_epi16(h0, h1), hi0 = _mm256_unpackhi_epi16(h0, h1);
    __m256i lo1 = _mm256_unpacklo_epi16(h1, h2), hi1 = _mm256_unpackhi_epi16(h1, h2);
    __m128i acc = _mm_setzero_si128();
    for (int j = 0; j < bh; j++) {
        __m256i h3 = hsum16(src + (j + 2) * ss, t01, t23, m01, m23);
        __m256i lo2 = _mm256_unpacklo_epi16(h2, h3), hi2 = _mm256_unpackhi_epi16(h2, h3);
        __m256i lo = _mm256_add_epi32(_mm256_madd_epi16(lo0, v01), _mm256_madd_epi16(lo2, v23));
        __m256i hi = _mm256_add_epi32(_mm256_madd_epi16(hi0, v01), _mm256_madd_epi16(hi2, v23));
        lo = _mm256_srai_epi32(_mm256_add_epi32(lo, rnd), 12);
        hi = _mm256_srai_epi32(_mm256_add_epi32(hi, rnd), 12);
        __m256i w = _mm256_packs_epi32(lo, hi);
        acc = out16(dst + j * ds, cur ? cur + j * cs : NULL,
                    _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1)),
                    acc);
        lo0 = lo1;
        hi0 = hi1;
        lo1 = lo2;
        hi1 = hi2;
        h2 = h3;
    }
    return acc;
}

void nv_mc_put_hv16_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                                int bh, const int8_t *th, const int8_t *tv)
{
    hv16(dst, ds, src, ss, bh, th, tv, NULL, 0);
}

/* The SAD of a 16 x 16 cur against the prediction (mcdsp.h's sadp). */
static uint32_t nv_mc_sadp_h16_avx2(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src,
                                    ptrdiff_t ss, const int8_t *th, const int8_t *tv)
{
    (void)tv;
    return sad_total(h16(NULL, 0, src, ss, 16, th, cur, cs));
}

static uint32_t nv_mc_sadp_v16_avx2(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src,
                                    ptrdiff_t ss, const int8_t *th, const int8_t *tv)
{
    (void)th;
    return sad_total(v16(NULL, 0, src, ss, 16, tv, cur, cs));
}

static uint32_t nv_mc_sadp_hv16_avx2(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src,
                                     ptrdiff_t ss, const int8_t *th, const int8_t *tv)
{
    return sad_total(hv16(NULL, 0, src, ss, 16, th, tv, cur, cs));
}

static void nv_mc_put_hv8_avx2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                               int bh, const int8_t *th, const int8_t *tv)
{
    HTAPS8(th);
    const __m128i v01 = _mm_set1_epi32(tap_pair(tv[0], tv[1]));
    const __m128i v23 = _mm_set1_epi32(tap_pair(tv[2], tv[3]));
    const __m128i rnd = _mm_set1_epi32(2048);
    __m128i h0 = hsum8(src - ss, t01, t23, m01, m23);
    __m128i h1 = hsum8(src, t01, t23, m01, m23);
    __m128i h2 = hsum8(src + ss, t01, t23, m01, m23);
    __m128i lo0 = _mm_unpacklo_epi16(h0, h1), hi0 = _mm_unpackhi_epi16(h0, h1);
    __m128i lo1 = _mm_unpacklo_epi16(h1, h2), hi1 = _mm_unpackhi_epi16(h1, h2);
    for (int j = 0; j < bh; j++) {
        __m128i h3 = hsum8(src + (j + 2) * ss, t01, t23, m01, m23);
        __m128i lo2 = _mm_unpacklo_epi16(h2, h3), hi2 = _mm_unpackhi_epi16(h2, h3);
        __m128i lo = _mm_add_epi32(_mm_madd_epi16(lo0, v01), _mm_madd_epi16(lo2, v23));
        __m128i hi = _mm_add_epi32(_mm_madd_epi16(hi0, v01), _mm_madd_epi16(hi2, v23));
        lo = _mm_srai_epi32(_mm_add_epi32(lo, rnd), 12);
        hi = _mm_srai_epi32(_mm_add_epi32(hi, rnd), 12);
        __m128i w = _mm_packs_epi32(lo, hi);
        _mm_storel_epi64((__m128i *)(dst + j * ds), _mm_packus_epi16(w, w));
        lo0 = lo1;
        hi0 = hi1;
        lo1 = lo2;
        hi1 = hi2;
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

/* OBMC of a whole cell (mcdsp.h).  Per row, top = wl * p0 + wr * p1 and
 * bot = wl * p2 + wr * p3 by vpmaddubsw on the byte pairs (p0[i], p1[i])
 * with the weight pairs (wl[i], wr[i]) (signed bytes, <= 31: each sum is
 * at most 2n * 255 = 8160, no saturation), then wt * top + wb * bot by
 * vpmaddwd on the word pairs (top[i], bot[i]) (<= 4n^2 * 255 = 261120,
 * int32), + 2n^2, shifted by log2(4n^2): at most 255, so vpackssdw and
 * vpackuswb keep the values. */
static const int8_t obmc_w16[32] = { 31, 1, 29, 3, 27, 5, 25, 7, 23, 9, 21, 11, 19, 13, 17, 15,
                                     15, 17, 13, 19, 11, 21, 9, 23, 7, 25, 5, 27, 3, 29, 1, 31 };
static const int8_t obmc_w8[16] = { 15, 1, 13, 3, 11, 5, 9, 7, 7, 9, 5, 11, 3, 13, 1, 15 };

static void nv_mc_obmc16_avx2(uint8_t *o, ptrdiff_t os, const uint8_t *p0, const uint8_t *p1,
                              const uint8_t *p2, const uint8_t *p3, ptrdiff_t ps)
{
    const __m256i w = _mm256_loadu_si256((const __m256i *)obmc_w16);
    const __m256i rnd = _mm256_set1_epi32(512);
    for (int j = 0; j < 16; j++) {
        const ptrdiff_t k = j * ps;
        __m256i top = _mm256_maddubs_epi16(_mm256_unpacklo_epi8(vrow16(p0 + k), vrow16(p1 + k)), w);
        __m256i bot = _mm256_maddubs_epi16(_mm256_unpacklo_epi8(vrow16(p2 + k), vrow16(p3 + k)), w);
        const __m256i wtb = _mm256_set1_epi32(tap_pair(31 - 2 * j, 2 * j + 1));
        __m256i lo = _mm256_madd_epi16(_mm256_unpacklo_epi16(top, bot), wtb);
        __m256i hi = _mm256_madd_epi16(_mm256_unpackhi_epi16(top, bot), wtb);
        lo = _mm256_srai_epi32(_mm256_add_epi32(lo, rnd), 10);
        hi = _mm256_srai_epi32(_mm256_add_epi32(hi, rnd), 10);
        __m256i v = _mm256_packs_epi32(lo, hi);
        _mm_storeu_si128((__m128i *)(o + j * os),
                         _mm_packus_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
    }
}

static void nv_mc_obmc8_avx2(uint8_t *o, ptrdiff_t os, const uint8_t *p0, const uint8_t *p1,
                             const uint8_t *p2, const uint8_t *p3, ptrdiff_t ps)
{
    const __m128i w = _mm_loadu_si128((const __m128i *)obmc_w8);
    const __m128i rnd = _mm_set1_epi32(128);
    for (int j = 0; j < 8; j++) {
        const ptrdiff_t k = j * ps;
        __m128i top = _mm_maddubs_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(p0 + k)),
                                                          _mm_loadl_epi64((const __m128i *)(p1 + k))), w);
        __m128i bot = _mm_maddubs_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(p2 + k)),
                                                          _mm_loadl_epi64((const __m128i *)(p3 + k))), w);
        const __m128i wtb = _mm_set1_epi32(tap_pair(15 - 2 * j, 2 * j + 1));
        __m128i lo = _mm_madd_epi16(_mm_unpacklo_epi16(top, bot), wtb);
        __m128i hi = _mm_madd_epi16(_mm_unpackhi_epi16(top, bot), wtb);
        lo = _mm_srai_epi32(_mm_add_epi32(lo, rnd), 8);
        hi = _mm_srai_epi32(_mm_add_epi32(hi, rnd), 8);
        __m128i v = _mm_packs_epi32(lo, hi);
        _mm_storel_epi64((__m128i *)(o + j * os), _mm_packus_epi16(v, v));
    }
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
    d->sadp[0] = nv_mc_sadp_h16_avx2;
    d->sadp[1] = nv_mc_sadp_v16_avx2;
    d->sadp[2] = nv_mc_sadp_hv16_avx2;
    d->obmc[0] = nv_mc_obmc8_avx2;
    d->obmc[1] = nv_mc_obmc16_avx2;
    d->name = "nv_mc_avx2";
}
