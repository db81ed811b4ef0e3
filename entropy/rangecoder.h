/*
 * The range coder of neuvc: multi-symbol alphabets with static 15-bit
 * cumulative frequency tables, raw (bypass) bits, byte-oriented output.
 * Escape-coded signed values are in entropy/escape.h, adaptive models in
 * entropy/adaptive.h, table construction and checks in entropy/cdf.h.
 *
 * TABLES.  An alphabet of n symbols (2 <= n <= RC_MAX_SYMBOLS) is described
 * by uint16_t cdf[n + 1] with cdf[0] == 0, cdf[n] == RC_PROB_ONE (32768),
 * strictly increasing, so symbol s has frequency f(s) = cdf[s+1] - cdf[s]
 * >= 1 and probability f(s) / 2^15.  Every function below requires a
 * valid table: tables read from a file must pass rc_cdf_check() once,
 * when they are loaded (a table with a zero frequency could shrink the
 * range to 0).
 *
 * STATE.  Both sides keep range R, an integer in [2^24, 2^32 - 1] between
 * calls (RC_RANGE_MIN <= R <= RC_RANGE_INIT).  The encoder keeps low L in
 * [0, 2^33): bit 32 is a carry not yet added to the bytes already written,
 * and L + R < 2^33.  The decoder keeps code C = (stream value - L) in
 * [0, R), where the stream value is the output bytes read as a base-256
 * fraction; C < R is the decoder's invariant, restored by a clamp (and
 * flagged as corruption) only where an invalid stream breaks it.
 *
 * CODING A SYMBOL.  With b(k) = floor(R * cdf[k] / 2^15), symbol s takes
 * the sub-interval [b(s), b(s+1)) of [0, R): L += b(s), R = b(s+1) - b(s).
 * b(0) = 0 and b(n) = R, so the sub-intervals tile [0, R) exactly and no
 * part of the range is wasted.  Since R >= 2^24 and f(s) >= 1, the new R
 * is at least floor(R / 2^15) >= 2^9: every symbol of frequency 1 is still
 * codable, with room to spare.  The decoder finds s with b(s) <= C <
 * b(s+1) by comparing C with products R * cdf[k]: no division.  Then both
 * sides renormalize: while R < 2^24, shift one byte out (encoder) or in
 * (decoder) and multiply R by 256; at most 2 bytes per symbol.
 *
 * COST.  The width of symbol s differs from the ideal R * f(s) / 2^15 by
 * less than 1, so it costs -log2(f(s) / 2^15) bits plus a deviation of at
 * most 2^15 / (R * f(s) * ln 2) <= 0.0029 / f(s) bits (R >= 2^24) in
 * either direction; the widths sum exactly to R, so the deviations cancel
 * to first order and the mean excess is second order, far below 1e-6 bit
 * per symbol (measured over 10^6 symbols: +0.0001% including the flush).
 * Bypass bits: k bits narrow R to floor(R / 2^k), losing at most
 * 2^k / R of the range, i.e. < 0.0057 bit for k = 16 (typically < 0.0004).
 * The flush costs exactly RC_FLUSH_BYTES byte per stream.
 *
 * CARRIES.  Adding b(s) to L may carry into bytes already written.  The
 * encoder owns its output buffer and adds the carry there when it next
 * shifts a byte out (or at the flush): bytes 0xFF turn to 0x00 from the end
 * backwards until one absorbs it.  The coded intervals are nested inside
 * the initial [0, 2^32 - 1), so a carry never runs past the first byte.
 *
 * FLUSH.  rc_enc_finish() writes exactly RC_FLUSH_BYTES (1) byte: the value
 * V = L rounded up to a multiple of 2^24; V - L < 2^24 <= R, so V lies in
 * the final interval, and V followed by zero bytes is what the decoder
 * reads.  An empty stream is 1 byte.
 *
 * DECODER BOUNDS.  The decoder reads only inside [buf, buf + len); past the
 * end it uses zero bytes and counts them.  It reads 4 bytes at start and
 * one per renormalization shift; the encoder writes one byte per shift
 * plus the 1-byte flush.  So a decoder that decodes exactly what was coded
 * has used exactly len + RC_DEC_OVERREAD (3) bytes, never more.  Using more
 * is what rc_dec_error() reports: decoding the original symbols from a
 * stream that lacks any of its bytes always does it (as does decoding more
 * symbols than were coded).  A cut stream may instead decode to other
 * symbols that need fewer bytes; rc_dec_finish(), the end check for
 * sub-streams of known size, catches those as well unless the cut stream
 * happens to be a valid stream of the symbols it decoded to: it requires
 * exactly len + 3 bytes used and a final C < 2^24 (the last byte must be
 * the flush byte of the decoded symbols; see FLUSH), so about 1 - 2^24/R
 * of wrong endings fail it, plus all wrong lengths.  All decoder loops are
 * bounded by the alphabet size or the bit count: garbage decodes to
 * symbols inside the alphabet in bounded time.
 *
 * MEMORY.  The encoder's buffer grows (doubling) while a stream is longer
 * than any before it; rc_enc_reset() keeps it, so after warm-up coding a
 * frame allocates nothing.  An allocation failure is sticky and reported by
 * rc_enc_finish().
 *
 * THREADS.  An rc_enc or rc_dec is used by one thread at a time; separate
 * instances (one per sub-stream) are independent.
 */
#ifndef NEUVC_ENTROPY_RANGECODER_H
#define NEUVC_ENTROPY_RANGECODER_H

#include <stddef.h>
#include <stdint.h>

#define RC_PROB_BITS 15
#define RC_PROB_ONE (1u << RC_PROB_BITS)  /* cdf[n]: the total of a table */
#define RC_MAX_SYMBOLS 256                /* largest alphabet of a table */
#define RC_RANGE_MIN (1u << 24)           /* R >= RC_RANGE_MIN between calls */
#define RC_RANGE_INIT 0xFFFFFFFFu         /* R of a fresh stream */
#define RC_BITS_MAX 16                    /* widest rc_enc_bits / rc_dec_bits */
#define RC_BITS32_MAX 32                  /* widest rc_enc_bits32 / rc_dec_bits32 */
#define RC_FLUSH_BYTES 1                  /* bytes written by rc_enc_finish */
#define RC_DEC_OVERREAD 3                 /* zero bytes past the end a valid stream uses */

typedef struct rc_enc {
    uint64_t low;       /* [0, 2^33), bit 32 = pending carry */
    uint32_t range;     /* [RC_RANGE_MIN, RC_RANGE_INIT] */
    int err;            /* 0 or a negative error code, sticky until reset */
    int finished;       /* 1 after rc_enc_finish */
    uint8_t *buf;       /* owned; buf[0 .. size) is the output so far */
    size_t size, cap;
} rc_enc;

typedef struct rc_dec {
    const uint8_t *buf; /* not owned; only buf[0 .. len) is ever read */
    size_t len, pos;    /* pos <= len: next byte to read */
    size_t virt;        /* zero bytes supplied past the end */
    uint32_t range;     /* [RC_RANGE_MIN, RC_RANGE_INIT] */
    uint32_t code;      /* [0, range) */
    int corrupt;        /* 1 once the stream showed a state no encoder makes */
} rc_dec;

/* ---------------------------------------------------------------- encoder */

/* Sets up an empty encoder and preallocates cap_hint bytes (0: allocate on
 * first use).  Returns 0 or NEUVC_ERR(ENOMEM); on failure e is still safe
 * to rc_enc_free. */
int rc_enc_init(rc_enc *e, size_t cap_hint);
/* Starts a new stream, keeping the buffer; clears a sticky error. */
void rc_enc_reset(rc_enc *e);
/* Frees the buffer; e may then be rc_enc_init'ed again.  NULL-safe. */
void rc_enc_free(rc_enc *e);

/* Codes symbol s (0 <= s < n) of the table cdf[n + 1].  An s outside the
 * alphabet codes nothing and makes the stream fail with NEUVC_ERR(EINVAL).
 * Inline (below): it is the per-latent step of every frame. */
static inline void rc_enc_symbol(rc_enc *e, const uint16_t *cdf, int n, int s);
/* Codes the low nbits (0..RC_BITS_MAX) of v, equiprobable. */
void rc_enc_bits(rc_enc *e, uint32_t v, int nbits);
/* The same for 0..32 bits: the top nbits - 16 bits first, then the low 16
 * (rc_dec_bits32 splits the same way). */
void rc_enc_bits32(rc_enc *e, uint32_t v, int nbits);
/* Binary symbol with P(bit == 0) = p0 / 2^15, 1 <= p0 <= 32767. */
void rc_enc_bool(rc_enc *e, int bit, uint32_t p0);

/* Flushes (RC_FLUSH_BYTES byte) and returns the stream in *data, *size,
 * valid until the next reset or free.  Returns 0, or the sticky error
 * (NEUVC_ERR(ENOMEM), NEUVC_ERR(EINVAL) for a symbol outside its alphabet
 * or a call after finish).  Calling it twice returns the same stream. */
int rc_enc_finish(rc_enc *e, const uint8_t **data, size_t *size);
/* Bits coded so far: 8 * bytes written + 31 - floor(log2 R), within 1 bit
 * of the information coded.  Finishing now would give tell + 1 .. 8 bits. */
uint64_t rc_enc_tell_bits(const rc_enc *e);

/* ---------------------------------------------------------------- decoder */

/* Starts decoding buf[0 .. len).  buf may be NULL when len == 0. */
void rc_dec_init(rc_dec *d, const uint8_t *buf, size_t len);

/* Decodes a symbol of cdf[n + 1] (binary search, about log2(n) steps).
 * Always returns a value in [0, n). */
int rc_dec_symbol(rc_dec *d, const uint16_t *cdf, int n);
/* The same, searching from symbol start (0 <= start < n; others mean 0)
 * up or down: one
 * step per symbol between start and the result, so for tables whose mass
 * sits at start (the centre of a latent table) usually 1 or 2 steps.
 * Inline (below), as rc_enc_symbol. */
static inline int rc_dec_symbol_from(rc_dec *d, const uint16_t *cdf, int n, int start);
/* nbits (0..RC_BITS_MAX) raw bits, as rc_enc_bits wrote them. */
uint32_t rc_dec_bits(rc_dec *d, int nbits);
/* 0..32 raw bits, as rc_enc_bits32 wrote them. */
uint32_t rc_dec_bits32(rc_dec *d, int nbits);
/* A binary symbol with P(0) = p0 / 2^15, as rc_enc_bool wrote it. */
int rc_dec_bool(rc_dec *d, uint32_t p0);

/* Marks the stream corrupt (for callers that find an impossible value). */
void rc_dec_set_corrupt(rc_dec *d);
/* NEUVC_ERR_INVALIDDATA when the decoder needed more than RC_DEC_OVERREAD
 * bytes past the end (truncated stream, or more symbols decoded than were
 * coded) or saw an impossible state; else 0.  Cheap: call it at the end
 * of a sub-stream or every so often in a long loop. */
int rc_dec_error(const rc_dec *d);
/* Strict end check after the last symbol: 0 only when no error, the
 * stream was used exactly to its end (len + RC_DEC_OVERREAD bytes, so extra
 * bytes after a sub-stream are caught too) and its last byte is the flush
 * byte an encoder would have written; else NEUVC_ERR_INVALIDDATA. */
int rc_dec_finish(const rc_dec *d);
/* Zero bytes supplied past the end so far. */
size_t rc_dec_overread(const rc_dec *d);

/* ------------------------------------------------- inline coding steps */

/* b(k) = floor(R * cdf[k] / 2^15); R < 2^32 and cdf[k] <= 2^15, so the
 * product fits in 47 bits and the result is <= R. */
static inline uint32_t rc_bound(uint32_t range, uint32_t cdf_k)
{
    return (uint32_t)(((uint64_t)range * cdf_k) >> RC_PROB_BITS);
}

/* Out of line (entropy/rangecoder.c): shifts bytes out until R >= 2^24
 * (R >= 2^8 on entry: at most 2); sets the sticky EINVAL. */
void rc_enc_renorm(rc_enc *e);
void rc_enc_fail_symbol(rc_enc *e);

/* Restores R >= 2^24 after a coding step (rarely needed: out of line). */
static inline void rc_enc_normalize(rc_enc *e)
{
    if (e->range < RC_RANGE_MIN)
        rc_enc_renorm(e);
}

static inline void rc_enc_symbol(rc_enc *e, const uint16_t *cdf, int n, int s)
{
    if ((unsigned)s >= (unsigned)n || e->finished) {
        rc_enc_fail_symbol(e);
        return;
    }
    const uint32_t lo = rc_bound(e->range, cdf[s]), hi = rc_bound(e->range, cdf[s + 1]);
    e->low += lo;
    e->range = hi - lo;
    rc_enc_normalize(e);
}

static inline uint32_t rc_dec_byte(rc_dec *d)
{
    if (d->pos < d->len)
        return d->buf[d->pos++];
    d->virt++;
    return 0;
}

/* Restores R >= 2^24 (at most 2 shifts, as in the encoder).  C < R is
 * kept: C <= R - 1 gives C * 256 + 255 <= R * 256 - 1. */
static inline void rc_dec_normalize(rc_dec *d)
{
    while (d->range < RC_RANGE_MIN) {
        d->code = (d->code << 8) | rc_dec_byte(d);
        d->range <<= 8;
    }
}

/* Takes the sub-interval [lo, hi) that contains C. */
static inline void rc_dec_take(rc_dec *d, uint32_t lo, uint32_t hi)
{
    d->code -= lo;
    d->range = hi - lo;
    rc_dec_normalize(d);
}

static inline int rc_dec_symbol_from(rc_dec *d, const uint16_t *cdf, int n, int start)
{
    const uint32_t r = d->range, c = d->code;
    int s = (unsigned)start < (unsigned)n ? start : 0;
    uint32_t lo = rc_bound(r, cdf[s]), hi = rc_bound(r, cdf[s + 1]);
    /* Down: stops at 0 at the latest, where b(0) = 0 <= C. */
    while (c < lo && s > 0) {
        s--;
        hi = lo;
        lo = rc_bound(r, cdf[s]);
    }
    /* Up: stops at n - 1 at the latest, where b(n) = R > C. */
    while (c >= hi && s + 1 < n) {
        s++;
        lo = hi;
        hi = rc_bound(r, cdf[s + 1]);
    }
    rc_dec_take(d, lo, hi);
    return s;
}

#endif
