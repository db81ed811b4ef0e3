/*
 * Convolutions with AVX-512 VNNI (F, BW, VL, VNNI): 1x1 and 3x3, stride 1
 * and 2, u8 / s8 / s16 input, any output type.  Layout, staging and packed
 * weights: conv_x86.h.
 *
 * Inner product.  A tile is P output pixels x NV blocks of 16 output
 * channels, P * NV <= 24 accumulators in zmm registers (plus NV weight
 * vectors and one broadcast: <= 29 of the 32).  Per 4-byte group of the
 * staged input: NV weight loads, P broadcasts, P * NV dot products:
 *   u8 / s8 input: vpdpbusd, 4 products u8 x s8 per 32-bit lane (the s8
 *     input staged as x + 128, its -128 * sum(w) folded into acc0);
 *   s16 input: vpdpwssd, 2 products s16 x s16 (weights widened to s16).
 * Neither saturates: both add to the accumulator modulo 2^32.  For u8 and
 * s16 input every partial sum stays below 2^31 in magnitude (|acc0| =
 * |bias| < 2^30 and the taps sum below 2^30 by nl_conv_check), so nothing
 * wraps.  For s8 staged as u8 the running sum may pass 2^31 (it is
 * acc0 + sum (x + 128) w with |acc0| < 2^30 + 2^29); the addition is
 * modulo 2^32 and the final value, acc + bias of the reference, lies in
 * (-2^31, 2^31), so the wrapped result is that value exactly.
 *
 * Requantization (THE rounding rule, netlib.h), 16 lanes at a time:
 *   x = acc + bias, |x| < 2^31 (above), 0 <= m < 2^31, 0 <= s <= 62;
 *   vpmuldq multiplies the low signed 32 bits of each 64-bit lane: the
 *   even channels of x directly, the odd ones after a 32-bit right shift
 *   of every 64-bit lane.  |x * m| < 2^62; + 2^(s-1) <= 2^61 keeps it
 *   below 2^63; vpsravq is the arithmetic (flooring) shift; vpmaxsq /
 *   vpminsq clamp to [lo, hi] in 64 bits, after which the value fits 32
 *   bits and the even/odd halves are merged back (vpblendmd).  Exactly
 *   the reference's int64 arithmetic, so the result is identical.
 * Stores narrow with vpmov[d]b / vpmov[d]w (truncation: the value already
 * lies in [lo, hi], inside the output type), masked for the last block
 * of channels and never past the row's last pixel.
 *
 * Up to 8 output channels at stride 1 (the full-resolution 16 -> 6
 * layers), 16-channel lanes would be mostly idle: the "narrow" form below
 * puts 16 pixels in the lanes instead (same arithmetic, other layout).
 */
#include <assert.h>
#include <immintrin.h>
#include <limits.h>
#include <string.h>

#include "netlib/conv_common.h"
#include "netlib/x86/conv_x86.h"
#include "netlib/x86/rq_avx512.h"

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

/* One tile: P pixels (npix of them stored) x NV blocks from block b0.
 * rows[ky] points at the tile's first pixel in the staged row of kernel
 * row ky, ps bytes between the tile's pixels; w at the tile's weights;
 * out at the tile's first output pixel, channel 0. */
ALWAYS_INLINE void tile(const int P, const int NV, const int s16, const nl_x86_conv *c,
                        const uint8_t *const *rows, ptrdiff_t ps, const uint8_t *w, int b0,
                        uint8_t *out, int npix)
{
    __m512i acc[NL_X86_MAX_PIX];
    UNROLL
    for (int j = 0; j < NV; j++) {
        __m512i a0 = _mm512_load_si512(c->acc0 + (b0 + j) * 16);
        UNROLL
        for (int p = 0; p < P; p++)
            acc[p * NV + j] = a0;
    }
    const int G = c->groups;
    for (int ky = 0; ky < c->k; ky++) {
        const uint8_t *r = rows[ky];
        const uint8_t *wg = w + (size_t)ky * (size_t)G * (size_t)(NV * 64);
        for (int g = 0; g < G; g++, r += 4, wg += NV * 64) {
            __m512i wv[NL_X86_MAX_NV];
            UNROLL
            for (int j = 0; j < NV; j++)
                wv[j] = _mm512_load_si512(wg + j * 64);
            UNROLL
            for (int p = 0; p < P; p++) {
                __m512i x = _mm512_set1_epi32(load32(r + p * ps));
                UNROLL
                for (int j = 0; j < NV; j++)
                    acc[p * NV + j] = s16 ? _mm512_dpwssd_epi32(acc[p * NV + j], x, wv[j])
                                          : _mm512_dpbusd_epi32(acc[p * NV + j], x, wv[j]);
            }
        }
    }
    /* The epilogue loops over pixels with a run-time bound (npix): it works
     * on a copy, so that acc is only ever indexed by constants and stays in
     * registers through the loop above. */
    __m512i res[NL_X86_MAX_PIX];
    UNROLL
    for (int i = 0; i < P * NV; i++)
        res[i] = acc[i];
    const __m512i lo = _mm512_set1_epi64(c->lo), hi = _mm512_set1_epi64(c->hi);
    const int tail = c->cout - (c->nblk - 1) * 16; /* 1..16 channels in the last block */
    const ptrdiff_t opx = (ptrdiff_t)c->cout * c->oes;
    for (int j = 0; j < NV; j++) {
        const int blk = b0 + j;
        const __mmask16 k = blk == c->nblk - 1 ? (__mmask16)((1u << tail) - 1)
                                               : (__mmask16)0xFFFF;
        const rq16 q = rq16_load(c, blk);
        uint8_t *o = out + (ptrdiff_t)blk * 16 * c->oes;
        for (int p = 0; p < P; p++) {
            if (p >= npix)
                break;
            store16(o + p * opx, c->out_type, k, requant16(&q, res[p * NV + j], lo, hi));
        }
    }
}

typedef void (*tile_fn)(const nl_x86_conv *c, const uint8_t *const *rows, ptrdiff_t ps,
                        const uint8_t *w, int b0, uint8_t *out, int npix);

/* The tile shapes, pixels x channels.  Names: type, op, tile, ISA. */
static void nl_conv_tile_u8s8_16x16_avx512vnni(const nl_x86_conv *c, const uint8_t *const *rows,
                                               ptrdiff_t ps, const uint8_t *w, int b0,
                                               uint8_t *out, int npix)
{
    tile(16, 1, 0, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_u8s8_12x32_avx512vnni(const nl_x86_conv *c, const uint8_t *const *rows,
                                               ptrdiff_t ps, const uint8_t *w, int b0,
                                               uint8_t *out, int npix)
{
    tile(12, 2, 0, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_u8s8_8x48_avx512vnni(const nl_x86_conv *c, const uint8_t *const *rows,
                                              ptrdiff_t ps, const uint8_t *w, int b0,
                                              uint8_t *out, int npix)
{
    tile(8, 3, 0, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_u8s8_6x64_avx512vnni(const nl_x86_conv *c, const uint8_t *const *rows,
                                              ptrdiff_t ps, const uint8_t *w, int b0,
                                              uint8_t *out, int npix)
{
    tile(6, 4, 0, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_s16s16_16x16_avx512vnni(const nl_x86_conv *c,
                                                 const uint8_t *const *rows, ptrdiff_t ps,
                                                 const uint8_t *w, int b0, uint8_t *out,
                                                 int npix)
{
    tile(16, 1, 1, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_s16s16_12x32_avx512vnni(const nl_x86_conv *c,
                                                 const uint8_t *const *rows, ptrdiff_t ps,
                                                 const uint8_t *w, int b0, uint8_t *out,
                                                 int npix)
{
    tile(12, 2, 1, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_s16s16_8x48_avx512vnni(const nl_x86_conv *c,
                                                const uint8_t *const *rows, ptrdiff_t ps,
                                                const uint8_t *w, int b0, uint8_t *out,
                                                int npix)
{
    tile(8, 3, 1, c, rows, ps, w, b0, out, npix);
}

static void nl_conv_tile_s16s16_6x64_avx512vnni(const nl_x86_conv *c,
                                                const uint8_t *const *rows, ptrdiff_t ps,
                                                const uint8_t *w, int b0, uint8_t *out,
                                                int npix)
{
    tile(6, 4, 1, c, rows, ps, w, b0, out, npix);
}

/* Indexed by blocks per tile; pixels per tile in tiling.pix. */
static const tile_fn tiles_u8[NL_X86_MAX_NV + 1] = {
    NULL, nl_conv_tile_u8s8_16x16_avx512vnni, nl_conv_tile_u8s8_12x32_avx512vnni,
    nl_conv_tile_u8s8_8x48_avx512vnni, nl_conv_tile_u8s8_6x64_avx512vnni,
};
static const tile_fn tiles_s16[NL_X86_MAX_NV + 1] = {
    NULL, nl_conv_tile_s16s16_16x16_avx512vnni, nl_conv_tile_s16s16_12x32_avx512vnni,
    nl_conv_tile_s16s16_8x48_avx512vnni, nl_conv_tile_s16s16_6x64_avx512vnni,
};
static const nl_x86_tiling tiling = { 16, 4, { 0, 16, 12, 8, 6 }, 0 };

/* s8 -> u8 staging: x ^ 0x80 == (uint8_t)(x + 128). */
static void cvt_s8_u8(uint8_t *dst, const void *src, size_t n)
{
    const uint8_t *s = src;
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        _mm512_storeu_si512(dst + i, _mm512_xor_si512(_mm512_loadu_si512(s + i), bias));
    if (i < n) {
        __mmask64 k = ((uint64_t)1 << (n - i)) - 1; /* n - i < 64 */
        _mm512_mask_storeu_epi8(dst + i, k,
                                _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, s + i), bias));
    }
}

/* The driver: x-chunks, a ring of k staged rows, tiles of channels, tiles
 * of pixels (channel tiles outer so a tile's weights stay in L1 across
 * the row when they fit). */
static void conv_run(const nl_conv_plan *plan, const nl_tensor *src, nl_tensor *dst, int y0,
                     int y1)
{
    const nl_x86_conv *c = plan->priv;
    _Alignas(64) uint8_t stage[NL_X86_STAGE_BYTES];
    const tile_fn *tiles = c->es == 2 ? tiles_s16 : tiles_u8;
    const nl_x86_cvt_fn cvt = c->stage == NL_X86_STAGE_S8_TO_U8 ? cvt_s8_u8 : NULL;
    const int k = c->k, s = c->stride, pad = k / 2;
    /* Row slots: k = 1 has one of NL_X86_ROW_BYTES(1), k = 3 three. */
    uint8_t *const ring[3] = { stage, stage + NL_X86_ROW_BYTES(3),
                               stage + 2 * NL_X86_ROW_BYTES(3) };
    const ptrdiff_t px_bytes = (ptrdiff_t)c->cin * c->es, ps = s * px_bytes;
    const ptrdiff_t opx = (ptrdiff_t)c->cout * c->oes;
    const size_t w_tile = (size_t)k * (size_t)c->groups * 64;
    for (int xa = 0; xa < dst->w; xa += c->chunk) {
        const int n = dst->w - xa < c->chunk ? dst->w - xa : c->chunk;
        /* Pixels staged from the input, then slack the tiles may read. */
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

/* ------------------------------------------------------------ narrow
 * Few output channels (conv_x86.h, nl_x86_conv_pack_narrow): the lanes
 * hold 16 neighbouring pixels of one output channel, the weights are
 * broadcast.  Same dot products and requantization as above (the proofs
 * do not depend on which lanes hold what), 16 pixels x nc channels per
 * pixel vector, then a transposition to HWC with vpermt2w. */

/* Staged row (contiguous, npx pixels of Q dwords, npx a multiple of 16,
 * readable to the end) -> Q planes of npx dwords, plane_bytes apart. */
static void planes_from_row(const nl_x86_conv *c, const uint8_t *row, int npx, uint8_t *planes,
                            size_t plane_bytes)
{
    const int Q = c->q;
    for (int j = 0; j < npx; j += 16) {
        __m512i z[9];
        for (int r = 0; r < Q; r++)
            z[r] = _mm512_loadu_si512(row + ((size_t)j * Q + (size_t)r * 16) * 4);
        z[Q] = _mm512_setzero_si512();
        for (int q = 0; q < Q; q++) {
            __m512i v = _mm512_setzero_si512();
            for (int sp = 0; 2 * sp < Q; sp++) {
                __m512i idx = _mm512_load_si512(c->tidx + (q * 4 + sp) * 16);
                __m512i g = _mm512_permutex2var_epi32(z[2 * sp], idx, z[2 * sp + 1]);
                v = _mm512_mask_mov_epi32(v, c->tmask[q * 4 + sp], g);
            }
            _mm512_storeu_si512(planes + (size_t)q * plane_bytes + (size_t)j * 4, v);
        }
    }
}

/* One tile: V pixel vectors (16 V pixels from x0, npix of them stored)
 * x C channels.  planes[ky]: plane 0 of kernel row ky, plane_bytes
 * between planes. */
ALWAYS_INLINE void tile_narrow(const int C, const int V, const int s16, const nl_x86_conv *c,
                               const uint8_t *const *planes, size_t plane_bytes, int x0,
                               uint8_t *out, int npix)
{
    __m512i acc[24];
    UNROLL
    for (int o = 0; o < C; o++) {
        __m512i a0 = _mm512_set1_epi32(c->acc0[o]);
        UNROLL
        for (int v = 0; v < V; v++)
            acc[o * V + v] = a0;
    }
    const int k = c->k, Q = c->q;
    const uint8_t *w = c->w;
    for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++) {
            const uint8_t *src = planes[ky] + (size_t)(x0 + kx) * 4;
            for (int q = 0; q < Q; q++, src += plane_bytes, w += C * 4) {
                __m512i x[4];
                UNROLL
                for (int v = 0; v < V; v++)
                    x[v] = _mm512_loadu_si512(src + v * 64);
                UNROLL
                for (int o = 0; o < C; o++) {
                    __m512i wo = _mm512_set1_epi32(load32(w + o * 4));
                    UNROLL
                    for (int v = 0; v < V; v++)
                        acc[o * V + v] = s16 ? _mm512_dpwssd_epi32(acc[o * V + v], x[v], wo)
                                             : _mm512_dpbusd_epi32(acc[o * V + v], x[v], wo);
                }
            }
        }
    __m512i res[24];
    UNROLL
    for (int i = 0; i < C * V; i++)
        res[i] = acc[i];
    const __m512i lo = _mm512_set1_epi64(c->lo), hi = _mm512_set1_epi64(c->hi);
    const int cout = c->cout;
    for (int v = 0; v < V; v++) {
        const int np = npix - v * 16 < 16 ? npix - v * 16 : 16;
        if (np <= 0)
            break;
        /* Requantized channels as words (|value| <= 4096 or a byte type:
         * vpmovdw is exact), in pairs: S[s] = channels 2s, 2s + 1. */
        __m512i S[4];
        for (int sp = 0; sp < C / 2; sp++) {
            __m256i h[2];
            for (int b = 0; b < 2; b++) {
                const int o = 2 * sp + b, pos = (o % 2) * 8 + o / 2;
                const __m512i m = _mm512_set1_epi64(c->mul[pos]);
                const __m512i a = _mm512_set1_epi64(c->add[pos]);
                const __m512i sh = _mm512_set1_epi64(c->shr[pos]);
                const rq16 q = { m, m, a, a, sh, sh };
                h[b] = _mm512_cvtepi32_epi16(requant16(&q, res[o * V + v], lo, hi));
            }
            S[sp] = _mm512_inserti64x4(_mm512_castsi256_si512(h[0]), h[1], 1);
        }
        const int nw = np * cout;
        uint8_t *o = out + (size_t)v * 16 * (size_t)cout * (size_t)c->oes;
        for (int r = 0; r < C / 2 && 32 * r < nw; r++) {
            const __m512i ia = _mm512_load_si512(c->perm + r * 64);
            __m512i wv = _mm512_permutex2var_epi16(S[0], ia, C > 2 ? S[1] : S[0]);
            if (C > 4) {
                const __m512i ib = _mm512_load_si512(c->perm + r * 64 + 32);
                wv = _mm512_mask_mov_epi16(
                    wv, c->perm_mask[r],
                    _mm512_permutex2var_epi16(S[2], ib, C > 6 ? S[3] : S[2]));
            }
            const int n = nw - 32 * r < 32 ? nw - 32 * r : 32;
            const __mmask32 km = n == 32 ? ~(__mmask32)0 : (((__mmask32)1 << n) - 1);
            if (c->out_type == NL_S16)
                _mm512_mask_storeu_epi16(o + r * 64, km, wv);
            else
                _mm512_mask_cvtepi16_storeu_epi8(o + r * 32, km, wv);
        }
    }
}

typedef void (*tile_narrow_fn)(const nl_x86_conv *c, const uint8_t *const *planes,
                               size_t plane_bytes, int x0, uint8_t *out, int npix);

/* Pixels x channels. */
static void nl_conv_tile_u8s8_64x2_avx512vnni(const nl_x86_conv *c, const uint8_t *const *pl,
                                              size_t pb, int x0, uint8_t *out, int npix)
{
    tile_narrow(2, 4, 0, c, pl, pb, x0, out, npix);
}

static void nl_conv_tile_u8s8_64x4_avx512vnni(const nl_x86_conv *c, const uint8_t *const *pl,
                                              size_t pb, int x0, uint8_t *out, int npix)
{
    tile_narrow(4, 4, 0, c, pl, pb, x0, out, npix);
}

static void nl_conv_tile_u8s8_48x6_avx512vnni(const nl_x86_conv *c, const uint8_t *const *pl,
                                              size_t pb, int x0, uint8_t *out, int npix)
{
    tile_narrow(6, 3, 0, c, pl, pb, x0, out, npix);
}

static void nl_conv_tile_u8s8_32x8_avx512vnni(const nl_x86_conv *c, const uint8_t *const *pl,
                                              size_t pb, int x0, uint8_t *out, int npix)
{
    tile_narrow(8, 2, 0, c, pl, pb, x0, out, npix);
}

static void nl_conv_tile_s16s16_64x2_avx512vnni(const nl_x86_conv *c, const uint8_t *const *pl,
                                                size_t pb, int x0, uint8_t *out, int npix)
{
    tile_narrow(2, 4, 1, c, pl, pb, x0, out, npix);
}

static void nl_conv_tile_s16s16_64x4_avx512vnni(const nl_x86_conv *c, const uint8_t *const *pl,
                                                size_t pb, int x0, uint8_t *out, int npix)
{
    tile_narrow(4, 4, 1, c, pl, pb, x0, out, npix);
}

static void nl_conv_tile_s16s16_48x6_avx512vnni(const nl_x86_conv *c, const uint8_t *const *pl,
                                                size_t pb, int x0, uint8_t *out, int npix)
{
    tile_narrow(6, 3, 1, c, pl, pb, x0, out, npix);
}

static void nl_conv_tile_s16s16_32x8_avx512vnni(const nl_x86_conv *c, const uint8_t *const *pl,
                                                size_t pb, int x0, uint8_t *out, int npix)
{
    tile_narrow(8, 2, 1, c, pl, pb, x0, out, npix);
}

/* Indexed by nc / 2 (the pixel counts match nl_x86_conv_pack_narrow). */
static const tile_narrow_fn tiles_narrow_u8[5] = {
    NULL, nl_conv_tile_u8s8_64x2_avx512vnni, nl_conv_tile_u8s8_64x4_avx512vnni,
    nl_conv_tile_u8s8_48x6_avx512vnni, nl_conv_tile_u8s8_32x8_avx512vnni,
};
static const tile_narrow_fn tiles_narrow_s16[5] = {
    NULL, nl_conv_tile_s16s16_64x2_avx512vnni, nl_conv_tile_s16s16_64x4_avx512vnni,
    nl_conv_tile_s16s16_48x6_avx512vnni, nl_conv_tile_s16s16_32x8_avx512vnni,
};

/* The narrow driver: as conv_run, with each staged row turned into planes
 * (stride 1). */
static void conv_run_narrow(const nl_conv_plan *plan, const nl_tensor *src, nl_tensor *dst,
                            int y0, int y1)
{
    const nl_x86_conv *c = plan->priv;
    _Alignas(64) uint8_t stage[NL_X86_STAGE_BYTES];
    const tile_narrow_fn run_tile = (c->es == 2 ? tiles_narrow_s16 : tiles_narrow_u8)[c->nc / 2];
    const nl_x86_cvt_fn cvt = c->stage == NL_X86_STAGE_S8_TO_U8 ? cvt_s8_u8 : NULL;
    const int k = c->k, pad = k / 2;
    const size_t px_bytes = (size_t)c->q * 4;
    const size_t plane_bytes = (size_t)c->plane_len * 4;
    const size_t row_bytes = (size_t)c->plane_len * px_bytes;
    /* The contiguous row, then k slots of Q planes (conv_x86.h). */
    uint8_t *const row = stage;
    uint8_t *const slot_planes[3] = { stage + row_bytes, stage + 2 * row_bytes,
                                      stage + 3 * row_bytes };
    const ptrdiff_t opx = (ptrdiff_t)c->cout * c->oes;
    for (int xa = 0; xa < dst->w; xa += c->chunk) {
        const int n = dst->w - xa < c->chunk ? dst->w - xa : c->chunk;
        const int n_in = n + k - 1;
        /* The last tile reads pixels below (n - 1) / vpix * vpix + vpix +
         * k - 1 of each plane; the planes and the row fit the stage (the
         * pack's chunk and plane_len guarantee both; SIMD loads are
         * invisible to ASan, hence the asserts). */
        assert((n - 1) / c->vpix * c->vpix + c->vpix + k - 1 <= c->plane_len);
        assert((size_t)(k + 1) * row_bytes <= NL_X86_STAGE_BYTES);
        memset(row + n_in * px_bytes, 0, row_bytes - n_in * px_bytes);
        int held[3] = { INT_MIN, INT_MIN, INT_MIN };
        for (int y = y0; y < y1; y++) {
            const uint8_t *planes[3];
            for (int ky = 0; ky < k; ky++) {
                int iy = y - pad + ky;
                int slot = k == 1 ? 0 : (iy + 3) % 3; /* iy >= -1; k rows: distinct slots */
                if (held[slot] != iy) {
                    nl_x86_stage_row(c, src, iy, xa - pad, n_in, row, cvt);
                    planes_from_row(c, row, c->plane_len, slot_planes[slot], plane_bytes);
                    held[slot] = iy;
                }
                planes[ky] = slot_planes[slot];
            }
            uint8_t *orow = (uint8_t *)dst->data +
                            ((ptrdiff_t)y * dst->stride + (ptrdiff_t)xa * c->cout) * c->oes;
            for (int x = 0; x < n; x += c->vpix)
                run_tile(c, planes, plane_bytes, x, orow + x * opx,
                        n - x < c->vpix ? n - x : c->vpix);
        }
    }
}

/* The prepare hooks (one per staged input form): the narrow form where
 * it applies (it then names itself), else the general one. */
static int pack_narrow(nl_conv_plan *p, nl_x86_stage stage, int es)
{
    static const char *const names[2][3] = {
        { "nl_conv1x1_u8s8_narrow_avx512vnni", "nl_conv1x1_s8s8_narrow_avx512vnni",
          "nl_conv1x1_s16s8_narrow_avx512vnni" },
        { "nl_conv3x3_u8s8_narrow_avx512vnni", "nl_conv3x3_s8s8_narrow_avx512vnni",
          "nl_conv3x3_s16s8_narrow_avx512vnni" },
    };
    p->kern.name = names[p->desc.k == 3][p->desc.in_type];
    p->kern.run = conv_run_narrow;
    return nl_x86_conv_pack_narrow(p, stage, es);
}

static int pack_u8(nl_conv_plan *p)
{
    if (nl_x86_conv_narrow_ok(&p->desc, 1))
        return pack_narrow(p, NL_X86_STAGE_COPY, 1);
    return nl_x86_conv_pack(p, &tiling, NL_X86_STAGE_COPY);
}

static int pack_s8(nl_conv_plan *p)
{
    if (nl_x86_conv_narrow_ok(&p->desc, 1))
        return pack_narrow(p, NL_X86_STAGE_S8_TO_U8, 1);
    return nl_x86_conv_pack(p, &tiling, NL_X86_STAGE_S8_TO_U8);
}

static int pack_s16(nl_conv_plan *p)
{
    if (nl_x86_conv_narrow_ok(&p->desc, 2))
        return pack_narrow(p, NL_X86_STAGE_COPY, 2);
    return nl_x86_conv_pack(p, &tiling, NL_X86_STAGE_COPY);
}

/* Entry points, by kernel size and input type (stride and output type
 * are handled inside). */
void nl_dsp_init_x86_avx512(nl_dsp *d)
{
    static const nl_conv_kernel k1[NL_DSP_NIN] = {
        [NL_U8] = { "nl_conv1x1_u8s8_avx512vnni", pack_u8, conv_run },
        [NL_S8] = { "nl_conv1x1_s8s8_avx512vnni", pack_s8, conv_run },
        [NL_S16] = { "nl_conv1x1_s16s8_avx512vnni", pack_s16, conv_run },
    };
    static const nl_conv_kernel k3[NL_DSP_NIN] = {
        [NL_U8] = { "nl_conv3x3_u8s8_avx512vnni", pack_u8, conv_run },
        [NL_S8] = { "nl_conv3x3_s8s8_avx512vnni", pack_s8, conv_run },
        [NL_S16] = { "nl_conv3x3_s16s8_avx512vnni", pack_s16, conv_run },
    };
    nl_conv_install(d, k1, k3);
}
