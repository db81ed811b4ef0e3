/*
 * Adaptive multi-symbol and binary models (entropy/adaptive.h).
 */
#include "entropy/adaptive.h"

#include "entropy/cdf.h"
#include "neuvc/neuvc.h"

#define RC_ADAPT_RATE_BASE 4

int rc_adapt_init(rc_adapt *m, int n)
{
    if (n < 2 || n > RC_ADAPT_MAX_SYMBOLS)
        return NEUVC_ERR(EINVAL);
    rc_cdf_uniform(m->cdf, n);
    m->n = (uint8_t)n;
    m->count = 0;
    return 0;
}

int rc_adapt_init_cdf(rc_adapt *m, const uint16_t *cdf, int n)
{
    if (n < 2 || n > RC_ADAPT_MAX_SYMBOLS || rc_cdf_check(cdf, n) < 0)
        return NEUVC_ERR(EINVAL);
    for (int i = 0; i <= n; i++)
        m->cdf[i] = cdf[i];
    m->n = (uint8_t)n;
    m->count = 0;
    return 0;
}

int rc_adapt_rate(const rc_adapt *m)
{
    return RC_ADAPT_RATE_BASE + (m->n >= 4) + (m->count >= 16) + (m->count >= 32);
}

void rc_adapt_update(rc_adapt *m, int s)
{
    int n = m->n, rate = rc_adapt_rate(m);
    /* T + i - cdf[i] = T - r[i] >= 0, with T = 2^15 - n. */
    uint32_t top = RC_PROB_ONE - (uint32_t)n;

    if ((unsigned)s >= (unsigned)n)
        return;
    for (int i = 1; i < n; i++) {
        uint32_t c = m->cdf[i];
        if (i <= s)
            c -= (c - (uint32_t)i) >> rate;
        else
            c += (top + (uint32_t)i - c) >> rate;
        m->cdf[i] = (uint16_t)c;
    }
    if (m->count < RC_ADAPT_COUNT_MAX)
        m->count++;
}

void rc_enc_adapt(rc_enc *e, rc_adapt *m, int s)
{
    rc_enc_symbol(e, m->cdf, m->n, s);
    rc_adapt_update(m, s);
}

int rc_dec_adapt(rc_dec *d, rc_adapt *m)
{
    int s = rc_dec_symbol(d, m->cdf, m->n);

    rc_adapt_update(m, s);
    return s;
}

void rc_bin_init(rc_bin *m)
{
    m->p0 = RC_PROB_ONE / 2;
    m->count = 0;
}

int rc_bin_init_p0(rc_bin *m, uint32_t p0)
{
    if (p0 < 1 || p0 >= RC_PROB_ONE)
        return NEUVC_ERR(EINVAL);
    m->p0 = (uint16_t)p0;
    m->count = 0;
    return 0;
}

int rc_bin_rate(const rc_bin *m)
{
    return RC_ADAPT_RATE_BASE + (m->count >= 16) + (m->count >= 32);
}

void rc_bin_update(rc_bin *m, int bit)
{
    int rate = rc_bin_rate(m);
    uint32_t p = m->p0;

    /* The n = 2 case of rc_adapt_update: r = p0 - 1 in [0, 2^15 - 2]. */
    if (bit)
        p -= (p - 1) >> rate;
    else
        p += (RC_PROB_ONE - 1 - p) >> rate;
    m->p0 = (uint16_t)p;
    if (m->count < RC_ADAPT_COUNT_MAX)
        m->count++;
}

void rc_enc_bin(rc_enc *e, rc_bin *m, int bit)
{
    bit = bit != 0;
    rc_enc_bool(e, bit, m->p0);
    rc_bin_update(m, bit);
}

int rc_dec_bin(rc_dec *d, rc_bin *m)
{
    int bit = rc_dec_bool(d, m->p0);

    rc_bin_update(m, bit);
    return bit;
}
