/*
 * Motion-compensation kernels with AVX-512 (F, BW, VL; common/mcdsp.h):
 * the 16-wide horizontal and two-dimensional interpolation and their
 * SADs, two rows per zmm register, byte for byte the C kernels of
 * common/mc.c.  The rest of the table stays AVX2 (mc_avx2.c).
 *
 * Exactness: the arithmetic of mc_avx2.c (its comment has the ranges),
 * with two rows side by side.  The horizontal sums come from vpmaddubsw
 * on byte pairs (each pair sum at most 64 * 255 in magnitude, no
 * saturation), the vertical ones from vpmaddwd in int32.  The rounded
 * results lie in [-40, 295] (horizontal) or [-400, 400] (both passes);
 * the clip to [0, 255] is vpmaxsw with 0 (or vpackusdw) followed by
 * vpmovuswb, whose unsigned saturation then clips only above 255.
 *
 * Reads: as mc_avx2.c, rows -1 .. bh + 1 and columns -1 .. 17 of src,
 * never more (a row as s[-1 .. 14] and s[2 .. 17]).
 */
#include <immintrin.h>
#include <stdint.h>

#include "common/mcdsp.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* The tap pairs (t0, t1), (t2, t3) as vpmaddubsw's signed bytes. */
static inline __m512i tap_bytes(int a, int b)
{
    return _mm512_set1_epi16(
        (int16_t)(uint16_t)((uint8_t)(int8_t)a | (uint16_t)(uint8_t)(int8_t)b << 8));
}

/* A pair of taps as the two int16 halves of an int32 (low: the first). */
static inline int32_t tap_pair(int a, int b)
{
    return (int32_t)((uint32_t)(uint16_t)(int16_t)a | ((uint32_t)(uint16_t)(int16_t)b << 16));
}

/* Byte pairs (s[i - 1], s[i]) and (s[i + 1], s[i + 2]) per 128-bit lane:
 * lanes 0, 2 hold s[-1 .. 14] (outputs 0..7), lanes 1, 3 s[2 .. 17]
 * (outputs 8..15) of two rows. */
static const int8_t hpair01[64] = {
    0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8,
    5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8,
    5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
};
static const int8_t hpair23[64] = {
    2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10,
    7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15,
    2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10,
    7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15,
};

typedef struct htaps {
    __m512i t01, t23, m01, m23;
} htaps;

ALWAYS_INLINE htaps htaps_of(const int8_t *t)
{
    htaps h = { tap_bytes(t[0], t[1]), tap_bytes(t[2], t[3]),
                _mm512_loadu_si512(hpair01), _mm512_loadu_si512(hpair23) };
    return h;
}

/* The 16 horizontal sums (int16, in order) of row s, then of row s + ss. */
ALWAYS_INLINE __m512i hsum2(const uint8_t *s, ptrdiff_t ss, const htaps *h)
{
    __m256i a = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(s - 1))),
        _mm_loadu_si128((const __m128i *)(s + 2)), 1);
    __m256i b = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(s + ss - 1))),
        _mm_loadu_si128((const __m128i *)(s + ss + 2)), 1);
    __m512i x = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
    return _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_shuffle_epi8(x, h->m01), h->t01),
                            _mm512_maddubs_epi16(_mm512_shuffle_epi8(x, h->m23), h->t23));
}

/* The 16 sums of row s alone, in the low half (the high half zero). */
ALWAYS_INLINE __m512i hsum1(const uint8_t *s, const htaps *h)
{
    __m256i a = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(s - 1))),
        _mm_loadu_si128((const __m128i *)(s + 2)), 1);
    __m512i x = _mm512_zextsi256_si512(a);
    return _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_shuffle_epi8(x, h->m01), h->t01),
                            _mm512_maddubs_epi16(_mm512_shuffle_epi8(x, h->m23), h->t23));
}

/* Two output rows (32 samples, in order): stored at o and o + ds (cur ==
 * NULL, a constant in every caller) or their SAD against the rows cur
 * and cur + cs added to acc. */
ALWAYS_INLINE __m256i out2(uint8_t *o, ptrdiff_t ds, const uint8_t *cur, ptrdiff_t cs, __m256i v,
                           __m256i acc)
{
    if (!cur) {
        _mm_storeu_si128((__m128i *)o, _mm256_castsi256_si128(v));
        _mm_storeu_si128((__m128i *)(o + ds), _mm256_extracti128_si256(v, 1));
        return acc;
    }
    __m256i c = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)cur)),
        _mm_loadu_si128((const __m128i *)(cur + cs)), 1);
    return _mm256_add_epi64(acc, _mm256_sad_epu8(v, c));
}

ALWAYS_INLINE uint32_t sad_total(__m256i acc)
{
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    return (uint32_t)_mm_cvtsi128_si32(_mm_add_epi64(s, _mm_unpackhi_epi64(s, s)));
}

/* Horizontal phase only, rows 0 .. bh2 - 1 (bh2 even). */
ALWAYS_INLINE __m256i h16x2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss, int bh2,
                            const int8_t *t, const uint8_t *cur, ptrdiff_t cs)
{
    const htaps h = htaps_of(t);
    const __m512i r32 = _mm512_set1_epi16(32), zero = _mm512_setzero_si512();
    __m256i acc = _mm256_setzero_si256();
    for (int j = 0; j < bh2; j += 2) {
        __m512i v = _mm512_srai_epi16(_mm512_add_epi16(hsum2(src + j * ss, ss, &h), r32), 6);
        acc = out2(dst + j * ds, ds, cur ? cur + j * cs : NULL, cs,
                   _mm512_cvtusepi16_epi8(_mm512_max_epi16(v, zero)), acc);
    }
    return acc;
}

/* Both phases, rows 0 .. bh2 - 1 (bh2 even, > 0).  Pairs of h rows H(k) =
 * [h[k] | h[k + 1]] for k = -1, 1, 3, ..; output rows (j, j + 1) take
 * v01 . (H(j - 1), [h[j] | h[j + 1]]) + v23 . (H(j + 1), [h[j + 2] |
 * h[j + 3]]), and the second product's interleaved words serve rows
 * (j + 2, j + 3) as the first. */
ALWAYS_INLINE __m256i hv16x2(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                             int bh2, const int8_t *th, const int8_t *tv, const uint8_t *cur,
                             ptrdiff_t cs)
{
    const htaps h = htaps_of(th);
    const __m512i v01 = _mm512_set1_epi32(tap_pair(tv[0], tv[1]));
    const __m512i v23 = _mm512_set1_epi32(tap_pair(tv[2], tv[3]));
    const __m512i rnd = _mm512_set1_epi32(2048);
    __m512i a = hsum2(src - ss, ss, &h);               /* h[-1] | h[0] */
    __m512i c = hsum2(src + ss, ss, &h);               /* h[1] | h[2] */
    __m512i b = _mm512_shuffle_i64x2(a, c, 0x4E);      /* h[0] | h[1] */
    __m512i lo0 = _mm512_unpacklo_epi16(a, b), hi0 = _mm512_unpackhi_epi16(a, b);
    __m256i acc = _mm256_setzero_si256();
    for (int j = 0; j < bh2; j += 2) {
        /* h[j + 3] | h[j + 4]; the last pair needs h[j + 3] = h[bh2 + 1] only
         * (row bh2 + 2 is outside the readable rows) */
        __m512i e = j + 2 < bh2 ? hsum2(src + (j + 3) * ss, ss, &h) : hsum1(src + (j + 3) * ss, &h);
        __m512i d = _mm512_shuffle_i64x2(c, e, 0x4E);  /* h[j + 2] | h[j + 3] */
        __m512i lo2 = _mm512_unpacklo_epi16(c, d), hi2 = _mm512_unpackhi_epi16(c, d);
        __m512i lo = _mm512_add_epi32(_mm512_madd_epi16(lo0, v01), _mm512_madd_epi16(lo2, v23));
        __m512i hi = _mm512_add_epi32(_mm512_madd_epi16(hi0, v01), _mm512_madd_epi16(hi2, v23));
        lo = _mm512_srai_epi32(_mm512_add_epi32(lo, rnd), 12);
        hi = _mm512_srai_epi32(_mm512_add_epi32(hi, rnd), 12);
        acc = out2(dst + j * ds, ds, cur ? cur + j * cs : NULL, cs,
                   _mm512_cvtusepi16_epi8(_mm512_packus_epi32(lo, hi)), acc);
        lo0 = lo2;
        hi0 = hi2;
        c = e;
    }
    return acc;
}

static void nv_mc_put_h16_avx512(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                                 int bh, const int8_t *t)
{
    const int bh2 = bh & ~1;
    h16x2(dst, ds, src, ss, bh2, t, NULL, 0);
    if (bh & 1)
        nv_mc_put_h16_avx2(dst + bh2 * ds, ds, src + bh2 * ss, ss, 1, t);
}

static void nv_mc_put_hv16_avx512(uint8_t *dst, ptrdiff_t ds, const uint8_t *src, ptrdiff_t ss,
                                  int bh, const int8_t *th, const int8_t *tv)
{
    const int bh2 = bh & ~1;
    if (bh2)
        hv16x2(dst, ds, src, ss, bh2, th, tv, NULL, 0);
    if (bh & 1)
        nv_mc_put_hv16_avx2(dst + bh2 * ds, ds, src + bh2 * ss, ss, 1, th, tv);
}

static uint32_t nv_mc_sadp_h16_avx512(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src,
                                      ptrdiff_t ss, const int8_t *th, const int8_t *tv)
{
    (void)tv;
    return sad_total(h16x2(NULL, 0, src, ss, 16, th, cur, cs));
}

static uint32_t nv_mc_sadp_hv16_avx512(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src,
                                       ptrdiff_t ss, const int8_t *th, const int8_t *tv)
{
    return sad_total(hv16x2(NULL, 0, src, ss, 16, th, tv, cur, cs));
}

void nv_mcdsp_init_x86_avx512(nv_mcdsp *d)
{
    d->put_h[1] = nv_mc_put_h16_avx512;
    d->put_hv[1] = nv_mc_put_hv16_avx512;
    d->sadp[0] = nv_mc_sadp_h16_avx512;
    d->sadp[2] = nv_mc_sadp_hv16_avx512;
    d->name = "nv_mc_avx512";
}
