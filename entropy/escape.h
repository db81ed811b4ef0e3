/*
 * Signed values coded with a static table plus an escape: the latent
 * symbols of the learned codec.
 *
 * A table for bound K (0 <= K <= RC_ESC_K_MAX) has n = 2K + 2 symbols:
 * symbol v + K for a value v in [-K, K], and the escape symbol 2K + 1.  A
 * value with |v| > K is the escape symbol, then with bypass bits
 *   - the sign: 1 bit, 1 = negative;
 *   - m = |v| - K - 1 >= 0 in Exp-Golomb order 0: with x = m + 1 and
 *     L = floor(log2 x), L zero bits and a one bit (one 1-bit call each),
 *     then the low L bits of x (one rc_enc_bits32 call).
 * L is at most RC_ESC_PREFIX_MAX (24), so |v| <= K + 2^25 - 1, which covers
 * every value up to +-2^23 (and beyond) for any K; a decoder that sees a
 * 25th zero reports a corrupt stream instead of reading on.
 *
 * Cost of an escape: -log2 p(escape) + 2 + 2 * L bits.
 */
#ifndef NEUVC_ENTROPY_ESCAPE_H
#define NEUVC_ENTROPY_ESCAPE_H

#include <stdint.h>

#include "entropy/rangecoder.h"

#define RC_ESC_K_MAX ((RC_MAX_SYMBOLS - 2) / 2)   /* 127: n = 2K + 2 <= 256 */
#define RC_ESC_PREFIX_MAX 24                        /* zeros before the one */

/* Number of symbols of a table with bound k. */
static inline int rc_esc_nsyms(int k)
{
    return 2 * k + 2;
}

/* Largest |v| codable with bound k: k + 2^(RC_ESC_PREFIX_MAX + 1) - 1. */
int64_t rc_esc_max_abs(int k);

/* Codes v with the table cdf[2k + 2].  Returns 0; NEUVC_ERR(EINVAL) for a
 * k outside [0, RC_ESC_K_MAX]; NEUVC_ERR(ERANGE) for |v| >
 * rc_esc_max_abs(k).  On failure nothing is coded and the error is also
 * made sticky in e (rc_enc_finish returns it). */
static inline int rc_enc_value(rc_enc *e, const uint16_t *cdf, int k, int32_t v);

/* What rc_enc_value spends on v, in 1/256 bit (rc_cost_q8 of the symbol,
 * plus 256 per bypass bit); for rate estimates.  k in [0, RC_ESC_K_MAX],
 * |v| <= rc_esc_max_abs(k) (larger |v| are priced as the largest). */
uint32_t rc_esc_cost_q8(const uint16_t *cdf, int k, int32_t v);

/* Decodes a value coded by rc_enc_value into *v.  The symbol search starts
 * at the centre (v = 0).  Returns 0, or NEUVC_ERR_INVALIDDATA (and *v = 0,
 * the decoder marked corrupt) for an Exp-Golomb prefix longer than
 * RC_ESC_PREFIX_MAX; NEUVC_ERR(EINVAL) for a bad k.  Overreads are not
 * checked here: call rc_dec_error() at the end of the sub-stream. */
static inline int rc_dec_value(rc_dec *d, const uint16_t *cdf, int k, int32_t *v);

/* Inline: the table's symbol (the common case of every latent); the
 * rest out of line (entropy/escape.c), called only for a bad k or |v| > k
 * (encoder), a bad k or the escape symbol already decoded (decoder). */
int rc_enc_value_escape(rc_enc *e, const uint16_t *cdf, int k, int32_t v);
int rc_dec_value_escape(rc_dec *d, int k, int32_t *v);

static inline int rc_enc_value(rc_enc *e, const uint16_t *cdf, int k, int32_t v)
{
    if ((unsigned)k <= RC_ESC_K_MAX && v >= -k && v <= k) {
        rc_enc_symbol(e, cdf, rc_esc_nsyms(k), v + k);
        return 0;
    }
    return rc_enc_value_escape(e, cdf, k, v);
}

static inline int rc_dec_value(rc_dec *d, const uint16_t *cdf, int k, int32_t *v)
{
    if ((unsigned)k > RC_ESC_K_MAX)
        return rc_dec_value_escape(d, k, v);
    const int s = rc_dec_symbol_from(d, cdf, rc_esc_nsyms(k), k);
    if (s <= 2 * k) {
        *v = s - k;
        return 0;
    }
    return rc_dec_value_escape(d, k, v);
}

#endif
