/*
 * Intra latent coding (entropy/latent.h).  The encoder and decoder loops
 * visit the same values in the same order with the same table rows; each
 * decoder loop mirrors the encoder loop of the same name.
 */
#include "entropy/latent.h"

#include <stdio.h>

#include "entropy/cdf.h"
#include "entropy/escape.h"
#include "neuvc/neuvc.h"

_Static_assert(NV_LATENT_MAX == NL_S16_MAX, "latents are the s16 tensors of netlib");

int nv_latent_tables_check(const nv_latent_tables *t, int b_max, const char *what,
                           char *err, size_t errlen)
{
    if (!t || !t->cdf || !t->k || !t->b || t->rows < 1 || b_max < 0 || b_max > NV_LATENT_B_MAX) {
        snprintf(err, errlen, "%s: no tables", what);
        return NEUVC_ERR_INVALIDDATA;
    }
    for (int i = 0; i < t->rows; i++) {
        int k = t->k[i];
        int n = rc_esc_nsyms(k);
        if (k > RC_ESC_K_MAX || n + 1 > t->stride) {
            snprintf(err, errlen, "%s: row %d has K = %d (at most %d, and 2K + 3 <= %d entries)",
                     what, i, k, RC_ESC_K_MAX, t->stride);
            return NEUVC_ERR_INVALIDDATA;
        }
        if (t->b[i] > b_max) {
            snprintf(err, errlen, "%s: row %d has %d raw bits (at most %d)", what, i, t->b[i],
                     b_max);
            return NEUVC_ERR_INVALIDDATA;
        }
        if (rc_cdf_check(t->cdf + (size_t)i * (size_t)t->stride, n) < 0) {
            snprintf(err, errlen, "%s: row %d is not a valid cumulative table of %d symbols",
                     what, i, n);
            return NEUVC_ERR_INVALIDDATA;
        }
    }
    return 0;
}

static int same_hw(const nl_tensor *a, const nl_tensor *b)
{
    return a->h == b->h && a->w == b->w && a->c == b->c;
}

/* floor(v / 2^b) for any sign of v, 0 <= b <= NV_LATENT_B_MAX. */
static inline int32_t floor_shift(int32_t v, int b)
{
    return v >= 0 ? v >> b : ~(~v >> b);
}

int nv_latent_enc_z(rc_enc *e, const nl_tensor *z, const nv_latent_tables *t)
{
    if (z->type != NL_S16 || z->c != t->rows)
        return NEUVC_ERR(EINVAL);
    for (int y = 0; y < z->h; y++) {
        const int16_t *row = (const int16_t *)z->data + y * z->stride;
        for (int x = 0; x < z->w; x++) {
            for (int c = 0; c < z->c; c++) {
                int32_t v = row[x * z->c + c];
                if (v < -NV_LATENT_MAX || v > NV_LATENT_MAX)
                    return NEUVC_ERR(EINVAL);
                const uint16_t *cdf = t->cdf + (size_t)c * (size_t)t->stride;
                int ret = rc_enc_value(e, cdf, t->k[c], v);
                if (ret < 0)
                    return ret;
            }
        }
    }
    return 0;
}

int nv_latent_dec_z(rc_dec *d, nl_tensor *z, const nv_latent_tables *t)
{
    if (z->type != NL_S16 || z->c != t->rows)
        return NEUVC_ERR(EINVAL);
    for (int y = 0; y < z->h; y++) {
        int16_t *row = (int16_t *)z->data + y * z->stride;
        for (int x = 0; x < z->w; x++) {
            for (int c = 0; c < z->c; c++) {
                const uint16_t *cdf = t->cdf + (size_t)c * (size_t)t->stride;
                int32_t v;
                int ret = rc_dec_value(d, cdf, t->k[c], &v);
                if (ret < 0)
                    return NEUVC_ERR_INVALIDDATA;
                if (v < -NV_LATENT_MAX || v > NV_LATENT_MAX) {
                    rc_dec_set_corrupt(d);
                    return NEUVC_ERR_INVALIDDATA;
                }
                row[x * z->c + c] = (int16_t)v;
            }
        }
        if (rc_dec_error(d) < 0)
            return NEUVC_ERR_INVALIDDATA;
    }
    return 0;
}

static int band_shapes_ok(const nl_tensor *yq, const nl_tensor *mu, const nl_tensor *sidx,
                          int y0, int y1)
{
    return yq->type == NL_S16 && mu->type == NL_S16 && sidx->type == NL_U8 &&
           same_hw(yq, mu) && same_hw(yq, sidx) && 0 <= y0 && y0 <= y1 && y1 <= yq->h;
}

int nv_latent_enc_band(rc_enc *e, const nl_tensor *yq, const nl_tensor *mu,
                       const nl_tensor *sidx, int y0, int y1, const nv_latent_tables *t)
{
    if (!band_shapes_ok(yq, mu, sidx, y0, y1))
        return NEUVC_ERR(EINVAL);
    const int n = yq->w * yq->c;
    for (int y = y0; y < y1; y++) {
        const int16_t *q = (const int16_t *)yq->data + y * yq->stride;
        const int16_t *m = (const int16_t *)mu->data + y * mu->stride;
        const uint8_t *s = (const uint8_t *)sidx->data + y * sidx->stride;
        for (int j = 0; j < n; j++) {
            int i = s[j];
            if (i >= t->rows || q[j] < -NV_LATENT_MAX || q[j] > NV_LATENT_MAX)
                return NEUVC_ERR(EINVAL);
            /* |yq|, |mu| <= 4096: |v| <= 8192. */
            int32_t v = (int32_t)q[j] - m[j];
            int b = t->b[i];
            int32_t h = floor_shift(v, b);
            const uint16_t *cdf = t->cdf + (size_t)i * (size_t)t->stride;
            int ret = rc_enc_value(e, cdf, t->k[i], h);
            if (ret < 0)
                return ret;
            if (b)
                rc_enc_bits(e, (uint32_t)(v - h * ((int32_t)1 << b)), b);
        }
    }
    return 0;
}

int nv_latent_dec_band(rc_dec *d, nl_tensor *yq, const nl_tensor *mu, const nl_tensor *sidx,
                       int y0, int y1, const nv_latent_tables *t)
{
    if (!band_shapes_ok(yq, mu, sidx, y0, y1))
        return NEUVC_ERR(EINVAL);
    const int n = yq->w * yq->c;
    for (int y = y0; y < y1; y++) {
        int16_t *q = (int16_t *)yq->data + y * yq->stride;
        const int16_t *m = (const int16_t *)mu->data + y * mu->stride;
        const uint8_t *s = (const uint8_t *)sidx->data + y * sidx->stride;
        for (int j = 0; j < n; j++) {
            int i = s[j];
            if (i >= t->rows) {
                rc_dec_set_corrupt(d);
                return NEUVC_ERR_INVALIDDATA;
            }
            int b = t->b[i];
            const uint16_t *cdf = t->cdf + (size_t)i * (size_t)t->stride;
            int32_t h;
            if (rc_dec_value(d, cdf, t->k[i], &h) < 0)
                return NEUVC_ERR_INVALIDDATA;
            /* |h| < 2^26 and b <= 15: the product stays below 2^41. */
            int64_t v = (int64_t)h * ((int64_t)1 << b);
            if (b)
                v += rc_dec_bits(d, b);
            int64_t r = (int64_t)m[j] + v;
            if (r < -NV_LATENT_MAX || r > NV_LATENT_MAX) {
                rc_dec_set_corrupt(d);
                return NEUVC_ERR_INVALIDDATA;
            }
            q[j] = (int16_t)r;
        }
        if (rc_dec_error(d) < 0)
            return NEUVC_ERR_INVALIDDATA;
    }
    return 0;
}
