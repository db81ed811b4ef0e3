/*
 * Space-to-depth and depth-to-space with AVX2: the shapes of the default
 * model's shuffles as in-lane byte shuffles (vpshufb), unpacks and one
 * cross-lane permutation (vpermd); every other shape runs nl_s2d_c_fast /
 * nl_d2s_c_fast.  Pure copies in the reference's element order
 * (netlib/ref/shuffle.c), so trivially exact.  No load reads outside the
 * source rows that the reference reads (pixels whose windows would pass
 * the end of a row run the scalar rule).
 *
 *   nl_s2d_s16_r2_avx2:  s16, r = 2, cin % 8 == 0 (8 channels x 4 offsets:
 *                        two vpunpck*wd, two vpermd);
 *   nl_s2d_u8_r4_avx2:   u8, r = 4, cin even, cin <= 12 (4 channels x 16
 *                        offsets: per row two 16-byte windows of 2 pixels,
 *                        vpshufb, then a dword transpose of the 4 rows), or
 *                        cin % 16 == 0 (16 channels: byte and word
 *                        unpacks of the 4 pixels, the same dword transpose);
 *   nl_d2s_s16_r2_avx2:  s16, r = 2, cout % 16 == 0 (16 channels of one
 *                        offset from 4 registers: vpshufb, unpacks, vpermd);
 *   nl_d2s_s16_r4_avx2:  s16, r = 4, cout <= 6 (cout == 6: two pixels per
 *                        step, unpacks and vshufps; other counts: the cout
 *                        4-element runs packed, then at most 3 x 3 vpshufb).
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "netlib/x86/elem_x86.h"
#include "netlib/x86/shuffle_x86.h"

/* dword q of the result is dword PAIRS[q] of the source: lane 0's dword k
 * followed by lane 1's dword k. */
#define PAIRS 0, 4, 1, 5, 2, 6, 3, 7

static inline __m256i load2x128(const void *lo, const void *hi)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)lo)),
                                   _mm_loadu_si128((const __m128i *)hi), 1);
}

/* s16, r = 2: dst element c * 4 + i * 2 + j of pixel x is src element c
 * of pixel 2x + j in row 2y + i. */
static void s2d_s16_r2(const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    const int cin = src->c;
    const __m256i pairs = _mm256_setr_epi32(PAIRS);
    for (int y = y0; y < y1; y++) {
        const int16_t *s0 = (const int16_t *)src->data + (ptrdiff_t)2 * y * src->stride;
        const int16_t *s1 = s0 + src->stride;
        int16_t *d = (int16_t *)dst->data + (ptrdiff_t)y * dst->stride;
        for (int x = 0; x < dst->w; x++) {
            const int16_t *a = s0 + (ptrdiff_t)2 * x * cin, *b = s1 + (ptrdiff_t)2 * x * cin;
            for (int c = 0; c < cin; c += 8, d += 32) {
                /* lane 0 row 2y, lane 1 row 2y + 1; j = 0 in u, j = 1 in v */
                const __m256i u = load2x128(a + c, b + c), v = load2x128(a + cin + c, b + cin + c);
                /* dword k of a lane: channel k (of 4) at j = 0, 1 */
                const __m256i lo = _mm256_unpacklo_epi16(u, v), hi = _mm256_unpackhi_epi16(u, v);
                _mm256_storeu_si256((__m256i *)d, _mm256_permutevar8x32_epi32(lo, pairs));
                _mm256_storeu_si256((__m256i *)(d + 16), _mm256_permutevar8x32_epi32(hi, pairs));
            }
        }
    }
}

/* u8, r = 4, cin even <= 12: dst byte c * 16 + i * 4 + j of pixel x is
 * src byte c of pixel 4x + j in row 4y + i.  Per row and block of 4
 * channels (2 in the last block when cin % 4 == 2) two 16-byte windows,
 * pixels 0, 1 and 2, 3 from the block's first channel (cin + 4 <= 16
 * bytes each); vpshufb makes dword k = channel k at j = 0..3. */
static void s2d_u8_r4(const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    const int cin = src->c, last = (cin - 1) / 4 * 4; /* first channel of the last block */
    const ptrdiff_t ss = src->stride;
    _Alignas(32) int8_t m[2][32];
    for (int l = 0; l < 32; l++) {
        const int k = (l & 15) / 4, j = l & 3;
        m[0][l] = (int8_t)(j < 2 ? j * cin + k : -1);
        m[1][l] = (int8_t)(j >= 2 ? (j - 2) * cin + k : -1);
    }
    const __m256i m0 = _mm256_load_si256((const __m256i *)m[0]);
    const __m256i m1 = _mm256_load_si256((const __m256i *)m[1]);
    const __m256i pairs = _mm256_setr_epi32(PAIRS);
    /* Pixel x reads up to byte 4x cin + 2 cin + last + 16 of its rows: the
     * first wv pixels stay inside the 4 dst->w cin bytes the reference
     * reads; the others take the scalar rule. */
    const ptrdiff_t row = (ptrdiff_t)4 * dst->w * cin, need = (ptrdiff_t)2 * cin + last + 16;
    int wv = row >= need ? (int)((row - need) / (4 * cin)) + 1 : 0;
    if (wv > dst->w)
        wv = dst->w;
    for (int y = y0; y < y1; y++) {
        const uint8_t *s = (const uint8_t *)src->data + (ptrdiff_t)4 * y * ss;
        uint8_t *drow = (uint8_t *)dst->data + (ptrdiff_t)y * dst->stride;
        for (int x = 0; x < wv; x++) {
            uint8_t *d = drow + (ptrdiff_t)x * cin * 16;
            const uint8_t *p = s + (ptrdiff_t)4 * x * cin;
            for (int c = 0; c < cin; c += 4) {
                const uint8_t *q = p + c;
                /* lane 0 row i, lane 1 row i + 1 */
                const __m256i t01 = _mm256_or_si256(
                    _mm256_shuffle_epi8(load2x128(q, q + ss), m0),
                    _mm256_shuffle_epi8(load2x128(q + 2 * cin, q + ss + 2 * cin), m1));
                const __m256i t23 = _mm256_or_si256(
                    _mm256_shuffle_epi8(load2x128(q + 2 * ss, q + 3 * ss), m0),
                    _mm256_shuffle_epi8(load2x128(q + 2 * ss + 2 * cin, q + 3 * ss + 2 * cin),
                                        m1));
                /* channels c, c + 1: dword (c', i) -> dword c' * 4 + i */
                const __m256i lo = _mm256_unpacklo_epi32(t01, t23);
                _mm256_storeu_si256((__m256i *)(d + 16 * c), _mm256_permutevar8x32_epi32(lo, pairs));
                if (c + 4 <= cin) {
                    const __m256i hi = _mm256_unpackhi_epi32(t01, t23);
                    _mm256_storeu_si256((__m256i *)(d + 16 * c + 32),
                                        _mm256_permutevar8x32_epi32(hi, pairs));
                }
            }
        }
        for (int x = wv; x < dst->w; x++)
            for (int c = 0; c < cin; c++)
                for (int q = 0; q < 16; q++)
                    drow[(ptrdiff_t)x * cin * 16 + c * 16 + q] =
                        s[(q >> 2) * ss + (ptrdiff_t)(4 * x + (q & 3)) * cin + c];
    }
}

/* u8, r = 4, cin % 16 == 0: as above with 16 channels per step: per pair
 * of rows (lanes) the 16 channels of pixels j = 0..3, transposed by byte
 * and word unpacks into 4 registers of dword k = channel k at j = 0..3. */
static void s2d_u8_r4_c16(const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    const int cin = src->c;
    const ptrdiff_t ss = src->stride;
    const __m256i pairs = _mm256_setr_epi32(PAIRS);
    for (int y = y0; y < y1; y++) {
        const uint8_t *s = (const uint8_t *)src->data + (ptrdiff_t)4 * y * ss;
        uint8_t *d = (uint8_t *)dst->data + (ptrdiff_t)y * dst->stride;
        for (int x = 0; x < dst->w; x++) {
            const uint8_t *p = s + (ptrdiff_t)4 * x * cin;
            for (int c = 0; c < cin; c += 16, d += 256) {
                __m256i t[2][4];
                for (int h = 0; h < 2; h++) { /* rows 2h, 2h + 1 */
                    const uint8_t *q = p + 2 * h * ss + c;
                    const __m256i w0 = load2x128(q, q + ss), w1 = load2x128(q + cin, q + ss + cin);
                    const __m256i w2 = load2x128(q + 2 * cin, q + ss + 2 * cin);
                    const __m256i w3 = load2x128(q + 3 * cin, q + ss + 3 * cin);
                    const __m256i l01 = _mm256_unpacklo_epi8(w0, w1), l23 = _mm256_unpacklo_epi8(w2, w3);
                    const __m256i h01 = _mm256_unpackhi_epi8(w0, w1), h23 = _mm256_unpackhi_epi8(w2, w3);
                    t[h][0] = _mm256_unpacklo_epi16(l01, l23);
                    t[h][1] = _mm256_unpackhi_epi16(l01, l23);
                    t[h][2] = _mm256_unpacklo_epi16(h01, h23);
                    t[h][3] = _mm256_unpackhi_epi16(h01, h23);
                }
                for (int k = 0; k < 4; k++) { /* channels c + 4k .. c + 4k + 3 */
                    const __m256i lo = _mm256_unpacklo_epi32(t[0][k], t[1][k]);
                    const __m256i hi = _mm256_unpackhi_epi32(t[0][k], t[1][k]);
                    _mm256_storeu_si256((__m256i *)(d + 64 * k), _mm256_permutevar8x32_epi32(lo, pairs));
                    _mm256_storeu_si256((__m256i *)(d + 64 * k + 32),
                                        _mm256_permutevar8x32_epi32(hi, pairs));
                }
            }
        }
    }
}

/* s16, r = 2, cout % 16 == 0: dst pixel 2x + j of row 2y + i, channel c,
 * is src element c * 4 + i * 2 + j of pixel x; 16 channels per step. */
static void d2s_s16_r2(const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    const int cout = dst->c;
    /* per lane (2 channels x 4 offsets): word 2 o + ch <- word 4 ch + o,
     * so dword o = offset o (= 2 i + j) of both channels */
    const __m256i tr = _mm256_broadcastsi128_si256(_mm_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5,
                                                                 12, 13, 6, 7, 14, 15));
    const __m256i pairs = _mm256_setr_epi32(PAIRS);
    for (int yo = y0; yo < y1; yo++) {
        const int i = yo & 1;
        const int16_t *srow = (const int16_t *)src->data + (ptrdiff_t)(yo >> 1) * src->stride;
        int16_t *d = (int16_t *)dst->data + (ptrdiff_t)yo * dst->stride;
        for (int x = 0; x < src->w; x++, d += 2 * cout) {
            const int16_t *s = srow + (ptrdiff_t)x * src->c;
            for (int c = 0; c < cout; c += 16) {
                const int16_t *q = s + (ptrdiff_t)c * 4;
                /* z[k]: channels 4k, 4k + 1 (lane 0), 4k + 2, 4k + 3 (lane 1) */
                __m256i z[4];
                for (int k = 0; k < 4; k++)
                    z[k] = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(q + 16 * k)), tr);
                /* dwords 2i, 2i + 1 of each lane: u01 lane 0 = channel pairs
                 * 0 (j 0), 4 (j 0), 0 (j 1), 4 (j 1); lane 1 the same of 2, 6 */
                const __m256i u01 = i ? _mm256_unpackhi_epi32(z[0], z[1]) : _mm256_unpacklo_epi32(z[0], z[1]);
                const __m256i u23 = i ? _mm256_unpackhi_epi32(z[2], z[3]) : _mm256_unpacklo_epi32(z[2], z[3]);
                /* pairs 0 4 8 12 | 2 6 10 14 of one j, then in channel order */
                const __m256i v0 = _mm256_unpacklo_epi64(u01, u23), v1 = _mm256_unpackhi_epi64(u01, u23);
                _mm256_storeu_si256((__m256i *)(d + c), _mm256_permutevar8x32_epi32(v0, pairs));
                _mm256_storeu_si256((__m256i *)(d + cout + c), _mm256_permutevar8x32_epi32(v1, pairs));
            }
        }
    }
}

/* s16, r = 4, cout == 6, pixels x and x + 1 of src (lanes 0, 1), output
 * row parity i: runs hi = i & 1 of the 16-byte loads at c * 16 + (i & 2) * 4
 * (the runs i & 2 and (i & 2) + 1 of channel c, inside the pixel).  With
 * A, B, C the dwords (channels 0 1, 2 3, 4 5) at j = 0..3, dst is
 * A0 B0 C0 A1 | B1 C1 A2 B2 | C2 A3 B3 C3 (16 bytes each). */
static inline void d2s_s16_r4_c6_pair(int16_t *d, const int16_t *s, ptrdiff_t sc, int i,
                                      const int hi)
{
    const int16_t *p = s + (i & 2) * 4;
    __m256i q[6];
    for (int c = 0; c < 6; c++)
        q[c] = load2x128(p + 16 * c, p + sc + 16 * c);
    const __m256i a = hi ? _mm256_unpackhi_epi16(q[0], q[1]) : _mm256_unpacklo_epi16(q[0], q[1]);
    const __m256i b = hi ? _mm256_unpackhi_epi16(q[2], q[3]) : _mm256_unpacklo_epi16(q[2], q[3]);
    const __m256i c = hi ? _mm256_unpackhi_epi16(q[4], q[5]) : _mm256_unpacklo_epi16(q[4], q[5]);
    const __m256 ab_lo = _mm256_castsi256_ps(_mm256_unpacklo_epi32(a, b)); /* A0 B0 A1 B1 */
    const __m256 ab_hi = _mm256_castsi256_ps(_mm256_unpackhi_epi32(a, b)); /* A2 B2 A3 B3 */
    const __m256 ca_lo = _mm256_castsi256_ps(_mm256_unpacklo_epi32(c, a)); /* C0 A0 C1 A1 */
    const __m256 ca_hi = _mm256_castsi256_ps(_mm256_unpackhi_epi32(c, a)); /* C2 A2 C3 A3 */
    const __m256 bc_lo = _mm256_castsi256_ps(_mm256_unpacklo_epi32(b, c)); /* B0 C0 B1 C1 */
    const __m256 bc_hi = _mm256_castsi256_ps(_mm256_unpackhi_epi32(b, c)); /* B2 C2 B3 C3 */
    const __m256i o[3] = {
        _mm256_castps_si256(_mm256_shuffle_ps(ab_lo, ca_lo, _MM_SHUFFLE(3, 0, 1, 0))),
        _mm256_castps_si256(_mm256_shuffle_ps(bc_lo, ab_hi, _MM_SHUFFLE(1, 0, 3, 2))),
        _mm256_castps_si256(_mm256_shuffle_ps(ca_hi, bc_hi, _MM_SHUFFLE(3, 2, 3, 0))),
    };
    for (int k = 0; k < 3; k++) {
        _mm_storeu_si128((__m128i *)(d + 8 * k), _mm256_castsi256_si128(o[k]));
        _mm_storeu_si128((__m128i *)(d + 24 + 8 * k), _mm256_extracti128_si256(o[k], 1));
    }
}

/* s16, r = 4, cout <= 6: dst pixel 4x + j of row 4y + i, channel c, is src
 * element c * 16 + i * 4 + j of pixel x.  cout == 6 takes pairs of pixels
 * (above); otherwise, and for the last pixel of an odd width, the 4-element
 * runs c * 16 + i * 4 (c < cout) are packed two per register, p[c / 2]
 * element (c % 2) * 4 + j, and each 16-byte chunk of the 4 cout <= 24 dst
 * elements is an OR of vpshufb of the ceil(cout / 2) registers. */
static void d2s_s16_r4(const nl_tensor *src, nl_tensor *dst, int y0, int y1)
{
    const int cout = dst->c, np = (cout + 1) / 2, nchunk = (cout + 1) / 2, m = 4 * cout;
    _Alignas(16) int8_t mk[3][3][16];
    memset(mk, -1, sizeof(mk));
    for (int e = 0; e < m; e++) {
        const int j = e / cout, c = e % cout, w = c * 4 + j; /* word w of the packed runs */
        mk[e / 8][w / 8][(e % 8) * 2] = (int8_t)((w % 8) * 2);
        mk[e / 8][w / 8][(e % 8) * 2 + 1] = (int8_t)((w % 8) * 2 + 1);
    }
    __m128i mv[3][3];
    for (int k = 0; k < 3; k++)
        for (int s = 0; s < 3; s++)
            mv[k][s] = _mm_load_si128((const __m128i *)mk[k][s]);
    const ptrdiff_t sc = src->c;
    for (int yo = y0; yo < y1; yo++) {
        const int i = yo & 3;
        const int16_t *srow = (const int16_t *)src->data + (ptrdiff_t)(yo >> 2) * src->stride;
        int16_t *d = (int16_t *)dst->data + (ptrdiff_t)yo * dst->stride;
        int x = 0;
        if (cout == 6) {
            if (i & 1)
                for (; x + 2 <= src->w; x += 2, d += 2 * m)
                    d2s_s16_r4_c6_pair(d, srow + x * sc, sc, i, 1);
            else
                for (; x + 2 <= src->w; x += 2, d += 2 * m)
                    d2s_s16_r4_c6_pair(d, srow + x * sc, sc, i, 0);
        }
        for (; x < src->w; x++, d += m) {
            const int16_t *s = srow + x * sc + i * 4;
            __m128i p[3];
            for (int k = 0; k < np; k++) {
                const __m128i a = _mm_loadl_epi64((const __m128i *)(s + 32 * k));
                p[k] = 2 * k + 1 < cout
                           ? _mm_unpacklo_epi64(a, _mm_loadl_epi64((const __m128i *)(s + 32 * k + 16)))
                           : a;
            }
            for (int k = 0; k < nchunk; k++) {
                __m128i o = _mm_shuffle_epi8(p[0], mv[k][0]);
                for (int s2 = 1; s2 < np; s2++)
                    o = _mm_or_si128(o, _mm_shuffle_epi8(p[s2], mv[k][s2]));
                if (8 * k + 8 <= m)
                    _mm_storeu_si128((__m128i *)(d + 8 * k), o);
                else
                    _mm_storel_epi64((__m128i *)(d + 8 * k), o); /* odd cout: 4 elements */
            }
        }
    }
}

void nl_s2d_avx2(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1)
{
    if (r == 2 && src->type == NL_S16 && src->c % 8 == 0)
        s2d_s16_r2(src, dst, y0, y1);
    else if (r == 4 && src->type == NL_U8 && src->c % 2 == 0 && src->c <= 12)
        s2d_u8_r4(src, dst, y0, y1);
    else if (r == 4 && src->type == NL_U8 && src->c % 16 == 0)
        s2d_u8_r4_c16(src, dst, y0, y1);
    else
        nl_s2d_c_fast(src, dst, r, y0, y1);
}

void nl_d2s_avx2(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1)
{
    if (r == 2 && src->type == NL_S16 && dst->c % 16 == 0)
        d2s_s16_r2(src, dst, y0, y1);
    else if (r == 4 && src->type == NL_S16 && dst->c <= 6)
        d2s_s16_r4(src, dst, y0, y1);
    else
        nl_d2s_c_fast(src, dst, r, y0, y1);
}
