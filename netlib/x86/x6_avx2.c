/*
 * x6 row packing in AVX2 (common/picture.h, common/mcdsp.h): 16 pixels per
 * step, the same bytes as nv_x6_pack_row_c / nv_x6_unpack_row_c.
 *
 * A pixel of x6 is three 16-bit words: the luma pair of row 0, the luma
 * pair of row 1, and (u, v).  Eight pixels are 24 words, three 16-byte
 * vectors: word g = 3 x + c (pixel x, component c) lies in vector g / 8 at
 * word g % 8.  So each output vector is an OR of one byte shuffle per
 * component (pshufb, -1 clears), and unpacking is the same in reverse;
 * the 256-bit registers hold pixels 0-7 and 8-15 in their two lanes.
 */
#include <immintrin.h>

#include "common/mcdsp.h"
#include "common/picture.h"

/* PACK[k][c]: the bytes of component c's 8 words that land in output
 * vector k (byte 2 j + e of the mask = byte 2 (g / 3) + e of the
 * component where g = 8 k + j has g % 3 == c, else -1). */
static inline __m256i pack_mask(int k, int c)
{
    static const int8_t m[3][3][16] = {
        { { 0, 1, -1, -1, -1, -1, 2, 3, -1, -1, -1, -1, 4, 5, -1, -1 },
          { -1, -1, 0, 1, -1, -1, -1, -1, 2, 3, -1, -1, -1, -1, 4, 5 },
          { -1, -1, -1, -1, 0, 1, -1, -1, -1, -1, 2, 3, -1, -1, -1, -1 } },
        { { -1, -1, 6, 7, -1, -1, -1, -1, 8, 9, -1, -1, -1, -1, 10, 11 },
          { -1, -1, -1, -1, 6, 7, -1, -1, -1, -1, 8, 9, -1, -1, -1, -1 },
          { 4, 5, -1, -1, -1, -1, 6, 7, -1, -1, -1, -1, 8, 9, -1, -1 } },
        { { -1, -1, -1, -1, 12, 13, -1, -1, -1, -1, 14, 15, -1, -1, -1, -1 },
          { 10, 11, -1, -1, -1, -1, 12, 13, -1, -1, -1, -1, 14, 15, -1, -1 },
          { -1, -1, 10, 11, -1, -1, -1, -1, 12, 13, -1, -1, -1, -1, 14, 15 } },
    };
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)m[k][c]));
}

/* UNPACK[c][k]: the bytes of output vector k that hold component c's words
 * (byte 2 w + e of the mask = byte 2 (g % 8) + e of vector k where
 * g = 3 w + c has g / 8 == k, else -1). */
static inline __m256i unpack_mask(int c, int k)
{
    static const int8_t m[3][3][16] = {
        { { 0, 1, 6, 7, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 },
          { -1, -1, -1, -1, -1, -1, 2, 3, 8, 9, 14, 15, -1, -1, -1, -1 },
          { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 4, 5, 10, 11 } },
        { { 2, 3, 8, 9, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 },
          { -1, -1, -1, -1, -1, -1, 4, 5, 10, 11, -1, -1, -1, -1, -1, -1 },
          { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 6, 7, 12, 13 } },
        { { 4, 5, 10, 11, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 },
          { -1, -1, -1, -1, 0, 1, 6, 7, 12, 13, -1, -1, -1, -1, -1, -1 },
          { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 3, 8, 9, 14, 15 } },
    };
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)m[c][k]));
}

static void nv_x6_pack_row_avx2(const uint8_t *y0, const uint8_t *y1, const uint8_t *u,
                                const uint8_t *v, uint8_t *o, int w)
{
    __m256i pm[3][3];
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 3; c++)
            pm[k][c] = pack_mask(k, c);
    int x = 0;
    for (; x + 16 <= w; x += 16, o += 16 * NV_X6_CHANNELS) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(y0 + 2 * x));
        const __m256i b = _mm256_loadu_si256((const __m256i *)(y1 + 2 * x));
        const __m128i uu = _mm_loadu_si128((const __m128i *)(u + x));
        const __m128i vv = _mm_loadu_si128((const __m128i *)(v + x));
        const __m256i uv = _mm256_set_m128i(_mm_unpackhi_epi8(uu, vv), _mm_unpacklo_epi8(uu, vv));
        __m256i r[3];
        for (int k = 0; k < 3; k++)
            r[k] = _mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(a, pm[k][0]),
                                                   _mm256_shuffle_epi8(b, pm[k][1])),
                                   _mm256_shuffle_epi8(uv, pm[k][2]));
        /* Lane 0 holds bytes 0-47 of the output, lane 1 bytes 48-95. */
        _mm256_storeu_si256((__m256i *)o, _mm256_permute2x128_si256(r[0], r[1], 0x20));
        _mm256_storeu_si256((__m256i *)(o + 32), _mm256_permute2x128_si256(r[2], r[0], 0x30));
        _mm256_storeu_si256((__m256i *)(o + 64), _mm256_permute2x128_si256(r[1], r[2], 0x31));
    }
    nv_x6_pack_row_c(y0 + 2 * x, y1 + 2 * x, u + x, v + x, o, w - x);
}

static void nv_x6_unpack_row_avx2(const uint8_t *s, uint8_t *y0, uint8_t *y1, uint8_t *u,
                                  uint8_t *v, int w)
{
    __m256i um[3][3];
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 3; k++)
            um[c][k] = unpack_mask(c, k);
    /* Within each lane: u0-7 then v0-7, from the interleaved (u, v) words. */
    const __m256i split = _mm256_broadcastsi128_si256(
        _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
    int x = 0;
    for (; x + 16 <= w; x += 16, s += 16 * NV_X6_CHANNELS) {
        const __m256i s0 = _mm256_loadu_si256((const __m256i *)s);
        const __m256i s1 = _mm256_loadu_si256((const __m256i *)(s + 32));
        const __m256i s2 = _mm256_loadu_si256((const __m256i *)(s + 64));
        const __m256i r[3] = { _mm256_permute2x128_si256(s0, s1, 0x30),
                               _mm256_permute2x128_si256(s0, s2, 0x21),
                               _mm256_permute2x128_si256(s1, s2, 0x30) };
        __m256i comp[3];
        for (int c = 0; c < 3; c++)
            comp[c] = _mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(r[0], um[c][0]),
                                                      _mm256_shuffle_epi8(r[1], um[c][1])),
                                      _mm256_shuffle_epi8(r[2], um[c][2]));
        _mm256_storeu_si256((__m256i *)(y0 + 2 * x), comp[0]);
        _mm256_storeu_si256((__m256i *)(y1 + 2 * x), comp[1]);
        /* u0-7 v0-7 | u8-15 v8-15 -> u0-15 | v0-15. */
        const __m256i uv = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(comp[2], split), 0xD8);
        _mm_storeu_si128((__m128i *)(u + x), _mm256_castsi256_si128(uv));
        _mm_storeu_si128((__m128i *)(v + x), _mm256_extracti128_si256(uv, 1));
    }
    nv_x6_unpack_row_c(s, y0 + 2 * x, y1 + 2 * x, u + x, v + x, w - x);
}

void nv_mcdsp_init_x86_x6_avx2(nv_mcdsp *d)
{
    d->x6_pack_row = nv_x6_pack_row_avx2;
    d->x6_unpack_row = nv_x6_unpack_row_avx2;
}
