/*
 * Cumulative frequency tables for the range coder (entropy/rangecoder.h):
 * checking, construction from counts or probabilities, and symbol costs.
 *
 * A valid table for n symbols (2 <= n <= RC_MAX_SYMBOLS) is uint16_t
 * cdf[n + 1], cdf[0] == 0, cdf[n] == 2^15, strictly increasing.
 *
 * CONSTRUCTION (rc_cdf_from_counts), all integer, so any implementation
 * that follows these steps (the Python table builder included) gets the
 * same table from the same counts:
 *   1. T = sum of counts (64-bit).  T == 0: the uniform table.
 *   2. f[i] = floor(c[i] * 2^15 / T), remainder q[i] = c[i] * 2^15 mod T.
 *      A symbol with f[i] == 0 is raised to f[i] = 1 ("floored").
 *   3. While sum f < 2^15: among symbols not floored and not yet raised
 *      in this step, add 1 to the one with the largest q[i] (lowest i on
 *      ties).  (The deficit is below the number of such symbols, so each
 *      gets at most 1.)
 *   4. While sum f > 2^15 (only possible after floors): subtract 1 from the
 *      symbol with the largest f[i] (lowest i on ties); that f is >= 2.
 *   5. cdf[i + 1] = cdf[i] + f[i].
 * The result is the largest-remainder rounding of c * 2^15 / T, with every
 * symbol kept codable (frequency >= 1, also for count 0).
 */
#ifndef NEUVC_ENTROPY_CDF_H
#define NEUVC_ENTROPY_CDF_H

#include <stdint.h>

#include "entropy/rangecoder.h"

/* 0 when cdf[0..n] is a valid table of n symbols, else
 * NEUVC_ERR_INVALIDDATA (also for n outside [2, RC_MAX_SYMBOLS]).  Run it
 * on every table that comes from a file. */
int rc_cdf_check(const uint16_t *cdf, int n);

/* cdf[i] = floor(i * 2^15 / n).  n in [2, RC_MAX_SYMBOLS] (unchecked). */
void rc_cdf_uniform(uint16_t *cdf, int n);

/* Builds cdf[0..n] from counts[0..n) as described above.  Returns 0 or
 * NEUVC_ERR(EINVAL) for n outside [2, RC_MAX_SYMBOLS]. */
int rc_cdf_from_counts(uint16_t *cdf, const uint32_t *counts, int n);

/* From nonnegative weights p[0..n) (any scale): each becomes the count
 * round(p[i] / max(p) * 2^31), then rc_cdf_from_counts.  Deterministic for
 * IEEE-754 doubles.  NEUVC_ERR(EINVAL) for a bad n or a negative, NaN or
 * infinite weight; all zero gives the uniform table. */
int rc_cdf_from_probs(uint16_t *cdf, const double *p, int n);

/* Cost of a symbol of frequency freq (1..2^15) in 1/256 bit:
 * 256 * -log2(freq / 2^15), never below it and less than 2 units above,
 * integer only (for rate estimates in encoder decisions).  0 for
 * freq >= 2^15; freq 0 is treated as 1. */
uint32_t rc_cost_q8(uint32_t freq);
/* The same for symbol s of a table. */
static inline uint32_t rc_cdf_cost_q8(const uint16_t *cdf, int s)
{
    return rc_cost_q8((uint32_t)cdf[s + 1] - cdf[s]);
}

#endif
