/*
 * Range coder: the arithmetic behind entropy/rangecoder.h.  The encoder and
 * the decoder below must change R in exactly the same way for every call;
 * each decoder function mirrors the encoder function of the same kind.
 */
#include "entropy/rangecoder.h"

#include <stdlib.h>

#include "neuvc/neuvc.h"

#define RC_LOW_MASK 0xFFFFFFFFu   /* L's bits below the carry bit */
#define RC_INIT_CAP 256           /* first allocation when no hint was given */

/* ------------------------------------------------------------- encoder */

int rc_enc_init(rc_enc *e, size_t cap_hint)
{
    e->buf = NULL;
    e->cap = 0;
    rc_enc_reset(e);
    if (cap_hint) {
        e->buf = malloc(cap_hint);
        if (!e->buf)
            return NEUVC_ERR(ENOMEM);
        e->cap = cap_hint;
    }
    return 0;
}

void rc_enc_reset(rc_enc *e)
{
    e->low = 0;
    e->range = RC_RANGE_INIT;
    e->err = 0;
    e->finished = 0;
    e->size = 0;
}

void rc_enc_free(rc_enc *e)
{
    if (!e)
        return;
    free(e->buf);
    e->buf = NULL;
    e->cap = 0;
    e->size = 0;
}

/* Doubles the buffer.  Returns 0, or sets the sticky ENOMEM. */
static int rc_enc_grow(rc_enc *e)
{
    size_t ncap = e->cap ? e->cap * 2 : RC_INIT_CAP;
    uint8_t *nbuf;

    if (ncap < e->cap) {
        e->err = NEUVC_ERR(ENOMEM);
        return e->err;
    }
    nbuf = realloc(e->buf, ncap);
    if (!nbuf) {
        e->err = NEUVC_ERR(ENOMEM);
        return e->err;
    }
    e->buf = nbuf;
    e->cap = ncap;
    return 0;
}

/* Adds 1 to the bytes written so far, as a base-256 number.  The nesting
 * of the intervals keeps the written prefix below 0xFF..FF, so the loop
 * stops at a byte that is not 0xFF; the i > 0 bound only matters after an
 * allocation failure dropped bytes. */
static void rc_enc_carry(rc_enc *e)
{
    size_t i = e->size;

    while (i > 0) {
        i--;
        if (++e->buf[i] != 0)
            break;
    }
}

/* Moves bits 24..31 of L (after its carry) into the buffer. */
static inline void rc_enc_shift(rc_enc *e)
{
    if (e->low >> 32) {
        rc_enc_carry(e);
        e->low &= RC_LOW_MASK;
    }
    if (e->size == e->cap && rc_enc_grow(e) < 0)
        return;
    e->buf[e->size++] = (uint8_t)(e->low >> 24);
}

/* Restores R >= 2^24; R >= 2^8 on entry, so at most 2 shifts. */
void rc_enc_renorm(rc_enc *e)
{
    while (e->range < RC_RANGE_MIN) {
        rc_enc_shift(e);
        e->low = (e->low << 8) & RC_LOW_MASK;
        e->range <<= 8;
    }
}

void rc_enc_fail_symbol(rc_enc *e)
{
    e->err = NEUVC_ERR(EINVAL);
}

void rc_enc_bool(rc_enc *e, int bit, uint32_t p0)
{
    uint32_t split = rc_bound(e->range, p0);

    if (e->finished) {
        e->err = NEUVC_ERR(EINVAL);
        return;
    }
    if (bit) {
        e->low += split;
        e->range -= split;
    } else {
        e->range = split;
    }
    rc_enc_normalize(e);
}

void rc_enc_bits(rc_enc *e, uint32_t v, int nbits)
{
    uint32_t step;

    if ((unsigned)nbits > RC_BITS_MAX || e->finished) {
        e->err = NEUVC_ERR(EINVAL);
        return;
    }
    /* R >= 2^24 and nbits <= 16: step >= 2^8, and v * step < R. */
    step = e->range >> nbits;
    v &= (1u << nbits) - 1;
    e->low += (uint64_t)v * step;
    e->range = step;
    rc_enc_normalize(e);
}

void rc_enc_bits32(rc_enc *e, uint32_t v, int nbits)
{
    if ((unsigned)nbits > RC_BITS32_MAX) {
        e->err = NEUVC_ERR(EINVAL);
        return;
    }
    if (nbits > RC_BITS_MAX) {
        rc_enc_bits(e, v >> RC_BITS_MAX, nbits - RC_BITS_MAX);
        nbits = RC_BITS_MAX;
    }
    rc_enc_bits(e, v, nbits);
}

int rc_enc_finish(rc_enc *e, const uint8_t **data, size_t *size)
{
    if (!e->finished) {
        /* The smallest multiple of 2^24 >= L; L < 2^33 so no overflow. */
        e->low = (e->low + RC_RANGE_MIN - 1) & ~(uint64_t)(RC_RANGE_MIN - 1);
        rc_enc_shift(e);
        e->low = 0;
        e->finished = 1;
    }
    *data = e->buf;
    *size = e->size;
    if (e->err) {
        *data = NULL;
        *size = 0;
    }
    return e->err;
}

uint64_t rc_enc_tell_bits(const rc_enc *e)
{
    int log2r = 31 - __builtin_clz(e->range);   /* range > 0 */

    return (uint64_t)e->size * 8 + (uint64_t)(31 - log2r);
}

/* ------------------------------------------------------------- decoder */

void rc_dec_init(rc_dec *d, const uint8_t *buf, size_t len)
{
    uint32_t c = 0;

    d->buf = buf;
    d->len = buf ? len : 0;
    d->pos = 0;
    d->virt = 0;
    d->corrupt = 0;
    for (int i = 0; i < 4; i++)
        c = (c << 8) | rc_dec_byte(d);
    d->range = RC_RANGE_INIT;
    /* An encoder's value stays below L + R <= 2^32 - 1. */
    if (c >= d->range) {
        c = d->range - 1;
        d->corrupt = 1;
    }
    d->code = c;
}

int rc_dec_symbol(rc_dec *d, const uint16_t *cdf, int n)
{
    uint32_t r = d->range, c = d->code;
    int lo = 0, hi = n;

    /* Invariant: b(lo) <= C < b(hi), with b(0) = 0 and b(n) = R > C. */
    while (hi - lo > 1) {
        int mid = (lo + hi) >> 1;
        if (c >= rc_bound(r, cdf[mid]))
            lo = mid;
        else
            hi = mid;
    }
    rc_dec_take(d, rc_bound(r, cdf[lo]), rc_bound(r, cdf[lo + 1]));
    return lo;
}

int rc_dec_bool(rc_dec *d, uint32_t p0)
{
    uint32_t split = rc_bound(d->range, p0);

    if (d->code >= split) {
        d->code -= split;
        d->range -= split;
        rc_dec_normalize(d);
        return 1;
    }
    d->range = split;
    rc_dec_normalize(d);
    return 0;
}

uint32_t rc_dec_bits(rc_dec *d, int nbits)
{
    uint32_t step, v, vmax;

    if ((unsigned)nbits > RC_BITS_MAX) {
        d->corrupt = 1;
        return 0;
    }
    step = d->range >> nbits;
    vmax = (1u << nbits) - 1;
    if (nbits == 1)
        v = d->code >= step;
    else
        v = d->code / step;
    /* The encoder never uses [step << nbits, R): C there is corrupt. */
    if (v > vmax) {
        v = vmax;
        d->corrupt = 1;
    }
    d->code -= v * step;
    if (d->code >= step) {
        d->code = step - 1;
        d->corrupt = 1;
    }
    d->range = step;
    rc_dec_normalize(d);
    return v;
}

uint32_t rc_dec_bits32(rc_dec *d, int nbits)
{
    uint32_t v = 0;

    if ((unsigned)nbits > RC_BITS32_MAX) {
        d->corrupt = 1;
        return 0;
    }
    if (nbits > RC_BITS_MAX) {
        v = rc_dec_bits(d, nbits - RC_BITS_MAX) << RC_BITS_MAX;
        nbits = RC_BITS_MAX;
    }
    return v | rc_dec_bits(d, nbits);
}

void rc_dec_set_corrupt(rc_dec *d)
{
    d->corrupt = 1;
}

int rc_dec_error(const rc_dec *d)
{
    if (d->corrupt || d->virt > RC_DEC_OVERREAD)
        return NEUVC_ERR_INVALIDDATA;
    return 0;
}

int rc_dec_finish(const rc_dec *d)
{
    /* The encoder's last byte is the top byte of V = L rounded up to a
     * multiple of 2^24, and the 3 bytes after it are the zeros the decoder
     * supplies, so its final C = V - L is below 2^24. */
    if (d->corrupt || d->virt != RC_DEC_OVERREAD || d->code >= RC_RANGE_MIN)
        return NEUVC_ERR_INVALIDDATA;
    return 0;
}

size_t rc_dec_overread(const rc_dec *d)
{
    return d->virt;
}
