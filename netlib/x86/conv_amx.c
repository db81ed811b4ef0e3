/*
 * Convolutions with AMX (AMX-TILE, AMX-INT8; epilogue in AVX-512): 1x1
 * and 3x3, stride 1 and 2, u8 / s8 / s16 input, any output type.  Layout
 * (staged byte planes, packed B tiles): conv_x86.h, nl_x86_conv_pack_amx.
 *
 * Tiles: eight of 16 rows x 64 bytes.  tmm0-3 accumulate (16 pixels x 16
 * channels of int32 each), the others hold A (16 pixels x 64 bytes of
 * taps) and B (64 taps x 16 channels, 4 bytes per channel per row); four
 * independent accumulators per step (see step()).
 *   u8 input:  tdpbusd (u8 x s8), 32 pixels x 32 or 64 x 16 per step;
 *   s8 input:  tdpbssd (s8 x s8), same shapes;
 *   s16 input: x = 256 hi + lo (conv_x86.h), 16 x 32 or 32 x 16: tdpbusd
 *              on the low plane and tdpbssd on the high plane into two
 *              accumulators; the sum is 256 acc_hi + acc_lo.
 * The tile dot products add four byte products per int32 element without
 * saturation, modulo 2^32.  Every partial sum of acc_lo or of the u8 / s8
 * accumulators stays below 2^31 in magnitude (the taps sum below 2^30 by
 * nl_conv_check: at most 255 x 128 per product); 256 acc_hi + acc_lo +
 * bias is formed modulo 2^32 (vpslld, vpaddd) and its exact value, the
 * reference's acc + bias, lies in (-2^31, 2^31), so the wrapped result is
 * that value.  The kernel-row split (ksplit, conv_x86.h) stores partial
 * accumulators and loads them back before the next kernel row's products:
 * the same 32-bit values the tiles held, so the sums are unchanged.
 * Requantization and stores: rq_avx512.h (as conv_avx512.c), per pixel
 * (under 16 channels: per 16 values of packed accumulators, conv_x86.h)
 * after the accumulators go through a 4 KiB buffer on the stack.
 *
 * The tile state is configured at the start of each call and released at
 * its end (the caller's thread keeps no AMX state).  The process must have
 * been granted the XTILEDATA state: nl_cpu_flags() asks Linux for it, and
 * only reports AMX once granted.
 */
#include <assert.h>
#include <errno.h>
#include <immintrin.h>
#include <limits.h>
#include <string.h>

#include "neuvc/neuvc.h"
#include "netlib/conv_common.h"
#include "netlib/x86/conv_x86.h"
#include "netlib/x86/rq_avx512.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

enum { MODE_U8 = 0, MODE_S8 = 1, MODE_S16 = 2 };

/* ldtilecfg's 64-byte operand (palette 1). */
typedef struct tilecfg {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tilecfg;

/* Tile dot product, signed (tdpbssd) or unsigned (tdpbusd) A bytes;
 * tile numbers must be constants. */
#define DP(sg, c, a, b)                  \
    do {                                 \
        if (sg)                          \
            _tile_dpbssd(c, a, b);       \
        else                             \
            _tile_dpbusd(c, a, b);       \
    } while (0)

/* The requantization constants of one block (or pattern): requant16's,
 * or (R32: every shift 32 or more, c->rq32) requant16_hi's. */
typedef struct rqc {
    rq16 q;
    rq16h h;
    __m512i lo, hi;
} rqc;

ALWAYS_INLINE rqc rqc_load(const int R32, const nl_x86_conv *c, int blk)
{
    rqc r;
    memset(&r, 0, sizeof(r));
    if (R32) {
        r.h = rq16h_load(c, blk);
        r.lo = _mm512_set1_epi32(c->lo);
        r.hi = _mm512_set1_epi32(c->hi);
    } else {
        r.q = rq16_load(c, blk);
        r.lo = _mm512_set1_epi64(c->lo);
        r.hi = _mm512_set1_epi64(c->hi);
    }
    return r;
}

ALWAYS_INLINE __m512i rqc_apply(const int R32, const rqc *r, __m512i x)
{
    return R32 ? requant16_hi(&r->h, x, r->lo, r->hi) : requant16(&r->q, x, r->lo, r->hi);
}

/* The epilogue of a step (see step()): accumulators in cbuf -> output. */
ALWAYS_INLINE void epilogue(const int NA, const int NB, const int mode, const int R32,
                            const nl_x86_conv *c, int b0, uint8_t *out, int npix,
                            int32_t (*cbuf)[256])
{
    if (NB == 1 && c->npat) {
        /* Group t: pixels 16 t .. 16 t + np - 1, np * cout values in the
         * output's order, 16 at a time; lanes past them are masked. */
        const int oes = c->oes;
        for (int t = 0; t < NA; t++) {
            const int ilo = mode != MODE_S16 ? t : 2 * t, ihi = 2 * t + 1;
            const int np = npix - 16 * t < 16 ? npix - 16 * t : 16;
            const int ne = np * c->cout;
            uint8_t *o = out + (ptrdiff_t)16 * t * c->cout * oes;
            for (int e = 0, j = 0; e < ne; e += 16) {
                const __mmask16 k = ne - e >= 16 ? (__mmask16)0xFFFF
                                                 : (__mmask16)((1u << (ne - e)) - 1);
                const rqc q = rqc_load(R32, c, j);
                __m512i x = _mm512_add_epi32(_mm512_load_si512(cbuf[ilo] + e),
                                             _mm512_load_si512(c->acc0 + 16 * j));
                if (mode == MODE_S16)
                    x = _mm512_add_epi32(x, _mm512_slli_epi32(
                                                _mm512_load_si512(cbuf[ihi] + e), 8));
                store16(o + (ptrdiff_t)e * oes, c->out_type, k, rqc_apply(R32, &q, x));
                if (++j == c->npat)
                    j = 0;
            }
        }
        return;
    }
    const int tail = c->cout - (c->nblk - 1) * 16; /* 1..16 channels in the last block */
    const ptrdiff_t opx = (ptrdiff_t)c->cout * c->oes;
    for (int j = 0; j < NB; j++) {
        const int blk = b0 + j;
        const __mmask16 k = blk == c->nblk - 1 ? (__mmask16)((1u << tail) - 1)
                                               : (__mmask16)0xFFFF;
        const rqc q = rqc_load(R32, c, blk);
        const __m512i a0 = _mm512_load_si512(c->acc0 + blk * 16);
        uint8_t *o = out + (ptrdiff_t)blk * 16 * c->oes;
        for (int t = 0; t < NA; t++) {
            /* The accumulators of group t, block j (see step()). */
            const int ilo = mode != MODE_S16 ? t * NB + j : NB == 2 ? j : 2 * t;
            const int ihi = NB == 2 ? 2 + j : 2 * t + 1;
            const int np = npix - 16 * t < 16 ? npix - 16 * t : 16;
            for (int p = 0; p < np; p++) {
                __m512i x = _mm512_add_epi32(_mm512_load_si512(cbuf[ilo] + 16 * p), a0);
                if (mode == MODE_S16)
                    x = _mm512_add_epi32(x, _mm512_slli_epi32(
                                                _mm512_load_si512(cbuf[ihi] + 16 * p), 8));
                store16(o + (16 * t + p) * opx, c->out_type, k, rqc_apply(R32, &q, x));
            }
        }
    }
}

/* One step: NA groups of 16 pixels x NB blocks of 16 channels, in the
 * accumulator tiles tmm0-3 (so NA * NB <= 4, and <= 2 for MODE_S16 whose
 * groups take two: low and high plane).  Tiles per shape (A: tmm4, 5 and
 * with NB = 1 also tmm7; B: tmm6, 7):
 *   NB = 2, u8/s8:  C[a][j] = tmm(2a + j), a < 2;
 *   NB = 1, u8/s8:  C[a] = tmm(a), a < 4 (A of groups 0-3: tmm4, 5, 7, 4);
 *   NB = 2, s16:    low C[j] = tmm(j), high tmm(2 + j), one group;
 *   NB = 1, s16:    group a: low tmm(2a), high tmm(2a + 1), a < 2 (A low /
 *                   high: tmm4 / 5, then tmm7 / 4).
 * rows[r], r < krows: the first pixel's run in the staged row (plane) of
 * the r-th kernel row the step sums (rows[r] + x * ps); w: the pair's B
 * tiles of the first of them; out: output pixel x, channel 0; npix:
 * pixels of the step that exist (> 16 (NA - 1)).  The accumulators start
 * at 0, or (accin) at the partial sums of earlier kernel rows, and go to
 * accout (partial: returns) or to the epilogue (accout NULL). */
ALWAYS_INLINE void step(const int NA, const int NB, const int mode, const nl_x86_conv *c,
                        const uint8_t *const *rows, int krows, ptrdiff_t ps, const uint8_t *w,
                        int b0, uint8_t *out, int npix, int32_t (*cbuf)[256],
                        const int32_t (*accin)[256], int32_t (*accout)[256])
{
    const int nacc = mode == MODE_S16 ? 2 * NA * NB : NA * NB;
    const int sg = mode == MODE_S8;
    if (accin) {
        _tile_loadd(0, accin[0], 64);
        if (nacc > 1)
            _tile_loadd(1, accin[1], 64);
        if (nacc > 2)
            _tile_loadd(2, accin[2], 64);
        if (nacc > 3)
            _tile_loadd(3, accin[3], 64);
    } else {
        _tile_zero(0);
        if (nacc > 1)
            _tile_zero(1);
        if (nacc > 2)
            _tile_zero(2);
        if (nacc > 3)
            _tile_zero(3);
    }
    const int nck = c->nck;
    const ptrdiff_t hb = c->plane_bytes, g16 = 16 * ps;
    for (int ky = 0; ky < krows; ky++) {
        const uint8_t *a = rows[ky];
        const uint8_t *b = w + (size_t)ky * (size_t)nck * (size_t)NB * 1024;
        for (int ch = 0; ch < nck; ch++, a += 64, b += NB * 1024) {
            _tile_loadd(6, b, 64);
            if (NB == 2) {
                _tile_loadd(7, b + 1024, 64);
                _tile_loadd(4, a, ps);
                if (mode == MODE_S16) {
                    _tile_loadd(5, a + hb, ps);
                    _tile_dpbusd(0, 4, 6);
                    _tile_dpbusd(1, 4, 7);
                    _tile_dpbssd(2, 5, 6);
                    _tile_dpbssd(3, 5, 7);
                } else {
                    DP(sg, 0, 4, 6);
                    DP(sg, 1, 4, 7);
                    if (NA > 1) {
                        _tile_loadd(5, a + g16, ps);
                        DP(sg, 2, 5, 6);
                        DP(sg, 3, 5, 7);
                    }
                }
            } else if (mode == MODE_S16) {
                _tile_loadd(4, a, ps);
                _tile_loadd(5, a + hb, ps);
                _tile_dpbusd(0, 4, 6);
                _tile_dpbssd(1, 5, 6);
                if (NA > 1) {
                    _tile_loadd(7, a + g16, ps);
                    _tile_dpbusd(2, 7, 6);
                    _tile_loadd(4, a + g16 + hb, ps);
                    _tile_dpbssd(3, 4, 6);
                }
            } else {
                _tile_loadd(4, a, ps);
                DP(sg, 0, 4, 6);
                if (NA > 1) {
                    _tile_loadd(5, a + g16, ps);
                    DP(sg, 1, 5, 6);
                }
                if (NA > 2) {
                    _tile_loadd(7, a + 2 * g16, ps);
                    DP(sg, 2, 7, 6);
                }
                if (NA > 3) {
                    _tile_loadd(4, a + 3 * g16, ps);
                    DP(sg, 3, 4, 6);
                }
            }
        }
    }
    if (accout) {
        _tile_stored(0, accout[0], 64);
        if (nacc > 1)
            _tile_stored(1, accout[1], 64);
        if (nacc > 2)
            _tile_stored(2, accout[2], 64);
        if (nacc > 3)
            _tile_stored(3, accout[3], 64);
        return;
    }
    /* Rows of cout int32 with packed accumulators (npat), else 16. */
    const int crow = NB == 1 && c->npat ? 4 * c->cout : 64;
    _tile_stored(0, cbuf[0], crow);
    if (nacc > 1)
        _tile_stored(1, cbuf[1], crow);
    if (nacc > 2)
        _tile_stored(2, cbuf[2], crow);
    if (nacc > 3)
        _tile_stored(3, cbuf[3], crow);

    if (c->rq32)
        epilogue(NA, NB, mode, 1, c, b0, out, npix, cbuf);
    else
        epilogue(NA, NB, mode, 0, c, b0, out, npix, cbuf);
}

typedef void (*step_fn)(const nl_x86_conv *c, const uint8_t *const *rows, int krows,
                        ptrdiff_t ps, const uint8_t *w, int b0, uint8_t *out, int npix,
                        int32_t (*cbuf)[256], const int32_t (*accin)[256],
                        int32_t (*accout)[256]);

/* The step shapes, pixels x channels.  Names: type, op, tile, ISA. */
#define STEP_FN(name, NA, NB, mode)                                                            \
    static void name(const nl_x86_conv *c, const uint8_t *const *rows, int krows, ptrdiff_t ps, \
                     const uint8_t *w, int b0, uint8_t *out, int npix, int32_t (*cbuf)[256],   \
                     const int32_t (*accin)[256], int32_t (*accout)[256])                      \
    {                                                                                          \
        step(NA, NB, mode, c, rows, krows, ps, w, b0, out, npix, cbuf, accin, accout);         \
    }
STEP_FN(nl_conv_tile_u8s8_16x32_amx, 1, 2, MODE_U8)
STEP_FN(nl_conv_tile_u8s8_32x32_amx, 2, 2, MODE_U8)
STEP_FN(nl_conv_tile_u8s8_16x16_amx, 1, 1, MODE_U8)
STEP_FN(nl_conv_tile_u8s8_32x16_amx, 2, 1, MODE_U8)
STEP_FN(nl_conv_tile_u8s8_48x16_amx, 3, 1, MODE_U8)
STEP_FN(nl_conv_tile_u8s8_64x16_amx, 4, 1, MODE_U8)
STEP_FN(nl_conv_tile_s8s8_16x32_amx, 1, 2, MODE_S8)
STEP_FN(nl_conv_tile_s8s8_32x32_amx, 2, 2, MODE_S8)
STEP_FN(nl_conv_tile_s8s8_16x16_amx, 1, 1, MODE_S8)
STEP_FN(nl_conv_tile_s8s8_32x16_amx, 2, 1, MODE_S8)
STEP_FN(nl_conv_tile_s8s8_48x16_amx, 3, 1, MODE_S8)
STEP_FN(nl_conv_tile_s8s8_64x16_amx, 4, 1, MODE_S8)
STEP_FN(nl_conv_tile_s16s8_16x32_amx, 1, 2, MODE_S16)
STEP_FN(nl_conv_tile_s16s8_16x16_amx, 1, 1, MODE_S16)
STEP_FN(nl_conv_tile_s16s8_32x16_amx, 2, 1, MODE_S16)

/* [mode][NB - 1][NA - 1]: pixel groups per step up to 4 / NB (MODE_S16:
 * 2 / NB). */
static const step_fn steps[3][2][4] = {
    { { nl_conv_tile_u8s8_16x16_amx, nl_conv_tile_u8s8_32x16_amx, nl_conv_tile_u8s8_48x16_amx,
        nl_conv_tile_u8s8_64x16_amx },
      { nl_conv_tile_u8s8_16x32_amx, nl_conv_tile_u8s8_32x32_amx, NULL, NULL } },
    { { nl_conv_tile_s8s8_16x16_amx, nl_conv_tile_s8s8_32x16_amx, nl_conv_tile_s8s8_48x16_amx,
        nl_conv_tile_s8s8_64x16_amx },
      { nl_conv_tile_s8s8_16x32_amx, nl_conv_tile_s8s8_32x32_amx, NULL, NULL } },
    { { nl_conv_tile_s16s8_16x16_amx, nl_conv_tile_s16s8_32x16_amx, NULL, NULL },
      { nl_conv_tile_s16s8_16x32_amx, NULL, NULL, NULL } },
};

/* n elements at s -> staged: S16: low bytes at dl, high at dh; else bytes
 * at dl. */
ALWAYS_INLINE void stage_part(const int S16, const uint8_t *s, size_t n, uint8_t *dl,
                              uint8_t *dh)
{
    size_t i = 0;
    if (S16) {
        const int16_t *p = (const int16_t *)s;
        /* 64 samples at a time: each 128-bit lane's low and high bytes
         * gathered into its qwords (vpshufb), the qwords of both vectors
         * sorted into 64 low and 64 high bytes (vpermt2q). */
        const __m512i split = _mm512_broadcast_i32x4(
            _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
        const __m512i qlo = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
        const __m512i qhi = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
        for (; i + 64 <= n; i += 64) {
            const __m512i v0 = _mm512_shuffle_epi8(_mm512_loadu_si512(p + i), split);
            const __m512i v1 = _mm512_shuffle_epi8(_mm512_loadu_si512(p + i + 32), split);
            _mm512_storeu_si512(dl + i, _mm512_permutex2var_epi64(v0, qlo, v1));
            _mm512_storeu_si512(dh + i, _mm512_permutex2var_epi64(v0, qhi, v1));
        }
        for (; i + 32 <= n; i += 32) {
            __m512i v = _mm512_loadu_si512(p + i);
            _mm256_storeu_si256((__m256i *)(dl + i), _mm512_cvtepi16_epi8(v));
            _mm256_storeu_si256((__m256i *)(dh + i),
                                _mm512_cvtepi16_epi8(_mm512_srai_epi16(v, 8)));
        }
        if (i < n) {
            const __mmask32 k = ((__mmask32)1 << (n - i)) - 1; /* n - i < 32 */
            __m512i v = _mm512_maskz_loadu_epi16(k, p + i);
            _mm512_mask_cvtepi16_storeu_epi8(dl + i, k, v);
            _mm512_mask_cvtepi16_storeu_epi8(dh + i, k, _mm512_srai_epi16(v, 8));
        }
        return;
    }
    for (; i + 64 <= n; i += 64)
        _mm512_storeu_si512(dl + i, _mm512_loadu_si512(s + i));
    if (i < n) {
        const __mmask64 k = ((__mmask64)1 << (n - i)) - 1; /* n - i < 64 */
        _mm512_mask_storeu_epi8(dl + i, k, _mm512_maskz_loadu_epi8(k, s + i));
    }
}

/* s16 input row iy, columns ix0 .. ix0 + npx - 1 (any outside the
 * picture: 0) -> low bytes at lo, high bytes at hi, cin per pixel. */
static void stage_row_split(const nl_x86_conv *c, const nl_tensor *src, int iy, int ix0,
                            int npx, uint8_t *lo, uint8_t *hi)
{
    const size_t cin = (size_t)c->cin;
    if (iy < 0 || iy >= src->h) {
        memset(lo, 0, (size_t)npx * cin);
        memset(hi, 0, (size_t)npx * cin);
        return;
    }
    int a, b;
    nl_conv_row_span(ix0, npx, src->w, &a, &b);
    memset(lo, 0, (size_t)a * cin);
    memset(hi, 0, (size_t)a * cin);
    const int16_t *s = (const int16_t *)src->data + (ptrdiff_t)iy * src->stride +
                       (ptrdiff_t)(ix0 + a) * c->cin;
    stage_part(1, (const uint8_t *)s, (size_t)(b - a) * cin, lo + (size_t)a * cin,
               hi + (size_t)a * cin);
    memset(lo + (size_t)b * cin, 0, (size_t)(npx - b) * cin);
    memset(hi + (size_t)b * cin, 0, (size_t)(npx - b) * cin);
}

/* Staging from two sources (run2: the conv's input is the channel
 * concatenation of a and b, never formed).  A staged pixel is ca elements
 * of a then cb of b, es = 2 (s16, split into planes as above) or 1 (u8,
 * s8: as they are).
 *
 * Small parts (ca * es and cb * es below 64 bytes, both multiples of a
 * unit of U = 4 or 2 bytes) are interleaved with one vpermt2d / vpermt2w
 * of two loads per 64 staged bytes: with V = 64 / U units a vector and
 * nd = (ca + cb) * es / U units a pixel, a group of P = V / gcd(V, nd)
 * pixels is T = nd / gcd(V, nd) whole vectors, vector t taking its units
 * from V units of a at abase[t] and V units of b at bbase[t] (units from
 * the group's start; idx[t]: lane -> unit, b's from V).  A vector's units
 * of a are consecutive (the parts of b between them take none), and so are
 * b's, so each pair of loads covers them when they lie within V units (the
 * plan is refused otherwise).  Groups run whole while their loads stay
 * inside the rows and their stores before the staged run's end, the last
 * ones masked (pair_groups).  Other parts are copied pixel by pixel, part
 * by part (whole vectors, one masked). */
#define PAIR_TMAX 16

typedef struct pair_plan {
    int ca, cb;                  /* channels of a and b */
    int U, P, T;                 /* T = 0: part by part only */
    int abase[PAIR_TMAX], bbase[PAIR_TMAX];
    int areach, breach;          /* pixels past a group that its loads may read */
    union {
        int32_t d[PAIR_TMAX][16];
        int16_t w[PAIR_TMAX][32];
    } idx;
} pair_plan;

static void pair_plan_make(pair_plan *pl, int ca, int cb, int es)
{
    const int na = ca * es, nb = cb * es;
    memset(pl, 0, offsetof(pair_plan, idx));
    pl->ca = ca;
    pl->cb = cb;
    pl->U = na % 4 == 0 && nb % 4 == 0 ? 4 : na % 2 == 0 && nb % 2 == 0 ? 2 : 0;
    if (!pl->U || na >= 64 || nb >= 64)
        return;
    const int V = 64 / pl->U, na_u = na / pl->U, nb_u = nb / pl->U, nd_u = na_u + nb_u;
    int g = V, r = nd_u;
    while (r) {
        int t = g % r;
        g = r;
        r = t;
    }
    const int P = V / g, T = nd_u / g;
    if (T > PAIR_TMAX)
        return;
    int aover = 0, bover = 0;
    for (int t = 0; t < T; t++) {
        int amin = INT_MAX, amax = -1, bmin = INT_MAX, bmax = -1;
        for (int o = t * V; o < (t + 1) * V; o++) {
            const int x = o / nd_u, q = o % nd_u;
            const int u = q < na_u ? x * na_u + q : x * nb_u + q - na_u;
            if (q < na_u) {
                amin = u < amin ? u : amin;
                amax = u > amax ? u : amax;
            } else {
                bmin = u < bmin ? u : bmin;
                bmax = u > bmax ? u : bmax;
            }
        }
        if (amax - amin >= V || bmax - bmin >= V)
            return;
        pl->abase[t] = amax < 0 ? 0 : amin;
        pl->bbase[t] = bmax < 0 ? 0 : bmin;
        const int ao = pl->abase[t] + V - P * na_u, bo = pl->bbase[t] + V - P * nb_u;
        aover = ao > aover ? ao : aover;
        bover = bo > bover ? bo : bover;
        for (int o = t * V; o < (t + 1) * V; o++) {
            const int x = o / nd_u, q = o % nd_u;
            const int i = q < na_u ? x * na_u + q - pl->abase[t]
                                   : V + x * nb_u + q - na_u - pl->bbase[t];
            if (pl->U == 4)
                pl->idx.d[t][o - t * V] = i;
            else
                pl->idx.w[t][o - t * V] = (int16_t)i;
        }
    }
    pl->areach = (aover + na_u - 1) / na_u;
    pl->breach = (bover + nb_u - 1) / nb_u;
    pl->P = P;
    pl->T = T;
}

/* Vector t of a group: units from va (lanes < V) and vb by idx[t]. */
ALWAYS_INLINE __m512i pair_vec(const int U, const pair_plan *pl, int t, __m512i va, __m512i vb)
{
    return U == 4 ? _mm512_permutex2var_epi32(va, _mm512_loadu_si512(pl->idx.d[t]), vb)
                  : _mm512_permutex2var_epi16(va, _mm512_loadu_si512(pl->idx.w[t]), vb);
}

/* Staged elements of a group's vector t: S16 32 (low bytes at dl, high at
 * dh), else 64 bytes at dl; the first ne of them only when ne is below. */
ALWAYS_INLINE void pair_store(const int S16, __m512i v, uint8_t *dl, uint8_t *dh, ptrdiff_t ne)
{
    if (S16) {
        const __m256i vl = _mm512_cvtepi16_epi8(v);
        const __m256i vh = _mm512_cvtepi16_epi8(_mm512_srai_epi16(v, 8));
        if (ne >= 32) {
            _mm256_storeu_si256((__m256i *)dl, vl);
            _mm256_storeu_si256((__m256i *)dh, vh);
        } else {
            const __mmask32 k = ((__mmask32)1 << ne) - 1; /* 0 < ne < 32 */
            _mm256_mask_storeu_epi8(dl, k, vl);
            _mm256_mask_storeu_epi8(dh, k, vh);
        }
    } else if (ne >= 64) {
        _mm512_storeu_si512(dl, v);
    } else {
        _mm512_mask_storeu_epi8(dl, ((__mmask64)1 << ne) - 1, v); /* 0 < ne < 64 */
    }
}

/* Groups of staged pixels [x, x1), the rows' pixel x at ra (a) and rb
 * (b), the rows' last pixel before xr >= x1: whole while their stores stay
 * before x1 and their loads before xr (x + reach <= xr), then masked
 * (loads before xr, stores before x1). */
ALWAYS_INLINE void pair_groups(const int S16, const int U, const pair_plan *pl, const uint8_t *ra,
                               const uint8_t *rb, int x, int x1, int xr, size_t cin, uint8_t *dl,
                               uint8_t *dh)
{
    const int P = pl->P, T = pl->T, V = 64 / U, npl = S16 ? 32 : 64;
    const int reach = P + (pl->areach > pl->breach ? pl->areach : pl->breach);
    const ptrdiff_t na_u = (ptrdiff_t)pl->ca * (S16 ? 2 : 1) / U;
    const ptrdiff_t nb_u = (ptrdiff_t)pl->cb * (S16 ? 2 : 1) / U;
    const ptrdiff_t gstep = (ptrdiff_t)P * (ptrdiff_t)cin;
    /* S16, vectors t and t + 1 together: the low and high bytes of each
     * 128-bit lane gathered into its qwords (vpshufb), the qwords of both
     * vectors sorted into 64 low and 64 high bytes (vpermt2q). */
    const __m512i split = _mm512_broadcast_i32x4(
        _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
    const __m512i qlo = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i qhi = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    for (; x + P <= x1 && x + reach <= xr; x += P) {
        int t = 0;
        for (; S16 && t + 1 < T; t += 2) {
            const __m512i v0 = _mm512_shuffle_epi8(
                pair_vec(U, pl, t, _mm512_loadu_si512(ra + pl->abase[t] * U),
                         _mm512_loadu_si512(rb + pl->bbase[t] * U)), split);
            const __m512i v1 = _mm512_shuffle_epi8(
                pair_vec(U, pl, t + 1, _mm512_loadu_si512(ra + pl->abase[t + 1] * U),
                         _mm512_loadu_si512(rb + pl->bbase[t + 1] * U)), split);
            _mm512_storeu_si512(dl + 32 * t, _mm512_permutex2var_epi64(v0, qlo, v1));
            _mm512_storeu_si512(dh + 32 * t, _mm512_permutex2var_epi64(v0, qhi, v1));
        }
        for (; t < T; t++) {
            const __m512i va = _mm512_loadu_si512(ra + pl->abase[t] * U);
            const __m512i vb = _mm512_loadu_si512(rb + pl->bbase[t] * U);
            pair_store(S16, pair_vec(U, pl, t, va, vb), dl + npl * t, S16 ? dh + npl * t : NULL,
                       npl);
        }
        ra += P * na_u * U;
        rb += P * nb_u * U;
        dl += gstep;
        if (S16)
            dh += gstep;
    }
    for (; x < x1; x += P) {
        const ptrdiff_t na = (ptrdiff_t)(xr - x) * na_u, nb = (ptrdiff_t)(xr - x) * nb_u;
        const ptrdiff_t left = (ptrdiff_t)(x1 - x) * (ptrdiff_t)cin;
        for (int t = 0; t < T && left > (ptrdiff_t)npl * t; t++) {
            const ptrdiff_t ka = na - pl->abase[t], kb = nb - pl->bbase[t]; /* units left */
            const uint32_t ma = ka >= V ? (uint32_t)(((uint64_t)1 << V) - 1)
                                : ka <= 0 ? 0 : ((uint32_t)1 << ka) - 1;
            const uint32_t mb = kb >= V ? (uint32_t)(((uint64_t)1 << V) - 1)
                                : kb <= 0 ? 0 : ((uint32_t)1 << kb) - 1;
            const uint8_t *pa = ra + pl->abase[t] * U, *pb = rb + pl->bbase[t] * U;
            const __m512i va = U == 4 ? _mm512_maskz_loadu_epi32((__mmask16)ma, pa)
                                      : _mm512_maskz_loadu_epi16((__mmask32)ma, pa);
            const __m512i vb = U == 4 ? _mm512_maskz_loadu_epi32((__mmask16)mb, pb)
                                      : _mm512_maskz_loadu_epi16((__mmask32)mb, pb);
            pair_store(S16, pair_vec(U, pl, t, va, vb), dl + npl * t, S16 ? dh + npl * t : NULL,
                       left - (ptrdiff_t)npl * t);
        }
        ra += P * na_u * U;
        rb += P * nb_u * U;
        dl += gstep;
        if (S16)
            dh += gstep;
    }
}

/* Row iy of concat(a, b), columns ix0 .. ix0 + npx - 1 (outside the
 * picture: 0) -> staged pixels of ca + cb bytes at lo (S16: low bytes;
 * high bytes at hi). */
ALWAYS_INLINE void stage_row_pair_t(const int S16, const nl_x86_conv *c, const pair_plan *pl,
                                    const nl_tensor *a, const nl_tensor *b, int iy, int ix0,
                                    int npx, uint8_t *lo, uint8_t *hi)
{
    const size_t cin = (size_t)c->cin, es = S16 ? 2 : 1;
    const int ca = pl->ca, cb = pl->cb;
    if (iy < 0 || iy >= a->h) {
        memset(lo, 0, (size_t)npx * cin);
        if (S16)
            memset(hi, 0, (size_t)npx * cin);
        return;
    }
    int x0, x1; /* staged pixels [x0, x1) lie inside the picture */
    nl_conv_row_span(ix0, npx, a->w, &x0, &x1);
    memset(lo, 0, (size_t)x0 * cin);
    if (S16)
        memset(hi, 0, (size_t)x0 * cin);
    const ptrdiff_t pa = (ptrdiff_t)ca * (ptrdiff_t)es, pb = (ptrdiff_t)cb * (ptrdiff_t)es;
    const uint8_t *ra = (const uint8_t *)a->data + (ptrdiff_t)iy * a->stride * (ptrdiff_t)es +
                        (ptrdiff_t)(ix0 + x0) * pa;
    const uint8_t *rb = (const uint8_t *)b->data + (ptrdiff_t)iy * b->stride * (ptrdiff_t)es +
                        (ptrdiff_t)(ix0 + x0) * pb;
    uint8_t *dl = lo + (size_t)x0 * cin, *dh = S16 ? hi + (size_t)x0 * cin : NULL;
    if (pl->T == 0) {
        for (int x = x0; x < x1; x++, ra += pa, rb += pb, dl += cin, dh = S16 ? dh + cin : NULL) {
            stage_part(S16, ra, (size_t)ca, dl, dh);
            stage_part(S16, rb, (size_t)cb, dl + ca, S16 ? dh + ca : NULL);
        }
    } else if (pl->U == 4) {
        pair_groups(S16, 4, pl, ra, rb, x0, x1, a->w - ix0, cin, dl, dh);
    } else {
        pair_groups(S16, 2, pl, ra, rb, x0, x1, a->w - ix0, cin, dl, dh);
    }
    memset(lo + (size_t)x1 * cin, 0, (size_t)(npx - x1) * cin);
    if (S16)
        memset(hi + (size_t)x1 * cin, 0, (size_t)(npx - x1) * cin);
}

static void stage_row_pair(const nl_x86_conv *c, const pair_plan *pl, const nl_tensor *a,
                           const nl_tensor *b, int iy, int ix0, int npx, uint8_t *lo, uint8_t *hi)
{
    if (c->planes == 2)
        stage_row_pair_t(1, c, pl, a, b, iy, ix0, npx, lo, hi);
    else
        stage_row_pair_t(0, c, pl, a, b, iy, ix0, npx, lo, NULL);
}

/* Copies the runs of output pixels 0 .. n16 - 1 (64 nck bytes each, from
 * x * ps of the staged plane) to 64 nck x of the windowed plane. */
static void window_row(const nl_x86_conv *c, const uint8_t *src, ptrdiff_t ps, int n16,
                       uint8_t *dst)
{
    const int nck = c->nck;
    if (nck == 1) {
        for (int x = 0; x < n16; x++)
            _mm512_store_si512(dst + 64 * x, _mm512_loadu_si512(src + x * ps));
        return;
    }
    for (int x = 0; x < n16; x++, src += ps)
        for (int ch = 0; ch < nck; ch++, dst += 64)
            _mm512_store_si512(dst, _mm512_loadu_si512(src + 64 * ch));
}

/* Prefetches bytes [from, to) of a source row (clipped to its rowb bytes)
 * into L2, a line at a time. */
static inline __attribute__((always_inline)) void prefetch_span(const uint8_t *row,
                                                                ptrdiff_t from, ptrdiff_t to,
                                                                ptrdiff_t rowb)
{
    from = from < 0 ? 0 : from;
    to = to > rowb ? rowb : to;
    for (ptrdiff_t o = from; o < to; o += 64)
        _mm_prefetch((const char *)row + o, _MM_HINT_T1);
    if (from < to)
        _mm_prefetch((const char *)row + to - 1, _MM_HINT_T1);
}

/* The source bytes that output pixels x .. x + np - 1 of a chunk of n
 * (staged pixels from pf0, n_in of them) read, of each row pf[r] (of
 * source pfq[r]: bytes per pixel ipx, per output pixel ipxb, per row
 * rowb), prefetched into L2. */
ALWAYS_INLINE void prefetch_rows(const uint8_t *const *pf, const int *pfq, int npf, ptrdiff_t pf0,
                                 int x, int np, int n, int n_in, const ptrdiff_t *ipx,
                                 const ptrdiff_t *ipxb, const ptrdiff_t *rowb)
{
    for (int r = 0; r < npf; r++) {
        const int q = pfq[r];
        const ptrdiff_t o = pf0 * ipx[q];
        const ptrdiff_t end = x + np < n ? o + (x + np) * ipxb[q] : o + n_in * ipx[q];
        prefetch_span(pf[r], o + x * ipxb[q], end, rowb[q]);
    }
}

/* The driver: x-chunks, a ring of k staged rows (each `planes` planes),
 * pairs of channel blocks, steps of 16 to 64 pixels.  The input is src,
 * or (b not NULL) the channel concatenation of src and b. */
static void conv_run_amx_from(const nl_conv_plan *plan, const nl_tensor *src, const nl_tensor *b,
                              nl_tensor *dst, int y0, int y1)
{
    const nl_x86_conv *c = plan->priv;
    pair_plan pp;
    if (b) {
        assert(src->type == b->type && src->h == b->h && src->w == b->w &&
               src->c + b->c == c->cin && src->c >= 1 && b->c >= 1);
        pair_plan_make(&pp, src->c, b->c, c->planes);
    }
    _Alignas(64) uint8_t stage[NL_X86_STAGE_BYTES];
    _Alignas(64) int32_t cbuf[4][256];
    /* Partial sums of the kernel-row split (ksplit): in the stage, after
     * the ring. */
    int32_t(*const acc)[4][256] =
        (int32_t(*)[4][256])(stage + NL_X86_STAGE_BYTES - NL_X86_KSPLIT_BYTES);
    tilecfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    if (c->npat) /* under 16 channels: accumulators and B (tmm6) cout wide */
        for (int t = 0; t < 7; t++)
            if (t < 4 || t == 6)
                cfg.colsb[t] = (uint16_t)(4 * c->cout);
    _tile_loadconfig(&cfg);

    const int mode = c->planes == 2 ? MODE_S16 : plan->desc.in_type == NL_S8 ? MODE_S8 : MODE_U8;
    const int k = c->k, s = c->stride, pad = k / 2;
    /* k row slots of NL_X86_ROW_BYTES(k) (k = 1: the whole stage, one slot;
     * the others are never used and must not point past it); windowed: of
     * `planes` planes each, then the scratch planes. */
    const size_t slot_bytes = (size_t)c->planes * (size_t)c->plane_bytes;
    uint8_t *const ring[3] = { stage, k > 1 ? stage + slot_bytes : stage,
                               k > 1 ? stage + 2 * slot_bytes : stage };
    uint8_t *const scratch = stage + (size_t)k * slot_bytes;
    const ptrdiff_t ps = (ptrdiff_t)s * c->cin, opx = (ptrdiff_t)c->cout * c->oes;
    /* Bytes from one pixel's run to the next in the rows the tiles read. */
    const ptrdiff_t aps = c->window ? 64 * (ptrdiff_t)c->nck : ps;
    const size_t blk_bytes = (size_t)k * (size_t)c->nck * 1024;
    const int xblk = c->xblk;
    /* Per source (src, then b): its tensor, and its bytes of a pixel, of
     * a row and of an output pixel's stride. */
    const nl_tensor *const in[2] = { src, b };
    const int nin = b ? 2 : 1;
    const ptrdiff_t ies = (ptrdiff_t)nl_type_size(src->type);
    const ptrdiff_t pxb = ps * ies;
    ptrdiff_t ipx[2] = { (b ? src->c : c->cin) * ies, b ? b->c * ies : 0 }, rowb[2], ipxb[2];
    for (int q = 0; q < 2; q++) {
        rowb[q] = (ptrdiff_t)src->w * ipx[q];
        ipxb[q] = s * ipx[q];
    }
    for (int xa = 0; xa < dst->w; xa += c->chunk) {
        const int n = dst->w - xa < c->chunk ? dst->w - xa : c->chunk;
        const int n_in = (n - 1) * s + k;
        const int n16 = (n + 15) / 16 * 16;
        /* Bytes the A tiles of the chunk read from a plane; the pack's
         * chunk keeps them inside it (tile loads are invisible to ASan). */
        const size_t need = (size_t)((n16 - 1) * ps) + 64 * (size_t)c->nck;
        const size_t have = (size_t)n_in * (size_t)c->cin;
        if (c->window) {
            assert(need <= (size_t)c->scratch_bytes && have <= need);
            for (int pl = 0; pl < c->planes; pl++)
                memset(scratch + (size_t)pl * (size_t)c->scratch_bytes + have, 0, need - have);
        } else {
            assert(need <= (size_t)c->plane_bytes && have <= need);
            for (int r = 0; r < k; r++)
                for (int pl = 0; pl < c->planes; pl++)
                    memset(ring[r] + (size_t)pl * (size_t)c->plane_bytes + have, 0, need - have);
        }
        int held[3] = { INT_MIN, INT_MIN, INT_MIN };
        for (int y = y0; y < y1; y++) {
            const uint8_t *rows[3];
            for (int ky = 0; ky < k; ky++) {
                int iy = y * s - pad + ky;
                int slot = k == 1 ? 0 : (iy + 3) % 3; /* iy >= -1; k rows: distinct slots */
                if (held[slot] != iy) {
                    uint8_t *to = c->window ? scratch : ring[slot];
                    const size_t pb = c->window ? (size_t)c->scratch_bytes
                                                : (size_t)c->plane_bytes;
                    if (b)
                        stage_row_pair(c, &pp, src, b, iy, xa * s - pad, n_in, to, to + pb);
                    else if (mode == MODE_S16)
                        stage_row_split(c, src, iy, xa * s - pad, n_in, to, to + pb);
                    else
                        nl_x86_stage_row(c, src, iy, xa * s - pad, n_in, to, NULL);
                    if (c->window)
                        for (int pl = 0; pl < c->planes; pl++)
                            window_row(c, to + pl * pb, ps, n16,
                                       ring[slot] + (size_t)pl * (size_t)c->plane_bytes);
                    held[slot] = iy;
                }
                rows[ky] = ring[slot];
            }
            uint8_t *orow = (uint8_t *)dst->data +
                            ((ptrdiff_t)y * dst->stride + (ptrdiff_t)xa * c->cout) * c->oes;
            /* The source rows the next output row stages anew (at most
             * stride of them), prefetched step by step over the first
             * pair: the staging of a row then reads L2, not memory.  Only
             * with up to 64 source bytes per output pixel: measured to pay
             * on 12- and 16-channel layers at 960x544, to cost 4-5 % on
             * 96- and 192-channel ones (bench_checkasm shapes). */
            const uint8_t *pf[4];
            int pfq[4], npf = 0;
            if (y + 1 < y1 && pxb <= 64) {
                const int first = y * s - pad + k > (y + 1) * s - pad ? y * s - pad + k
                                                                      : (y + 1) * s - pad;
                for (int iy = first; iy <= (y + 1) * s - pad + k - 1 && npf < 2 * nin; iy++)
                    for (int q = 0; iy >= 0 && iy < src->h && q < nin; q++) {
                        pfq[npf] = q;
                        pf[npf++] = (const uint8_t *)in[q]->data +
                                    (ptrdiff_t)iy * in[q]->stride * ies;
                    }
            }
            const ptrdiff_t pf0 = (ptrdiff_t)xa * s - pad; /* first staged pixel */
            /* x-blocks of xblk pixels (pairs inside them: a block's staged
             * runs stay in L1 across the pairs), or the kernel-row split. */
            for (int xb = 0; !c->ksplit && xb < n; xb += xblk) {
                const int xe = n - xb < xblk ? n : xb + xblk;
                for (int b0 = 0; b0 < c->nblk; b0 += 2) {
                    const int nb = c->nblk - b0 < 2 ? 1 : 2;
                    const uint8_t *wt = c->w + (size_t)b0 * blk_bytes;
                    const int sp = 16 * ((mode == MODE_S16 ? 2 : 4) / nb);
                    for (int x = xb; x < xe; x += sp) {
                        const int np = xe - x < sp ? xe - x : sp;
                        const int na = (np + 15) / 16;
                        if (b0 == 0)
                            prefetch_rows(pf, pfq, npf, pf0, x, np, n, n_in, ipx, ipxb, rowb);
                        const uint8_t *rp[3] = { rows[0] + x * aps, rows[k > 1] + x * aps,
                                                 rows[k > 1 ? 2 : 0] + x * aps };
                        steps[mode][nb - 1][na - 1](c, rp, k, aps, wt, b0, orow + x * opx, np,
                                                    cbuf, NULL, NULL);
                    }
                }
            }
            for (int b0 = 0; c->ksplit && b0 < c->nblk; b0 += 2) {
                const int nb = c->nblk - b0 < 2 ? 1 : 2;
                const uint8_t *wt = c->w + (size_t)b0 * blk_bytes;
                const int sp = 16 * ((mode == MODE_S16 ? 2 : 4) / nb);
                /* Kernel row by kernel row over the chunk (at most
                 * NL_X86_KSPLIT_STEPS steps: the pack's chunk), the partial
                 * sums in acc: a kernel row's B tiles then serve every step
                 * from L1 instead of coming from L2 for each. */
                for (int ky = 0; ky < k; ky++) {
                    const uint8_t *wk = wt + (size_t)ky * (size_t)c->nck * (size_t)nb * 1024;
                    for (int x = 0, i = 0; x < n; x += sp, i++) {
                        const int np = n - x < sp ? n - x : sp;
                        const int na = (np + 15) / 16;
                        if (ky == 0 && b0 == 0)
                            prefetch_rows(pf, pfq, npf, pf0, x, np, n, n_in, ipx, ipxb, rowb);
                        const uint8_t *rp[1] = { rows[ky] + x * aps };
                        steps[mode][nb - 1][na - 1](c, rp, 1, aps, wk, b0, orow + x * opx, np,
                                                    cbuf,
                                                    ky ? (const int32_t(*)[256])acc[i] : NULL,
                                                    ky < k - 1 ? acc[i] : NULL);
                    }
                }
            }
        }
    }
    _tile_release();
}

static void conv_run_amx(const nl_conv_plan *plan, const nl_tensor *src, nl_tensor *dst, int y0,
                         int y1)
{
    conv_run_amx_from(plan, src, NULL, dst, y0, y1);
}

static void conv_run2_amx(const nl_conv_plan *plan, const nl_tensor *a, const nl_tensor *b,
                          nl_tensor *dst, int y0, int y1)
{
    conv_run_amx_from(plan, a, b, dst, y0, y1);
}

/* The prepare hook: the AMX form where it pays and fits, else the
 * AVX-512 kernel of the same entry (which may itself take its narrow
 * form). */
static int pack_amx(nl_conv_plan *p)
{
    static const char *const names[2][3] = {
        { "nl_conv1x1_u8s8_amx", "nl_conv1x1_s8s8_amx", "nl_conv1x1_s16s8_amx" },
        { "nl_conv3x3_u8s8_amx", "nl_conv3x3_s8s8_amx", "nl_conv3x3_s16s8_amx" },
    };
    /* s16 input with few taps per kernel row: mostly the epilogue and two
     * half-empty planes; the AVX-512 kernel measured faster on 1x1 with
     * cin < 24 (no windowed rows there), 3x3 with cin < 6 (3x3 s16 3->16
     * at 960x544: 3.4 against 3.9 ms), and 3x3 with cin 6-7 where its
     * narrow form applies (6->6: 2.7 against 2.9 ms); with windowed rows
     * AMX is the faster on 3x3 s16 6->16 (3.8 against 4.8 ms). */
    const nl_conv_desc *d = &p->desc;
    const int small_s16 = d->in_type == NL_S16 &&
                          (d->k == 1 ? d->cin < 24
                                     : d->cin < 6 || (d->cin < 8 && nl_x86_conv_narrow_ok(d, 2)));
    int ret = small_s16 ? NEUVC_ERR(ENOTSUP) : nl_x86_conv_pack_amx(p);
    if (ret != NEUVC_ERR(ENOTSUP)) {
        p->kern.name = names[p->desc.k == 3][p->desc.in_type];
        p->kern.run = conv_run_amx;
        p->run2 = ret == 0 ? conv_run2_amx : NULL;
        return ret;
    }
    nl_dsp avx512;
    memset(&avx512, 0, sizeof(avx512));
    nl_dsp_init_x86_avx512(&avx512);
    p->kern = *nl_dsp_conv_kernel(&avx512, &p->desc);
    return p->kern.pack(p);
}

void nl_dsp_init_x86_amx(nl_dsp *d)
{
    static const nl_conv_kernel kern = { "nl_conv_amx", pack_amx, conv_run_amx };
    for (int k = 0; k < 2; k++)
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < NL_DSP_NIN; i++)
                for (int o = 0; o < NL_NTYPES; o++)
                    d->conv[k][s][i][o] = kern;
}
