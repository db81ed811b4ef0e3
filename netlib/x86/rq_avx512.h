/*
 * AVX-512 requantization of 16 int32 accumulators of 16 output channels,
 * shared by the kernels built with AVX-512 flags (conv_avx512.c,
 * conv_amx.c); include only from those files.  The proof that it is the
 * reference's rounding rule bit for bit is in conv_avx512.c.  Constants:
 * conv_x86.h (mul / add / shr per channel, even/odd order, unbiased).
 */
#ifndef NEUVC_NETLIB_X86_RQ_AVX512_H
#define NEUVC_NETLIB_X86_RQ_AVX512_H

#include <immintrin.h>

#include "netlib/x86/conv_x86.h"

/* Requantization constants of one block of 16 channels (even, odd). */
typedef struct rq16 {
    __m512i me, mo, ae, ao, se, so;
} rq16;

static inline __attribute__((always_inline)) rq16 rq16_load(const nl_x86_conv *c, int blk)
{
    const int64_t *m = c->mul + blk * 16, *a = c->add + blk * 16, *s = c->shr + blk * 16;
    rq16 q = { _mm512_load_si512(m), _mm512_load_si512(m + 8), _mm512_load_si512(a),
               _mm512_load_si512(a + 8), _mm512_load_si512(s), _mm512_load_si512(s + 8) };
    return q;
}

/* 16 accumulators (acc + bias, |x| < 2^31) -> 16 int32 in [lo, hi].  The
 * odd lanes move by vpshufd (odd dwords to the even slots that vpmuldq
 * reads; the results back), not by 64-bit shifts and a blend: fewer
 * operations on the port that 512-bit shifts, multiplies and 64-bit min /
 * max share. */
static inline __attribute__((always_inline)) __m512i requant16(const rq16 *q, __m512i x,
                                                               __m512i lo, __m512i hi)
{
    __m512i pe = _mm512_mul_epi32(x, q->me);
    __m512i po = _mm512_mul_epi32(_mm512_shuffle_epi32(x, (_MM_PERM_ENUM)0xF5), q->mo);
    pe = _mm512_srav_epi64(_mm512_add_epi64(pe, q->ae), q->se);
    po = _mm512_srav_epi64(_mm512_add_epi64(po, q->ao), q->so);
    pe = _mm512_min_epi64(_mm512_max_epi64(pe, lo), hi);
    po = _mm512_min_epi64(_mm512_max_epi64(po, lo), hi);
    return _mm512_mask_shuffle_epi32(pe, 0xAAAA, po, (_MM_PERM_ENUM)0xA0);
}

/* Constants of requant16_hi: as rq16, and the shifts less 32 per lane in
 * the lanes' own order (c->shr32). */
typedef struct rq16h {
    __m512i me, mo, ae, ao, s32;
} rq16h;

static inline __attribute__((always_inline)) rq16h rq16h_load(const nl_x86_conv *c, int blk)
{
    const int64_t *m = c->mul + blk * 16, *a = c->add + blk * 16;
    rq16h q = { _mm512_load_si512(m), _mm512_load_si512(m + 8), _mm512_load_si512(a),
                _mm512_load_si512(a + 8), _mm512_load_si512(c->shr32 + blk * 16) };
    return q;
}

/* requant16 where every shift s is 32 or more: (x * mult + 2^(s-1)) >> s
 * = ((x * mult + 2^(s-1)) >> 32) >> (s - 32) (arithmetic shifts are
 * floor divisions, which compose); |x * mult| < 2^62 and 2^(s-1) <= 2^61
 * (s <= 62) put the first shift's result, the high half of the 64-bit
 * sum, in [-2^30, 2^30 + 2^29]: int32 from there on, shifted by s - 32 <=
 * 30 and clamped in 32-bit lanes (lo32, hi32: lo, hi).  Three 512-bit
 * shift / multiply / min-max operations fewer than requant16. */
static inline __attribute__((always_inline)) __m512i requant16_hi(const rq16h *q, __m512i x,
                                                                  __m512i lo32, __m512i hi32)
{
    __m512i pe = _mm512_add_epi64(_mm512_mul_epi32(x, q->me), q->ae);
    __m512i po = _mm512_add_epi64(
        _mm512_mul_epi32(_mm512_shuffle_epi32(x, (_MM_PERM_ENUM)0xF5), q->mo), q->ao);
    /* High halves: even lanes from pe (moved down), odd lanes from po. */
    __m512i t = _mm512_mask_blend_epi32(0xAAAA, _mm512_shuffle_epi32(pe, (_MM_PERM_ENUM)0xF5), po);
    t = _mm512_srav_epi32(t, q->s32);
    return _mm512_min_epi32(_mm512_max_epi32(t, lo32), hi32);
}

/* Stores the lanes of k, narrowed to t (the values lie in [lo, hi], inside
 * t: truncation is exact). */
static inline __attribute__((always_inline)) void store16(uint8_t *p, nl_type t, __mmask16 k,
                                                          __m512i v)
{
    switch (t) {
    case NL_U8:
    case NL_S8: _mm512_mask_cvtepi32_storeu_epi8(p, k, v); break;
    case NL_S16: _mm512_mask_cvtepi32_storeu_epi16(p, k, v); break;
    default: _mm512_mask_storeu_epi32(p, k, v); break;
    }
}

#endif
