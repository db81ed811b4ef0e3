/*
 * Motion compensation (common/mc.h, docs/motion.md).
 *
 * OBMC BY DUAL CELLS.  Block b = (bx, by) has the window [bx*n - n/2,
 * bx*n + 3n/2) x [by*n - n/2, by*n + 3n/2).  Cut the plane at the block
 * centres instead of the block edges: the "dual cell" (c, r), c in
 * [-1, wb - 1], r in [-1, hb - 1], is [c*n + n/2, c*n + 3n/2) x [r*n + n/2,
 * r*n + 3n/2) clipped to the plane.  Exactly four windows cover it, those
 * of blocks (c, r), (c+1, r), (c, r+1), (c+1, r+1), whose vectors come from
 * the field with indices clamped to it (the spec's edge repetition).  At
 * offset (u, v) inside the unclipped cell (0 <= u, v < n) a sample is at
 * window position t = n + u of the left block and t = u of the right one,
 * so by docs/motion.md its 1-D weights are
 *     left  w(n + u) = 4n - 1 - 2(n + u) = 2n - 1 - 2u,
 *     right w(u)     = 2u + 1,
 * and the same with v for top and bottom; each pair adds to 2n.  So each
 * output sample is computed once, from four n x n predictions, with no
 * accumulator plane; and where two of the four vectors are equal their
 * prediction is made once.  Where all four are equal the weighted sum is
 * (4n^2 * p + 2n^2) >> log2(4n^2) = p: the cell is one block prediction.
 *
 * The combination is evaluated as wt * (wl * p0 + wr * p1) + wb * (wl *
 * p2 + wr * p3), which equals sum_b w_b * pred_b exactly (integers).
 * Bounds: the inner sums are <= 2n * 255 = 8160, the outer one <= 4n^2 *
 * 255 = 261120 < 2^31; it is >= 0, and adding 2n^2 and shifting by
 * log2(4n^2) gives at most 255 (weights sum to 4n^2): no clamp needed.
 */
#include "common/mc.h"

#include <string.h>

#include "common/mcdsp.h"
#include "common/picture.h"

/* The spec's ">>" floors; gcc and clang shift negative ints arithmetically
 * (implementation-defined in C11, documented by both). */
_Static_assert((-5 >> 1) == -3, "neuvc needs an arithmetic right shift of negative ints");

const int8_t nv_mc_taps[NV_MC_PHASES][NV_MC_TAPS] = {
    { 0, 64, 0, 0 },
    { -2, 58, 10, -2 },
    { -4, 54, 16, -2 },
    { -6, 46, 28, -4 },
    { -4, 36, 36, -4 },
    { -4, 28, 46, -6 },
    { -2, 16, 54, -4 },
    { -2, 10, 58, -2 },
};

/* Rows and columns a prediction of bw x bh reads: one before, two after. */
#define EDGE_SIZE (NV_MC_MAX_PRED + NV_MC_TAPS - 1)

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static inline uint8_t clip_u8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* buf[j * EDGE_SIZE + i] = ref[clamp(y0 + j)][clamp(x0 + i)] for i < cw,
 * j < ch (cw, ch <= EDGE_SIZE): the edge-clamped source of a prediction
 * that reaches outside the plane. */
static void edge_fetch(uint8_t *buf, const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                       int x0, int y0, int cw, int ch)
{
    /* Columns [x0, x0 + cw) split into a part left of the plane (copies
     * of column 0), a part inside, and a part right of it (column w - 1);
     * any of them may be empty.  nl + nm + nr == cw. */
    int nl = clampi(-x0, 0, cw);
    int xm = clampi(x0 + nl, 0, w);             /* first inside column */
    int nm = clampi(w - xm, 0, cw - nl);
    int nr = cw - nl - nm;

    for (int j = 0; j < ch; j++) {
        const uint8_t *row = ref + (ptrdiff_t)clampi(y0 + j, 0, h - 1) * ref_stride;
        uint8_t *o = buf + j * EDGE_SIZE;
        if (nl)
            memset(o, row[0], (size_t)nl);
        if (nm)
            memcpy(o + nl, row + xm, (size_t)nm);
        if (nr)
            memset(o + nl + nm, row[w - 1], (size_t)nr);
    }
}

/* The four kernels below take src at the block's integer position
 * (ix, iy); they read src rows -1 .. bh + 1 and columns -1 .. bw + 1 (fewer
 * for phase 0).  They are always_inline so that the calls with a constant
 * bw (16, 8) get fixed-length inner loops the compiler vectorizes. */

#define MC_INLINE static inline __attribute__((always_inline))

/* Both phases 0: the reference samples. */
MC_INLINE void put_copy(uint8_t *restrict dst, ptrdiff_t ds, const uint8_t *restrict src,
                        ptrdiff_t ss, int bw, int bh)
{
    for (int j = 0; j < bh; j++)
        memcpy(dst + j * ds, src + j * ss, (size_t)bw);
}

/* Vertical phase 0: h[1] = 64 * H with H the 1-D filter sum, so the spec's
 * (64 * H + 2048) >> 12 == (H + 32) >> 6 (the factor 64 divides out of
 * the floor exactly). */
MC_INLINE void put_h(uint8_t *restrict dst, ptrdiff_t ds, const uint8_t *restrict src,
                     ptrdiff_t ss, int bw, int bh, const int8_t *t)
{
    const int t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3];

    for (int j = 0; j < bh; j++) {
        const uint8_t *s = src + j * ss;
        uint8_t *o = dst + j * ds;
        for (int i = 0; i < bw; i++) {
            /* in [-10 * 255, 74 * 255] */
            int v = t0 * s[i - 1] + t1 * s[i] + t2 * s[i + 1] + t3 * s[i + 2];
            o[i] = clip_u8((v + 32) >> 6);
        }
    }
}

/* Horizontal phase 0: h[j] = 64 * ref, the same argument as put_h. */
MC_INLINE void put_v(uint8_t *restrict dst, ptrdiff_t ds, const uint8_t *restrict src,
                     ptrdiff_t ss, int bw, int bh, const int8_t *t)
{
    const int t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3];

    for (int j = 0; j < bh; j++) {
        const uint8_t *s = src + j * ss;
        uint8_t *o = dst + j * ds;
        for (int i = 0; i < bw; i++) {
            int v = t0 * s[i - ss] + t1 * s[i] + t2 * s[i + ss] + t3 * s[i + 2 * ss];
            o[i] = clip_u8((v + 32) >> 6);
        }
    }
}

/* The general case, literally the spec: horizontal pass into int16 (h in
 * [-2550, 18870]) for rows -1 .. bh + 1, then the vertical sum (|sum| <
 * 2^21) rounded by 2048 and shifted by 12. */
MC_INLINE void put_hv(uint8_t *restrict dst, ptrdiff_t ds, const uint8_t *restrict src,
                      ptrdiff_t ss, int bw, int bh, const int8_t *th, const int8_t *tv)
{
    int16_t tmp[EDGE_SIZE * NV_MC_MAX_PRED];
    const int h0 = th[0], h1 = th[1], h2 = th[2], h3 = th[3];
    const int v0 = tv[0], v1 = tv[1], v2 = tv[2], v3 = tv[3];

    for (int j = 0; j < bh + 3; j++) {
        const uint8_t *s = src + (j - 1) * ss;
        int16_t *o = tmp + j * bw;
        for (int i = 0; i < bw; i++)
            o[i] = (int16_t)(h0 * s[i - 1] + h1 * s[i] + h2 * s[i + 1] + h3 * s[i + 2]);
    }
    if (ds == bw) {
        /* Contiguous output (the OBMC scratch): one loop over the block,
         * long enough to vectorize also for bw = 8. */
        for (int k = 0; k < bw * bh; k++) {
            int v = v0 * tmp[k] + v1 * tmp[k + bw] + v2 * tmp[k + 2 * bw] + v3 * tmp[k + 3 * bw];
            dst[k] = clip_u8((v + 2048) >> 12);
        }
        return;
    }
    for (int j = 0; j < bh; j++) {
        const int16_t *s = tmp + j * bw;
        uint8_t *o = dst + j * ds;
        for (int i = 0; i < bw; i++) {
            int v = v0 * s[i] + v1 * s[i + bw] + v2 * s[i + 2 * bw] + v3 * s[i + 3 * bw];
            o[i] = clip_u8((v + 2048) >> 12);
        }
    }
}

MC_INLINE void put_any(uint8_t *restrict dst, ptrdiff_t ds, const uint8_t *restrict src,
                       ptrdiff_t ss, int bw, int bh, int px, int py)
{
    if (!px && !py)
        put_copy(dst, ds, src, ss, bw, bh);
    else if (!py)
        put_h(dst, ds, src, ss, bw, bh, nv_mc_taps[px]);
    else if (!px)
        put_v(dst, ds, src, ss, bw, bh, nv_mc_taps[py]);
    else
        put_hv(dst, ds, src, ss, bw, bh, nv_mc_taps[px], nv_mc_taps[py]);
}

/* The C table's kernels (common/mcdsp.h): constant widths, and constant
 * heights for the square blocks the search and OBMC use (bh == W). */
#define PUT_C(op, W)                                                                     \
    static void put_##op##W##_c(uint8_t *dst, ptrdiff_t ds, const uint8_t *src,          \
                                ptrdiff_t ss, int bh, const int8_t *t)                   \
    {                                                                                    \
        if (bh == W)                                                                     \
            put_##op(dst, ds, src, ss, W, W, t);                                         \
        else                                                                             \
            put_##op(dst, ds, src, ss, W, bh, t);                                        \
    }
#define PUT_HV_C(W)                                                                      \
    static void put_hv##W##_c(uint8_t *dst, ptrdiff_t ds, const uint8_t *src,            \
                              ptrdiff_t ss, int bh, const int8_t *th, const int8_t *tv)  \
    {                                                                                    \
        if (bh == W)                                                                     \
            put_hv(dst, ds, src, ss, W, W, th, tv);                                      \
        else                                                                             \
            put_hv(dst, ds, src, ss, W, bh, th, tv);                                     \
    }
PUT_C(h, 8)
PUT_C(h, 16)
PUT_C(v, 8)
PUT_C(v, 16)
PUT_HV_C(8)
PUT_HV_C(16)
#undef PUT_C
#undef PUT_HV_C

/* The form compilers turn into psadbw. */
static uint32_t sad16_c(const uint8_t *a, ptrdiff_t as, const uint8_t *b, ptrdiff_t bs)
{
    uint32_t s = 0;
    for (int j = 0; j < 16; j++)
        for (int i = 0; i < 16; i++)
            s += (uint32_t)(a[j * as + i] > b[j * bs + i] ? a[j * as + i] - b[j * bs + i]
                                                          : b[j * bs + i] - a[j * as + i]);
    return s;
}

/* The prediction into a block on the stack, then its SAD. */
static uint32_t sadp_h16_c(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src, ptrdiff_t ss,
                           const int8_t *th, const int8_t *tv)
{
    uint8_t p[16 * 16];
    (void)tv;
    put_h(p, 16, src, ss, 16, 16, th);
    return sad16_c(cur, cs, p, 16);
}

static uint32_t sadp_v16_c(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src, ptrdiff_t ss,
                           const int8_t *th, const int8_t *tv)
{
    uint8_t p[16 * 16];
    (void)th;
    put_v(p, 16, src, ss, 16, 16, tv);
    return sad16_c(cur, cs, p, 16);
}

static uint32_t sadp_hv16_c(const uint8_t *cur, ptrdiff_t cs, const uint8_t *src, ptrdiff_t ss,
                            const int8_t *th, const int8_t *tv)
{
    uint8_t p[16 * 16];
    put_hv(p, 16, src, ss, 16, 16, th, tv);
    return sad16_c(cur, cs, p, 16);
}

static void obmc8_c(uint8_t *o, ptrdiff_t os, const uint8_t *p0, const uint8_t *p1,
                    const uint8_t *p2, const uint8_t *p3, ptrdiff_t ps);
static void obmc16_c(uint8_t *o, ptrdiff_t os, const uint8_t *p0, const uint8_t *p1,
                     const uint8_t *p2, const uint8_t *p3, ptrdiff_t ps);

static const nv_mcdsp mcdsp_c = {
    0, { put_h8_c, put_h16_c }, { put_v8_c, put_v16_c }, { put_hv8_c, put_hv16_c }, sad16_c,
    { sadp_h16_c, sadp_v16_c, sadp_hv16_c }, { obmc8_c, obmc16_c }, "nv_mc_c",
    nv_x6_pack_row_c, nv_x6_unpack_row_c,
};

void nv_mcdsp_init_c(nv_mcdsp *d)
{
    *d = mcdsp_c;
}

void nv_mc_pred_block(uint8_t *dst, ptrdiff_t dst_stride,
                      const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                      int x, int y, int bw, int bh, int mvx, int mvy, int chroma)
{
    nv_mc_pred_block_dsp(&mcdsp_c, dst, dst_stride, ref, ref_stride, w, h, x, y, bw, bh, mvx,
                         mvy, chroma);
}

void nv_mc_pred_block_dsp(const nv_mcdsp *d, uint8_t *dst, ptrdiff_t dst_stride,
                          const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                          int x, int y, int bw, int bh, int mvx, int mvy, int chroma)
{
    /* Luma: integer part mv >> 2, phase 2 * (mv & 3); chroma: mv >> 3 and
     * mv & 7.  (& on a negative int gives the non-negative remainder in
     * two's complement, matching the flooring >>.) */
    const int sh = chroma ? 3 : 2;
    const int px = chroma ? (mvx & 7) : (mvx & 3) << 1;
    const int py = chroma ? (mvy & 7) : (mvy & 3) << 1;
    /* |x|, |y| <= 2^16 and |mv >> sh| <= 2^13: no overflow. */
    const int ix = x + (mvx >> sh), iy = y + (mvy >> sh);
    uint8_t edge[EDGE_SIZE * EDGE_SIZE];
    const uint8_t *src;
    ptrdiff_t ss;

    if (bw < 1 || bh < 1 || bw > NV_MC_MAX_PRED || bh > NV_MC_MAX_PRED)
        return;                                 /* outside the contract: nothing */
    if (ix >= 1 && iy >= 1 && ix + bw + 2 <= w && iy + bh + 2 <= h) {
        src = ref + (ptrdiff_t)iy * ref_stride + ix;
        ss = ref_stride;
    } else {
        edge_fetch(edge, ref, ref_stride, w, h, ix - 1, iy - 1, bw + 3, bh + 3);
        src = edge + EDGE_SIZE + 1;
        ss = EDGE_SIZE;
    }
    /* The table's kernels for the widths OBMC and the search use. */
    if ((bw == 16 || bw == 8) && (px || py)) {
        const int i = bw == 16;
        if (!py)
            d->put_h[i](dst, dst_stride, src, ss, bh, nv_mc_taps[px]);
        else if (!px)
            d->put_v[i](dst, dst_stride, src, ss, bh, nv_mc_taps[py]);
        else
            d->put_hv[i](dst, dst_stride, src, ss, bh, nv_mc_taps[px], nv_mc_taps[py]);
    } else if (bw == 16) {
        put_copy(dst, dst_stride, src, ss, 16, bh);
    } else if (bw == 8) {
        put_copy(dst, dst_stride, src, ss, 8, bh);
    } else {
        put_any(dst, dst_stride, src, ss, bw, bh, px, py);
    }
}

uint32_t nv_mc_sad16_pred_dsp(const nv_mcdsp *d, const uint8_t *cur, ptrdiff_t cur_stride,
                              const uint8_t *ref, ptrdiff_t ref_stride, int w, int h, int x,
                              int y, int mvx, int mvy)
{
    /* nv_mc_pred_block_dsp's positions and source, for bw = bh = 16. */
    const int px = (mvx & 3) << 1, py = (mvy & 3) << 1;
    const int ix = x + (mvx >> 2), iy = y + (mvy >> 2);
    uint8_t edge[EDGE_SIZE * EDGE_SIZE];
    const uint8_t *src;
    ptrdiff_t ss;

    if (!px && !py && ix >= 0 && iy >= 0 && ix + 16 <= w && iy + 16 <= h)
        return d->sad16(cur, cur_stride, ref + (ptrdiff_t)iy * ref_stride + ix, ref_stride);
    if (ix >= 1 && iy >= 1 && ix + 16 + 2 <= w && iy + 16 + 2 <= h) {
        src = ref + (ptrdiff_t)iy * ref_stride + ix;
        ss = ref_stride;
    } else {
        edge_fetch(edge, ref, ref_stride, w, h, ix - 1, iy - 1, 16 + 3, 16 + 3);
        src = edge + EDGE_SIZE + 1;
        ss = EDGE_SIZE;
    }
    if (!px && !py)
        return d->sad16(cur, cur_stride, src, ss);
    return d->sadp[!py ? 0 : !px ? 1 : 2](cur, cur_stride, src, ss, nv_mc_taps[px],
                                          nv_mc_taps[py]);
}

void nv_mc_pred_plane_blocks(uint8_t *dst, ptrdiff_t dst_stride,
                             const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                             const nv_mv *mvs, ptrdiff_t mv_stride, int chroma)
{
    const int n = nv_mc_block_size(chroma);

    for (int by = 0; by < h / n; by++)
        for (int bx = 0; bx < w / n; bx++) {
            nv_mv v = mvs[by * mv_stride + bx];
            nv_mc_pred_block(dst + (ptrdiff_t)by * n * dst_stride + bx * n, dst_stride,
                             ref, ref_stride, w, h, bx * n, by * n, n, n, v.x, v.y, chroma);
        }
}

static inline int mv_eq(nv_mv a, nv_mv b)
{
    return a.x == b.x && a.y == b.y;
}

/* The weighted sum of one (clipped) dual cell: p0..p3 are the predictions
 * with the top-left, top-right, bottom-left and bottom-right vectors (bw x
 * bh, stride ps), u0, v0 the offset of the clipped area in the cell. */
MC_INLINE void obmc_combine(uint8_t *restrict o, ptrdiff_t os, const uint8_t *p0, const uint8_t *p1,
                            const uint8_t *p2, const uint8_t *p3, ptrdiff_t ps, int bw, int bh,
                            int u0, int v0, int n, int shift)
{
    const int round = 1 << (shift - 1);
    int16_t wl[NV_MC_LUMA_BLOCK], wr[NV_MC_LUMA_BLOCK];

    for (int i = 0; i < bw; i++) {
        wl[i] = (int16_t)(2 * n - 1 - 2 * (u0 + i));   /* [1, 2n - 1] */
        wr[i] = (int16_t)(2 * (u0 + i) + 1);
    }
    for (int j = 0; j < bh; j++) {
        const int wt = 2 * n - 1 - 2 * (v0 + j), wb = 2 * (v0 + j) + 1;
        const uint8_t *a = p0 + j * ps, *b = p1 + j * ps, *c = p2 + j * ps, *d = p3 + j * ps;
        uint8_t *out = o + j * os;
        for (int i = 0; i < bw; i++) {
            int top = wl[i] * a[i] + wr[i] * b[i];    /* <= 2n * 255 */
            int bot = wl[i] * c[i] + wr[i] * d[i];
            out[i] = (uint8_t)((wt * top + wb * bot + round) >> shift);
        }
    }
}

/* The table's whole-cell kernels (common/mcdsp.h): shift = log2(4 n^2),
 * 8 for chroma, 10 for luma; constant sizes. */
static void obmc8_c(uint8_t *o, ptrdiff_t os, const uint8_t *p0, const uint8_t *p1,
                    const uint8_t *p2, const uint8_t *p3, ptrdiff_t ps)
{
    obmc_combine(o, os, p0, p1, p2, p3, ps, 8, 8, 0, 0, 8, 8);
}

static void obmc16_c(uint8_t *o, ptrdiff_t os, const uint8_t *p0, const uint8_t *p1,
                     const uint8_t *p2, const uint8_t *p3, ptrdiff_t ps)
{
    obmc_combine(o, os, p0, p1, p2, p3, ps, 16, 16, 0, 0, 16, 10);
}

void nv_mc_obmc_rows(uint8_t *dst, ptrdiff_t dst_stride,
                     const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                     const nv_mv *mvs, ptrdiff_t mv_stride, int chroma, int y0, int y1)
{
    nv_mc_obmc_rows_dsp(&mcdsp_c, dst, dst_stride, ref, ref_stride, w, h, mvs, mv_stride, chroma,
                        y0, y1);
}

void nv_mc_obmc_rows_dsp(const nv_mcdsp *d, uint8_t *dst, ptrdiff_t dst_stride,
                         const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                         const nv_mv *mvs, ptrdiff_t mv_stride, int chroma, int y0, int y1)
{
    const int n = nv_mc_block_size(chroma), half = n / 2;
    const int wb = w / n, hb = h / n;
    uint8_t pbuf[4][NV_MC_LUMA_BLOCK * NV_MC_LUMA_BLOCK];

    if (y0 < 0)
        y0 = 0;
    if (y1 > h)
        y1 = h;
    if (y0 >= y1 || wb < 1 || hb < 1)
        return;
    /* Dual rows r cover [r*n + half, r*n + half + n): the first one
     * touching y0 is floor((y0 - half) / n) = (y0 + half) / n - 1 (y0 +
     * half >= 0, and n - half = half). */
    for (int r = (y0 + half) / n - 1; r <= (y1 - 1 + half) / n - 1; r++) {
        const int cy = r * n + half;
        const int ys = cy > y0 ? cy : y0, ye = cy + n < y1 ? cy + n : y1;
        const nv_mv *rt = mvs + (ptrdiff_t)clampi(r, 0, hb - 1) * mv_stride;
        const nv_mv *rb = mvs + (ptrdiff_t)clampi(r + 1, 0, hb - 1) * mv_stride;
        const int bh = ye - ys;

        for (int c = -1; c < wb; c++) {
            const int cx = c * n + half;
            const int xs = cx > 0 ? cx : 0, xe = cx + n < w ? cx + n : w;
            const int bw = xe - xs;
            const int bl = c > 0 ? c : 0, br = c + 1 < wb ? c + 1 : wb - 1;
            const nv_mv va = rt[bl], vb = rt[br], vc = rb[bl], vd = rb[br];
            uint8_t *o = dst + (ptrdiff_t)ys * dst_stride + xs;
            const uint8_t *p0, *p1, *p2, *p3;

            if (mv_eq(va, vb) && mv_eq(va, vc) && mv_eq(va, vd)) {
                nv_mc_pred_block_dsp(d, o, dst_stride, ref, ref_stride, w, h, xs, ys, bw, bh,
                                 va.x, va.y, chroma);
                continue;
            }
            nv_mc_pred_block_dsp(d, pbuf[0], n, ref, ref_stride, w, h, xs, ys, bw, bh, va.x, va.y, chroma);
            p0 = pbuf[0];
            if (mv_eq(vb, va)) {
                p1 = p0;
            } else {
                nv_mc_pred_block_dsp(d, pbuf[1], n, ref, ref_stride, w, h, xs, ys, bw, bh, vb.x, vb.y, chroma);
                p1 = pbuf[1];
            }
            if (mv_eq(vc, va)) {
                p2 = p0;
            } else if (mv_eq(vc, vb)) {
                p2 = p1;
            } else {
                nv_mc_pred_block_dsp(d, pbuf[2], n, ref, ref_stride, w, h, xs, ys, bw, bh, vc.x, vc.y, chroma);
                p2 = pbuf[2];
            }
            if (mv_eq(vd, va)) {
                p3 = p0;
            } else if (mv_eq(vd, vb)) {
                p3 = p1;
            } else if (mv_eq(vd, vc)) {
                p3 = p2;
            } else {
                nv_mc_pred_block_dsp(d, pbuf[3], n, ref, ref_stride, w, h, xs, ys, bw, bh, vd.x, vd.y, chroma);
                p3 = pbuf[3];
            }
            /* shift = log2(4 n^2): 8 for chroma, 10 for luma.  Whole
             * cells (all but the plane's edges) by the table's kernels. */
            if (bw == n && bh == n)
                d->obmc[!chroma](o, dst_stride, p0, p1, p2, p3, n);
            else
                obmc_combine(o, dst_stride, p0, p1, p2, p3, n, bw, bh, xs - cx, ys - cy, n, chroma ? 8 : 10);
        }
    }
}

void nv_mc_obmc_plane(uint8_t *dst, ptrdiff_t dst_stride,
                      const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                      const nv_mv *mvs, ptrdiff_t mv_stride, int chroma)
{
    nv_mc_obmc_rows(dst, dst_stride, ref, ref_stride, w, h, mvs, mv_stride, chroma, 0, h);
}

void nv_mc_obmc_picture(nv_picture *dst, const nv_picture *ref,
                        const nv_mv *mvs, ptrdiff_t mv_stride)
{
    for (int p = 0; p < 3; p++)
        nv_mc_obmc_plane(dst->data[p], dst->stride[p], ref->data[p], ref->stride[p],
                         ref->width[p], ref->height[p], mvs, mv_stride, p > 0);
}
