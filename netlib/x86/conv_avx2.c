/*
 * Convolutions with AVX2: 1x1 and 3x3, stride 1 and 2, u8 / s8 / s16
 * input, any output type.  Layout, staging and packed weights: conv_x86.h.
 *
 * Inner product.  AVX2 has no dot product of bytes that cannot saturate:
 * vpmaddubsw adds two u8 x s8 products in int16 with saturation, and
 * 2 * 255 * 127 = 64770 > 32767.  So every input is staged as s16 (u8
 * zero-extended, s8 sign-extended: exact) and weights are widened to s16;
 * vpmaddwd then forms a * b + c * d of s16 pairs in int32, at most
 * 2 * 4096 * 128 = 2^20 in magnitude (|input| <= 4096 for s16, 255 for
 * u8; |weight| <= 127), never saturating (its only saturating case is
 * -32768 * -32768 twice), and vpaddd accumulates.  Every partial sum is
 * below 2^31 in magnitude: |acc0| = |bias| < 2^30 and the products sum
 * below 2^30 (nl_conv_check).  A tile is P pixels x NV blocks of 8
 * channels, P * NV accumulators in ymm registers: (8 x 8) and (5 x 16),
 * at most 10 + 2 + 2 of the 16 registers.
 *
 * Requantization (THE rounding rule, netlib.h), 8 lanes at a time.
 * x = acc + bias, |x| < 2^31; 0 <= m < 2^31; 0 <= s <= 62.  vpmuldq gives
 * v = x * m exactly in 64 bits (even lanes directly, odd lanes after a
 * 32-bit right shift of every 64-bit lane), |v| < 2^62.  AVX2 has no
 * 64-bit arithmetic shift, so with r = 2^(s-1) (0 for s = 0):
 *     u = v + r + 2^62          0 < u < 2^62 + 2^61 + 2^62 < 2^64,
 * so u, computed modulo 2^64 by vpaddq, is exact as an unsigned number;
 * the logical shift vpsrlvq gives floor(u / 2^s) = floor((v + r) / 2^s)
 * + 2^(62 - s), because 2^62 is a multiple of 2^s (s <= 62); subtracting
 * 2^(62 - s) leaves floor((v + r) / 2^s), the arithmetic shift of the
 * reference, in (-2^62, 2^62).  The clamp to [lo, hi] uses the signed
 * 64-bit compare vpcmpgtq; the result fits 32 bits and the even/odd
 * halves are merged back (vpblendd).  Stores narrow with vpackssdw /
 * vpackuswb / vpacksswb, which cannot saturate on values in [lo, hi].
 */
#include <assert.h>
#include <immintrin.h>
#include <limits.h>
#include <string.h>

#include "netlib/conv_common.h"
#include "netlib/x86/conv_x86.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
/* Full unrolling of the loops over a tile's accumulators (constant trip
 * counts after inlining), so that every accumulator is a register. */
#if defined(__clang__)
#define UNROLL _Pragma("clang loop unroll(full)")
#else
#define UNROLL _Pragma("GCC unroll 32")
#endif

ALWAYS_INLINE int32_t load32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

ALWAYS_INLINE __m256i load256(const void *p)
{
    return _mm256_load_si256((const __m256i *)p);
}

ALWAYS_INLINE __m256i clamp64(__m256i v, __m256i lo, __m256i hi)
{
    v = _mm256_blendv_epi8(v, lo, _mm256_cmpgt_epi64(lo, v));
    return _mm256_blendv_epi8(v, hi, _mm256_cmpgt_epi64(v, hi));
}

/* Requantization constants of one block of 8 channels (even, odd). */
typedef struct rq8 {
    __m256i me, mo, ae, ao, se, so, ue, uo;
} rq8;

ALWAYS_INLINE rq8 rq8_load(const nl_x86_conv *c, int blk)
{
    const int64_t *m = c->mul + blk * 8, *a = c->add + blk * 8;
    const int64_t *s = c->shr + blk * 8, *u = c->sub + blk * 8;
    rq8 q = { load256(m), load256(m + 4), load256(a), load256(a + 4),
              load256(s), load256(s + 4), load256(u), load256(u + 4) };
    return q;
}

/* 8 accumulators -> 8 int32 in [lo, hi]. */
ALWAYS_INLINE __m256i requant8(const rq8 *q, __m256i x, __m256i lo, __m256i hi)
{
    __m256i pe = _mm256_mul_epi32(x, q->me);
    __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), q->mo);
    pe = _mm256_srlv_epi64(_mm256_add_epi64(pe, q->ae), q->se);
    po = _mm256_srlv_epi64(_mm256_add_epi64(po, q->ao), q->so);
    pe = clamp64(_mm256_sub_epi64(pe, q->ue), lo, hi);
    po = clamp64(_mm256_sub_epi64(po, q->uo), lo, hi);
    return _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
}

/* Stores the first n (1..8) lanes of v as type t. */
ALWAYS_INLINE void store8(uint8_t *p, nl_type t, int n, __m256i v)
{
    _Alignas(32) uint8_t tmp[32];
    __m128i v16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    switch (t) {
    case NL_U8:
    case NL_S8: {
        __m128i b = t == NL_U8 ? _mm_packus_epi16(v16, v16) : _mm_packs_epi16(v16, v16);
        if (n == 8) {
            _mm_storel_epi64((__m128i *)p, b);
            return;
        }
        _mm_store_si128((__m128i *)tmp, b);
        memcpy(p, tmp, (size_t)n);
        return;
    }
    case NL_S16:
        if (n == 8) {
            _mm_storeu_si128((__m128i *)p, v16);
            return;
        }
        _mm_store_si128((__m128i *)tmp, v16);
        memcpy(p, tmp, (size_t)n * 2);
        return;
    default:
        if (n == 8) {
            _mm256_storeu_si256((__m256i *)p, v);
            return;
        }
        _mm256_store_si256((__m256i *)tmp, v);
        memcpy(p, tmp, (size_t)n * 4);
        return;
    }
}

/* One tile: P pixels (npix stored) x NV blocks of 8 channels from b0;
 * arguments as in conv_avx512.c. */
ALWAYS_INLINE void tile(const int P, const int NV, const nl_x86_conv *c,
                        const uint8_t *const *rows, ptrdiff_t ps, const uint8_t *w, int b0,
                        uint8_t *out, int npix)
{
    __m256i acc[16];
    UNROLL
    for (int j = 0; j < NV; j++) {
        __m256i a0 = load256(c->acc0 + (b0 + j) * 8);
        UNROLL
        for (int p = 0; p < P; p++)
            acc[p * NV + j] = a0;
    }
    const int G = c->groups;
    for (int ky = 0; ky < c->k; ky++) {
        const uint8_t *r = rows[ky];
        const uint8_t *wg = w + (size_t)ky * (size_t)G * (size_t)(NV * 32);
        for (int g = 0; g < G; g++, r += 4, wg += NV * 32) {
            __m256i wv[2];
            UNROLL
            for (int j = 0; j < NV; j++)
                wv[j] = load256(wg + j * 32);
            UNROLL
            for (int p = 0; p < P; p++) {
                __m256i x = _mm256_set1_epi32(load32(r + p * ps));
                UNROLL
                for (int j = 0; j < NV; j++)
                    acc[p * NV + j] = _mm256_add_epi32(acc[p * NV + j],
                                                       _mm256_madd_epi16(x, wv[j]));
            }
        }
    }
    /* The epilogue loops over pixels with a run-time bound (npix): it works
     * on a copy, so that acc is only ever indexed by constants and stays in
     * registers through the loop above. */
    __m256i res[16];
    UNROLL
    for (int i = 0; i < P * NV; i++)
        res[i] = acc[i];
    const __m256i lo = _mm256_set1_epi64x(c->lo), hi = _mm256_set1_epi64x(c->hi);
    const int tail = c->cout - (c->nblk - 1) * 8; /* 1..8 channels in the last block */
    const ptrdiff_t opx = (ptrdiff_t)c->cout * c->oes;
    for (int j = 0; j < NV; j++) {
        const int blk = b0 + j;
        const int n = blk == c->nblk - 1 ? tail : 8;
        const rq8 q = rq8_load(c, blk);
        uint8_t *o = out + (ptrdiff_t)blk * 8 * c->oes;
        for (int p = 0; p < P; p++) {
            if (p >= npix)
                break;
            store8(o + p * opx, c->out_type, n, requant8(&q, res[p * NV + j], lo, hi));
        }
    }
}

typedef void (*tile_fn)(const nl_x86_conv *c, const uint8_t *const *rows, ptrdiff_t ps,
                        const uint8_t *w, int b0, uint8_t *out, int npix);

static void nl_conv_tile_s16s16_8x8_avx2(const nl_x86_conv *c, const uint8_t *const *rows,
                                         ptrdiff_t ps, const uint8_t *w, int b0, uint8_t *out,
                                         int npix)
{
    tile(8, 1, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_s16s16_5x16_avx2(const nl_x86_conv *c, const uint8_t *const *rows,
                                          ptrdiff_t ps, const uint8_t *w, int b0, uint8_t *out,
                                          int npix)
{
    tile(5, 2, c, rows, ps, w, b0, out, npix);
}

static const tile_fn tiles[3] = {
    NULL, nl_conv_tile_s16s16_8x8_avx2, nl_conv_tile_s16s16_5x16_avx2,
};
static const nl_x86_tiling tiling = { 8, 2, { 0, 8, 5, 0, 0 }, 1 };

static void cvt_u8_s16(uint8_t *dst, const void *src, size_t n)
{
    const uint8_t *s = src;
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + 2 * i),
                            _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < n; i++) {
        int16_t v = s[i];
        memcpy(dst + 2 * i, &v, 2);
    }
}

static void cvt_s8_s16(uint8_t *dst, const void *src, size_t n)
{
    const int8_t *s = src;
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + 2 * i),
                            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < n; i++) {
        int16_t v = s[i];
        memcpy(dst + 2 * i, &v, 2);
    }
}

/* The driver, as in conv_avx512.c. */
static void conv_run(const nl_conv_plan *plan, const nl_tensor *src, nl_tensor *dst, int y0,
                     int y1)
{
    const nl_x86_conv *c = plan->priv;
    _Alignas(64) uint8_t stage[NL_X86_STAGE_BYTES];
    const nl_x86_cvt_fn cvt = c->stage == NL_X86_STAGE_U8_TO_S16 ? cvt_u8_s16
                            : c->stage == NL_X86_STAGE_S8_TO_S16 ? cvt_s8_s16 : NULL;
    const int k = c->k, s = c->stride, pad = k / 2;
    /* Row slots: k = 1 has one of NL_X86_ROW_BYTES(1), k = 3 three. */
    uint8_t *const ring[3] = { stage, stage + NL_X86_ROW_BYTES(3),
                               stage + 2 * NL_X86_ROW_BYTES(3) };
    const ptrdiff_t px_bytes = (ptrdiff_t)c->cin * c->es, ps = s * px_bytes;
    const ptrdiff_t opx = (ptrdiff_t)c->cout * c->oes;
    const size_t w_tile = (size_t)k * (size_t)c->groups * 32;
    for (int xa = 0; xa < dst->w; xa += c->chunk) {
        const int n = dst->w - xa < c->chunk ? dst->w - xa : c->chunk;
        const int n_in = (n - 1) * s + k;
        const int n_read = (n + c->pix_max - 2) * s + k;
        /* The pack's chunk guarantees it (SIMD loads are invisible to ASan). */
        assert((size_t)(n_read * px_bytes + 4) <= (size_t)NL_X86_ROW_BYTES(k));
        for (int r = 0; r < k; r++)
            memset(ring[r] + n_in * px_bytes, 0, (size_t)((n_read - n_in) * px_bytes + 4));
        int held[3] = { INT_MIN, INT_MIN, INT_MIN };
        for (int y = y0; y < y1; y++) {
            const uint8_t *rows[3];
            for (int ky = 0; ky < k; ky++) {
                int iy = y * s - pad + ky;
                int slot = k == 1 ? 0 : (iy + 3) % 3; /* iy >= -1; k rows: distinct slots */
                if (held[slot] != iy) {
                    nl_x86_stage_row(c, src, iy, xa * s - pad, n_in, ring[slot], cvt);
                    held[slot] = iy;
                }
                rows[ky] = ring[slot];
            }
            uint8_t *orow = (uint8_t *)dst->data +
                            ((ptrdiff_t)y * dst->stride + (ptrdiff_t)xa * c->cout) * c->oes;
            for (int b0 = 0; b0 < c->nblk; b0 += c->nv) {
                const int nvt = c->nblk - b0 < c->nv ? c->nblk - b0 : c->nv;
                const int P = c->pix[nvt];
                const uint8_t *wt = c->w + (size_t)b0 * w_tile;
                for (int x = 0; x < n; x += P) {
                    const uint8_t *rp[3] = { rows[0] + x * ps, rows[k > 1] + x * ps,
                                             rows[k > 1 ? 2 : 0] + x * ps };
                    tiles[nvt](c, rp, ps, wt, b0, orow + x * opx, n - x < P ? n - x : P);
                }
            }
        }
    }
}

static int pack_u8(nl_conv_plan *p)
{
    return nl_x86_conv_pack(p, &tiling, NL_X86_STAGE_U8_TO_S16);
}

static int pack_s8(nl_conv_plan *p)
{
    return nl_x86_conv_pack(p, &tiling, NL_X86_STAGE_S8_TO_S16);
}

static int pack_s16(nl_conv_plan *p)
{
    return nl_x86_conv_pack(p, &tiling, NL_X86_STAGE_COPY);
}

void nl_dsp_init_x86_avx2(nl_dsp *d)
{
    static const nl_conv_kernel k1[NL_DSP_NIN] = {
        [NL_U8] = { "nl_conv1x1_u8s8_avx2", pack_u8, conv_run },
        [NL_S8] = { "nl_conv1x1_s8s8_avx2", pack_s8, conv_run },
        [NL_S16] = { "nl_conv1x1_s16s8_avx2", pack_s16, conv_run },
    };
    static const nl_conv_kernel k3[NL_DSP_NIN] = {
        [NL_U8] = { "nl_conv3x3_u8s8_avx2", pack_u8, conv_run },
        [NL_S8] = { "nl_conv3x3_s8s8_avx2", pack_s8, conv_run },
        [NL_S16] = { "nl_conv3x3_s16s8_avx2", pack_s16, conv_run },
    };
    nl_conv_install(d, k1, k3);
}
