/*
 * Escape-coded signed values (entropy/escape.h).
 */
#include "entropy/escape.h"

#include "entropy/cdf.h"
#include "neuvc/neuvc.h"

int64_t rc_esc_max_abs(int k)
{
    return (int64_t)k + ((int64_t)1 << (RC_ESC_PREFIX_MAX + 1)) - 1;
}

int rc_enc_value_escape(rc_enc *e, const uint16_t *cdf, int k, int32_t v)
{
    int64_t a = v < 0 ? -(int64_t)v : (int64_t)v;
    uint32_t x;
    int len;

    if (k < 0 || k > RC_ESC_K_MAX) {
        e->err = NEUVC_ERR(EINVAL);
        return e->err;
    }
    if (a > rc_esc_max_abs(k)) {
        e->err = NEUVC_ERR(ERANGE);
        return e->err;
    }
    rc_enc_symbol(e, cdf, rc_esc_nsyms(k), 2 * k + 1);
    rc_enc_bits(e, v < 0, 1);
    /* x = m + 1 in [1, 2^25 - 1]: len = floor(log2 x) in [0, 24]. */
    x = (uint32_t)(a - k);
    len = 31 - __builtin_clz(x);
    for (int i = 0; i < len; i++)
        rc_enc_bits(e, 0, 1);
    rc_enc_bits(e, 1, 1);
    rc_enc_bits32(e, x, len);
    return 0;
}

uint32_t rc_esc_cost_q8(const uint16_t *cdf, int k, int32_t v)
{
    int64_t a = v < 0 ? -(int64_t)v : (int64_t)v;
    int len;

    if (a <= k)
        return rc_cdf_cost_q8(cdf, (int)(v + k));
    if (a > rc_esc_max_abs(k))
        a = rc_esc_max_abs(k);
    len = 31 - __builtin_clz((uint32_t)(a - k));
    /* sign, len zeros, a one, len suffix bits */
    return rc_cdf_cost_q8(cdf, 2 * k + 1) + 256u * (uint32_t)(2 + 2 * len);
}

/* After the escape symbol (or for a bad k): the sign and the Exp-Golomb
 * code of |v| - k - 1. */
int rc_dec_value_escape(rc_dec *d, int k, int32_t *v)
{
    int neg, len;
    uint32_t x;

    *v = 0;
    if (k < 0 || k > RC_ESC_K_MAX)
        return NEUVC_ERR(EINVAL);
    neg = (int)rc_dec_bits(d, 1);
    len = 0;
    while (!rc_dec_bits(d, 1)) {
        if (len == RC_ESC_PREFIX_MAX) {
            rc_dec_set_corrupt(d);
            return NEUVC_ERR_INVALIDDATA;
        }
        len++;
    }
    x = (1u << len) | rc_dec_bits32(d, len);
    /* |v| = k + x <= 127 + 2^25 - 1: fits in int32. */
    *v = neg ? -(k + (int32_t)x) : k + (int32_t)x;
    return 0;
}
