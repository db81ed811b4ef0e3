/*
 * Entropy coding of the intra latents (docs/codec.md, steps 4 and 6):
 * the hyper-latent z with one static table per channel, and the latent yq
 * in bands, each value relative to the hyper-decoder's mean mu with the
 * table of its scale index sidx and b raw low bits.
 *
 * Tensors are netlib HWC views (netlib/netlib.h): z and yq s16, mu s16,
 * sidx u8.  Positions are coded in raster order, channels 0..c-1 at each
 * position.  Every coded value lies in [-NV_LATENT_MAX, NV_LATENT_MAX];
 * the decoders reject any other as invalid data.
 */
#ifndef NEUVC_ENTROPY_LATENT_H
#define NEUVC_ENTROPY_LATENT_H

#include <stddef.h>
#include <stdint.h>

#include "entropy/rangecoder.h"
#include "netlib/netlib.h"

#define NV_LATENT_MAX 4096       /* |z|, |yq| <= this (NL_S16_MAX) */
#define NV_LATENT_B_MAX 15       /* raw low bits per value: 0..15 */

/* A set of value tables, row i for table index i (a z channel or a scale
 * index):  K = k[i] in [0, RC_ESC_K_MAX], n = 2K + 2 symbols, cdf row
 * cdf[i * stride .. i * stride + n] a valid table (entropy/cdf.h), b[i] in
 * [0, b_max] raw bits.  Pointers into a loaded model. */
typedef struct nv_latent_tables {
    const uint16_t *cdf;         /* [rows][stride] */
    const uint8_t *k;            /* [rows] */
    const uint8_t *b;            /* [rows] */
    int rows;                    /* >= 1 */
    int stride;                  /* >= 2 * k[i] + 3 for every row */
} nv_latent_tables;

/* 0 when every row of t meets the rules above with b[i] <= b_max (<=
 * NV_LATENT_B_MAX), else NEUVC_ERR_INVALIDDATA with a message naming
 * the row in err (what is the table's name: for messages). */
int nv_latent_tables_check(const nv_latent_tables *t, int b_max, const char *what,
                           char *err, size_t errlen);

/* Codes z (s16, z->c == t->rows), value z[y][x][c] with row c.  0, or
 * NEUVC_ERR(EINVAL) for a value outside +-NV_LATENT_MAX or a shape
 * mismatch (nothing is then guaranteed about the stream). */
int nv_latent_enc_z(rc_enc *e, const nl_tensor *z, const nv_latent_tables *t);
/* Decodes into z (s16, z->c == t->rows).  0, NEUVC_ERR_INVALIDDATA for a
 * value outside the range or a stream that ran past its end (the check
 * rc_dec_error makes), NEUVC_ERR(EINVAL) for a shape mismatch.  The end
 * check of the sub-stream (rc_dec_finish) is the caller's. */
int nv_latent_dec_z(rc_dec *d, nl_tensor *z, const nv_latent_tables *t);

/* Codes rows [y0, y1) of yq (s16) given mu (s16) and sidx (u8), all of
 * one shape: v = yq - mu, i = sidx, h = floor(v / 2^b[i]) with row i,
 * then the low b[i] bits of v raw.  0, or NEUVC_ERR(EINVAL) for a shape
 * mismatch, a sidx >= t->rows or a yq outside the range. */
int nv_latent_enc_band(rc_enc *e, const nl_tensor *yq, const nl_tensor *mu,
                       const nl_tensor *sidx, int y0, int y1, const nv_latent_tables *t);
/* Decodes rows [y0, y1) of yq.  0, NEUVC_ERR_INVALIDDATA for a decoded
 * yq outside the range, a sidx >= t->rows, or a stream that ran past its
 * end; NEUVC_ERR(EINVAL) for a shape mismatch.  Rows decoded before a
 * failure hold values; later ones are unspecified. */
int nv_latent_dec_band(rc_dec *d, nl_tensor *yq, const nl_tensor *mu, const nl_tensor *sidx,
                       int y0, int y1, const nv_latent_tables *t);

#endif
