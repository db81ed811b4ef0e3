/*
 * Adaptive models for side information (motion vectors, flags, modes):
 * a multi-symbol model for n <= RC_ADAPT_MAX_SYMBOLS and a binary model.
 * Both are updated after every coded symbol with integer arithmetic only,
 * identically on the encoder and the decoder, so a model's state depends
 * only on the symbols coded with it.
 *
 * ADAPTATION.  After symbol s the model moves its distribution a fraction
 * 2^-rate of the way towards "s with probability 1", where
 *
 *     rate = 4 + (n >= 4) + (count >= 16) + (count >= 32)
 *
 * and count is the number of symbols the model has coded (saturating at
 * 32): fast while the model knows little (1/16 for binary and ternary
 * models, 1/32 for larger ones), slower later (1/64 and 1/128), i.e. an
 * exponential window of about 2^rate recent symbols.  These are the rates
 * AV1 uses.
 *
 * FREQUENCIES STAY >= 1.  The model stores the coder's table cdf[0..n] and
 * updates, for 0 < i < n, the "reduced" table r[i] = cdf[i] - i, whose
 * total is T = 2^15 - n:
 *     i <= s:  r[i] -= r[i] >> rate            (towards 0)
 *     i >  s:  r[i] += (T - r[i]) >> rate      (towards T)
 * Claim: if 0 = r[0] <= r[1] <= ... <= r[n] = T before, the same holds
 * after.  Proof: f(x) = x - (x >> rate) and g(x) = x + ((T - x) >> rate)
 * are nondecreasing (raising x by 1 changes the shifted term by 0 or 1 in
 * the direction that compensates at most fully), f(x) <= x, and g(x) >= x
 * for x <= T; so for i <= s < j, f(r[i]) <= r[i] <= r[j] <= g(r[j]), and
 * within each side monotonicity is kept by f and g being nondecreasing.
 * Also f(x) >= 0 and g(x) <= T.  Hence cdf[i] = r[i] + i is strictly
 * increasing from 0 to 2^15: every frequency is >= 1, and the table is
 * always valid for the range coder.  Any valid initial table is a valid
 * starting point (strictly increasing cdf gives nondecreasing r).
 *
 * Limit of confidence: a step (x >> rate) of 0 stops r[i] within 2^rate - 1
 * of its target, so a symbol that stops occurring keeps a frequency of up
 * to about 2^rate instead of decaying to 1 (binary: p stays in about
 * [2^-9, 1 - 2^-9] once settled).  For side information this costs at most
 * about 0.003 bit per symbol.
 *
 * The binary model is the n = 2 case stored as p0 = cdf[1] = P(0) * 2^15
 * in [1, 32767]; it produces exactly the same stream and states as an
 * rc_adapt with n = 2.
 */
#ifndef NEUVC_ENTROPY_ADAPTIVE_H
#define NEUVC_ENTROPY_ADAPTIVE_H

#include <stdint.h>

#include "entropy/rangecoder.h"

#define RC_ADAPT_MAX_SYMBOLS 16
#define RC_ADAPT_COUNT_MAX 32     /* count saturates here (rate is final) */

typedef struct rc_adapt {
    uint16_t cdf[RC_ADAPT_MAX_SYMBOLS + 1];   /* a valid table of n symbols */
    uint8_t n;                                 /* [2, RC_ADAPT_MAX_SYMBOLS] */
    uint8_t count;                             /* [0, RC_ADAPT_COUNT_MAX] */
} rc_adapt;

typedef struct rc_bin {
    uint16_t p0;                               /* P(bit == 0) * 2^15, [1, 32767] */
    uint8_t count;                             /* [0, RC_ADAPT_COUNT_MAX] */
} rc_bin;

/* Uniform start: cdf[i] = floor(i * 2^15 / n).  0 or NEUVC_ERR(EINVAL)
 * for n outside [2, RC_ADAPT_MAX_SYMBOLS]. */
int rc_adapt_init(rc_adapt *m, int n);
/* Start from a given valid table.  0 or NEUVC_ERR(EINVAL) (bad n or an
 * invalid table). */
int rc_adapt_init_cdf(rc_adapt *m, const uint16_t *cdf, int n);
/* The rate of the next update (see above). */
int rc_adapt_rate(const rc_adapt *m);
/* The update after coding s (0 <= s < n; others are ignored). */
void rc_adapt_update(rc_adapt *m, int s);

/* Code s with m, then update m.  An s outside [0, n) codes nothing, leaves
 * m alone and fails the stream with NEUVC_ERR(EINVAL). */
void rc_enc_adapt(rc_enc *e, rc_adapt *m, int s);
/* Decode a symbol in [0, n) with m, then update m. */
int rc_dec_adapt(rc_dec *d, rc_adapt *m);

/* p0 = 2^14 (even odds). */
void rc_bin_init(rc_bin *m);
/* Start from p0 in [1, 32767]; 0 or NEUVC_ERR(EINVAL). */
int rc_bin_init_p0(rc_bin *m, uint32_t p0);
int rc_bin_rate(const rc_bin *m);
void rc_bin_update(rc_bin *m, int bit);
void rc_enc_bin(rc_enc *e, rc_bin *m, int bit);
int rc_dec_bin(rc_dec *d, rc_bin *m);

#endif
