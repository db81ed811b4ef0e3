/*
 * Space-to-depth and depth-to-space with AVX-512 (F, BW): the shapes of
 * the default model's shuffles, each a fixed permutation of a few
 * registers; every other shape runs nl_s2d_c_fast / nl_d2s_c_fast.  Pure
 * copies in the reference's element order (netlib/ref/shuffle.c), so
 * trivially exact.  No load or gather reads outside the source rows that
 * the reference reads (masked loads at the ends, the last pixel of a row
 * in scalar code where a gather would pass its end).
 *
 *   nl_s2d_s16_r2_avx512:  s16, r = 2, cin % 8 == 0 (8 channels x 4
 *                          offsets per register, one vpermw);
 *   nl_s2d_u8_r4_avx512:   u8, r = 4, cin even (4 channels x 16 offsets per
 *                          register: a dword gather, vpshufb, vpermd);
 *   nl_d2s_s16_r2_avx512:  s16, r = 2, cout % 32 == 0 (32 channels of one
 *                          offset from 4 registers: two vpermt2w, a blend);
 *   nl_d2s_s16_r4_avx512:  s16, r = 4, cout <= 6 (a source pixel of at most
 *                          96 elements, 4 x cout out: two vpermt2w, a blend).
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "netlib/x86/elem_x86.h"
#include "netlib/x86/shuffle_x86.h"

/* s16, r = 2: dst element c * 4 + i * 2 + j of pixel x is src element c
 * of pixel 2x + j in row 2y + i. */
static void s2d_s16_r2(const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    const int cin = src->c;
    _Alignas(64) int16_t ix[32];
    for (int c = 0; c < 8; c++)
        for (int q = 0; q < 4; q++)
            ix[c * 4 + q] = (int16_t)(q * 8 + c); /* chunk q holds 8 channels of offset q */
    const __m512i idx = _mm512_load_si512(ix);
    for (int y = y0; y < y1; y++) {
        const int16_t *s0 = (const int16_t *)src->data + (ptrdiff_t)2 * y * src->stride;
        const int16_t *s1 = s0 + src->stride;
        int16_t *d = (int16_t *)dst->data + (ptrdiff_t)y * dst->stride;
        for (int x = 0; x < dst->w; x++) {
            const int16_t *a = s0 + (ptrdiff_t)2 * x * cin, *b = s1 + (ptrdiff_t)2 * x * cin;
            for (int c = 0; c < cin; c += 8, d += 32) {
                __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(a + c)));
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(a + cin + c)), 1);
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(b + c)), 2);
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(b + cin + c)), 3);
                _mm512_storeu_si512(d, _mm512_permutexvar_epi16(idx, v));
            }
        }
    }
}

/* u8, r = 4: dst byte c * 16 + i * 4 + j of pixel x is src byte c of
 * pixel 4x + j in row 4y + i; 4 channels per register. */
static void s2d_u8_r4(const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    const int cin = src->c, nblk = (cin + 3) / 4;
    const ptrdiff_t ss = src->stride;
    /* The last block of a pixel reads 2 bytes past it when cin % 4 == 2:
     * inside the row except at the last pixel, which goes the C way. */
    const int wv = cin % 4 ? dst->w - 1 : dst->w;
    _Alignas(64) int32_t off[16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            off[i * 4 + j] = (int32_t)(i * ss + j * cin);
    const __m512i vo = _mm512_load_si512(off);
    /* dword q = (c0 c1 c2 c3 of offset q) -> per 128-bit lane: c0 of its
     * 4 offsets, c1, c2, c3; then dword (lane L, c) -> dword c * 4 + L. */
    const __m512i tr = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10,
                                                            14, 3, 7, 11, 15));
    const __m512i perm = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    for (int y = y0; y < y1; y++) {
        const uint8_t *s = (const uint8_t *)src->data + (ptrdiff_t)4 * y * ss;
        uint8_t *drow = (uint8_t *)dst->data + (ptrdiff_t)y * dst->stride;
        for (int x = 0; x < wv; x++) {
            uint8_t *d = drow + (ptrdiff_t)x * cin * 16;
            const uint8_t *p = s + (ptrdiff_t)4 * x * cin;
            for (int b = 0; b < nblk; b++) {
                __m512i v = _mm512_i32gather_epi32(vo, p + 4 * b, 1);
                v = _mm512_permutexvar_epi32(perm, _mm512_shuffle_epi8(v, tr));
                if (4 * b + 4 <= cin)
                    _mm512_storeu_si512(d + 64 * b, v);
                else
                    _mm512_mask_storeu_epi8(d + 64 * b, (__mmask64)0xFFFFFFFFu, v); /* 2 channels */
            }
        }
        for (int x = wv; x < dst->w; x++)     /* the last pixel, cin % 4 == 2 */
            for (int c = 0; c < cin; c++)
                for (int q = 0; q < 16; q++)
                    drow[(ptrdiff_t)x * cin * 16 + c * 16 + q] =
                        s[off[q] + (ptrdiff_t)4 * x * cin + c];
    }
}

/* s16, r = 2: dst pixel 2x + j of row 2y + i, channel c, is src element
 * c * 4 + i * 2 + j of pixel x; 32 channels per register. */
static void d2s_s16_r2(const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    const int cout = dst->c;
    for (int yo = y0; yo < y1; yo++) {
        const int i = yo & 1;
        /* lane l < 16 (from z0, z1) and l >= 16 (from z2, z3): channel
         * l % 16 of the pair's 16, element 4 (l % 16) + 2 i + j */
        _Alignas(64) int16_t ia[2][32];
        for (int j = 0; j < 2; j++)
            for (int l = 0; l < 32; l++)
                ia[j][l] = (int16_t)((l & 15) * 4 + i * 2 + j);
        const __m512i a0 = _mm512_load_si512(ia[0]), a1 = _mm512_load_si512(ia[1]);
        const int16_t *srow = (const int16_t *)src->data + (ptrdiff_t)(yo >> 1) * src->stride;
        int16_t *d = (int16_t *)dst->data + (ptrdiff_t)yo * dst->stride;
        for (int x = 0; x < src->w; x++, d += 2 * cout) {
            const int16_t *s = srow + (ptrdiff_t)x * src->c;
            for (int c = 0; c < cout; c += 32) {
                const int16_t *q = s + (ptrdiff_t)c * 4;
                const __m512i z0 = _mm512_loadu_si512(q), z1 = _mm512_loadu_si512(q + 32);
                const __m512i z2 = _mm512_loadu_si512(q + 64), z3 = _mm512_loadu_si512(q + 96);
                /* channels c..c+15 from z0, z1; c+16..c+31 from z2, z3 */
                __m512i lo = _mm512_permutex2var_epi16(z0, a0, z1);
                __m512i hi = _mm512_permutex2var_epi16(z2, a0, z3);
                _mm512_storeu_si512(d + c, _mm512_mask_blend_epi16(0xFFFF0000u, lo, hi));
                lo = _mm512_permutex2var_epi16(z0, a1, z1);
                hi = _mm512_permutex2var_epi16(z2, a1, z3);
                _mm512_storeu_si512(d + cout + c, _mm512_mask_blend_epi16(0xFFFF0000u, lo, hi));
            }
        }
    }
}

/* s16, r = 4, cout <= 6: dst pixel 4x + j of row 4y + i, channel c, is src
 * element c * 16 + i * 4 + j of pixel x (16 cout <= 96 elements). */
static void d2s_s16_r4(const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    const int cout = dst->c, n = 16 * cout, m = 4 * cout;
    const __mmask32 k0 = n >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << n) - 1);
    const __mmask32 k1 = n >= 64 ? 0xFFFFFFFFu : n > 32 ? (__mmask32)((1u << (n - 32)) - 1) : 0;
    const __mmask32 k2 = n > 64 ? (__mmask32)(((uint64_t)1 << (n - 64)) - 1) : 0; /* n - 64 <= 32 */
    const __mmask32 km = (__mmask32)((1u << m) - 1);                     /* m <= 24 */
    for (int yo = y0; yo < y1; yo++) {
        const int i = yo & 3;
        _Alignas(64) int16_t ia[32];
        __mmask32 hi_lanes = 0;
        for (int l = 0; l < 32; l++) {
            const int j = l / (cout > 0 ? cout : 1), c = l % (cout > 0 ? cout : 1);
            const int e = l < m ? c * 16 + i * 4 + j : 0;
            ia[l] = (int16_t)(e & 63);
            if (e >= 64)
                hi_lanes |= (__mmask32)1 << l;
        }
        const __m512i idx = _mm512_load_si512(ia);
        const int16_t *srow = (const int16_t *)src->data + (ptrdiff_t)(yo >> 2) * src->stride;
        int16_t *d = (int16_t *)dst->data + (ptrdiff_t)yo * dst->stride;
        for (int x = 0; x < src->w; x++, d += m) {
            const int16_t *s = srow + (ptrdiff_t)x * src->c;
            const __m512i z0 = _mm512_maskz_loadu_epi16(k0, s);
            const __m512i z1 = _mm512_maskz_loadu_epi16(k1, s + 32);
            const __m512i z2 = _mm512_maskz_loadu_epi16(k2, s + 64);
            const __m512i lo = _mm512_permutex2var_epi16(z0, idx, z1);
            const __m512i hi = _mm512_permutexvar_epi16(idx, z2); /* lanes 64..95: idx & 31 */
            _mm512_mask_storeu_epi16(d, km, _mm512_mask_blend_epi16(hi_lanes, lo, hi));
        }
    }
}

void nl_s2d_avx512(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1)
{
    if (r == 2 && src->type == NL_S16 && src->c % 8 == 0)
        s2d_s16_r2(src, dst, y0, y1);
    else if (r == 4 && src->type == NL_U8 && src->c % 2 == 0)
        s2d_u8_r4(src, dst, y0, y1);
    else
        nl_s2d_c_fast(src, dst, r, y0, y1);
}

void nl_d2s_avx512(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1)
{
    if (r == 2 && src->type == NL_S16 && dst->c % 32 == 0)
        d2s_s16_r2(src, dst, y0, y1);
    else if (r == 4 && src->type == NL_S16 && dst->c <= 6)
        d2s_s16_r4(src, dst, y0, y1);
    else
        nl_d2s_c_fast(src, dst, r, y0, y1);
}

void nl_dsp_init_x86_shuffle_avx512(nl_dsp *d)
{
    d->s2d = nl_s2d_avx512;        d->s2d_name = "nl_s2d_avx512";
    d->d2s = nl_d2s_avx512;        d->d2s_name = "nl_d2s_avx512";
}
