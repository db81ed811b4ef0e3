/*
 * Table checks, construction and costs (entropy/cdf.h).
 */
#include "entropy/cdf.h"

#include <math.h>

#include "neuvc/neuvc.h"

int rc_cdf_check(const uint16_t *cdf, int n)
{
    if (!cdf || n < 2 || n > RC_MAX_SYMBOLS)
        return NEUVC_ERR_INVALIDDATA;
    if (cdf[0] != 0 || cdf[n] != RC_PROB_ONE)
        return NEUVC_ERR_INVALIDDATA;
    for (int i = 0; i < n; i++)
        if (cdf[i + 1] <= cdf[i])
            return NEUVC_ERR_INVALIDDATA;
    return 0;
}

void rc_cdf_uniform(uint16_t *cdf, int n)
{
    for (int i = 0; i <= n; i++)
        cdf[i] = (uint16_t)(((uint32_t)i << RC_PROB_BITS) / (uint32_t)n);
}

int rc_cdf_from_counts(uint16_t *cdf, const uint32_t *counts, int n)
{
    uint32_t f[RC_MAX_SYMBOLS];
    uint64_t q[RC_MAX_SYMBOLS];
    uint8_t open[RC_MAX_SYMBOLS];   /* 1: may still be raised in step 3 */
    uint64_t total = 0;
    uint32_t sum = 0;

    if (n < 2 || n > RC_MAX_SYMBOLS)
        return NEUVC_ERR(EINVAL);
    for (int i = 0; i < n; i++)
        total += counts[i];
    if (total == 0) {
        rc_cdf_uniform(cdf, n);
        return 0;
    }
    /* counts < 2^32, so counts * 2^15 < 2^47: no overflow. */
    for (int i = 0; i < n; i++) {
        uint64_t scaled = (uint64_t)counts[i] << RC_PROB_BITS;
        f[i] = (uint32_t)(scaled / total);
        q[i] = scaled % total;
        open[i] = f[i] != 0;
        if (!f[i])
            f[i] = 1;
        sum += f[i];
    }
    while (sum < RC_PROB_ONE) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (open[i] && (best < 0 || q[i] > q[best]))
                best = i;
        if (best < 0)
            break;   /* unreachable: the deficit is below the open count */
        f[best]++;
        open[best] = 0;
        sum++;
    }
    while (sum > RC_PROB_ONE) {
        int best = 0;
        for (int i = 1; i < n; i++)
            if (f[i] > f[best])
                best = i;
        f[best]--;   /* f[best] >= 2: sum > 2^15 >= n */
        sum--;
    }
    cdf[0] = 0;
    for (int i = 0; i < n; i++)
        cdf[i + 1] = (uint16_t)(cdf[i] + f[i]);
    return 0;
}

int rc_cdf_from_probs(uint16_t *cdf, const double *p, int n)
{
    uint32_t counts[RC_MAX_SYMBOLS];
    double pmax = 0.0;

    if (n < 2 || n > RC_MAX_SYMBOLS)
        return NEUVC_ERR(EINVAL);
    for (int i = 0; i < n; i++) {
        if (!isfinite(p[i]) || p[i] < 0.0)
            return NEUVC_ERR(EINVAL);
        if (p[i] > pmax)
            pmax = p[i];
    }
    if (pmax == 0.0) {
        rc_cdf_uniform(cdf, n);
        return 0;
    }
    /* p[i] / pmax in [0, 1]: counts in [0, 2^31]. */
    for (int i = 0; i < n; i++)
        counts[i] = (uint32_t)llround(p[i] / pmax * 2147483648.0);
    return rc_cdf_from_counts(cdf, counts, n);
}

uint32_t rc_cost_q8(uint32_t freq)
{
    uint32_t m, lg;
    int e;

    if (freq == 0)
        freq = 1;
    if (freq >= RC_PROB_ONE)
        return 0;
    /* log2(freq) = e + log2(m / 2^15), m / 2^15 in [1, 2). */
    e = 31 - __builtin_clz(freq);
    m = freq << (RC_PROB_BITS - e);
    lg = (uint32_t)e << 8;
    /* Fraction bits by repeated squaring: m^2 >= 2 means the next bit is 1. */
    for (int b = 7; b >= 0; b--) {
        m = (m * m) >> RC_PROB_BITS;
        if (m >= 2u << RC_PROB_BITS) {
            m >>= 1;
            lg |= 1u << b;
        }
    }
    return ((uint32_t)RC_PROB_BITS << 8) - lg;
}
