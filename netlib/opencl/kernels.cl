/*
 * netlib's OpenCL kernels: every op of netlib.h and the OBMC prediction of
 * docs/motion.md, bit-exact with netlib/ref and common/mc.c (the checker,
 * tests/test_opencl.c, compares every kernel with them).
 *
 * OpenCL C 1.2, full profile, no extension: 8/16/32-bit loads and stores
 * of global memory (byte-addressable stores are core since 1.1) and the
 * 64-bit "long", which the full profile requires (the host refuses an
 * embedded-profile device without cles_khr_int64).  No floats, no images,
 * no local memory.
 *
 * Layout on the device: the host's (netlib.h): HWC, channels interleaved,
 * rows dense (stride = w * c elements), one buffer per tensor.  Element
 * types are passed as nl_type codes (0 u8, 1 s8, 2 s16, 3 s32).
 *
 * Shifts: OpenCL C (6.3.j) defines ">>" of a negative signed value as
 * filling with ones, i.e. the flooring arithmetic shift the reference's
 * rounding rule uses; shift counts here are within [0, 62] for long and
 * [0, 12] for int, below the operand width, so no count is masked.
 */

/* nl_type codes */
#define T_U8 0
#define T_S8 1
#define T_S16 2
#define T_S32 3

static int ld(const __global uchar *p, int type, size_t i)
{
    switch (type) {
    case T_U8: return p[i];
    case T_S8: return ((const __global char *)p)[i];
    case T_S16: return ((const __global short *)p)[i];
    default: return ((const __global int *)p)[i];
    }
}

/* v within the range of type (the requantization clamp guarantees it). */
static void st(__global uchar *p, int type, size_t i, int v)
{
    switch (type) {
    case T_U8: p[i] = (uchar)v; break;
    case T_S8: ((__global char *)p)[i] = (char)v; break;
    case T_S16: ((__global short *)p)[i] = (short)v; break;
    default: ((__global int *)p)[i] = v; break;
    }
}

/* THE rounding rule (netlib/ref/rounding.h), in long: |x| < 2^47, 0 <= m
 * < 2^31, 0 <= s <= 62, so every step fits 64 bits as proven there. */
static int requant(long x, int m, int s, int lo, int hi)
{
    long v = x * (long)m;
    if (s > 0)
        v = (v + ((long)1 << (s - 1))) >> s;
    return v < lo ? lo : v > hi ? hi : (int)v;
}

/* ---------------------------------------------------------- convolution
 * One work item computes a tile of CONV_OB output channels by CONV_PX
 * consecutive output columns of one row: global size (ceil(cout / OB),
 * ceil(w_out / PX), h_out).  Weights are packed by the host as
 * [ky][kx][cin][cout8] (HWIO, cout padded with zero weights to a multiple
 * of OB, cout8), so one char8 load gives the weights of the tile's
 * channels for one input channel, used for all PX columns; each input
 * sample is used for all OB channels.  Taps outside the picture read a
 * clamped (valid) address and are multiplied by 0: the reference's zero
 * padding.  acc is the reference's int32 sum (|acc| < 2^30 by
 * nl_conv_check; integer addition in any order gives the same value).
 * Products of 8-bit samples are formed in 16 bits (TMUL short): |sample
 * * weight| <= 255 * 127 = 32385 < 2^15, exact; s16 samples (up to
 * NL_S16_MAX * 127 = 520192) multiply in 32 bits.
 * Columns and channels beyond the output are computed but not stored. */
#define CONV_OB 8
#define CONV_PX 4

/* Requantizes and stores the tile (acc[p]: column x0 + p, channels o0..). */
static void conv_store(const int8 *acc, __global uchar *dst, int x0, int y, int o0, int wo,
                       int cout, const __global int *bias, int has_bias,
                       const __global int *mult, const __global uchar *shift, int lo, int hi,
                       int out_type)
{
    for (int p = 0; p < CONV_PX; p++) {
        if (x0 + p >= wo)
            break;
        int a[CONV_OB];
        vstore8(acc[p], 0, a);
        const size_t base = ((size_t)y * wo + x0 + p) * cout;
        for (int j = 0; j < CONV_OB; j++) {
            const int o = o0 + j;
            if (o >= cout)
                break;
            const long v = (long)a[j] + (has_bias ? bias[o] : 0);
            st(dst, out_type, base + o, requant(v, mult[o], shift[o], lo, hi));
        }
    }
}

#define CONV_BODY(TIN, WVEC, CONVERT_W, TMUL)                                  \
    const int o0 = (int)get_global_id(0) * CONV_OB;                            \
    const int x0 = (int)get_global_id(1) * CONV_PX, y = (int)get_global_id(2); \
    if (o0 >= cout || x0 >= wo || y >= ho)                                     \
        return;                                                                \
    const int pad = k >> 1, cout8 = (cout + CONV_OB - 1) / CONV_OB * CONV_OB;  \
    int8 acc[CONV_PX];                                                         \
    for (int p = 0; p < CONV_PX; p++)                                          \
        acc[p] = (int8)(0);                                                    \
    for (int ky = 0; ky < k; ky++) {                                           \
        const int iy = y * stride + ky - pad;                                  \
        if (iy < 0 || iy >= h)                                                 \
            continue;                                                          \
        const __global TIN *row = src + (size_t)iy * w * cin;                  \
        for (int kx = 0; kx < k; kx++) {                                       \
            const __global TIN *s[CONV_PX];                                    \
            int m[CONV_PX];                                                    \
            for (int p = 0; p < CONV_PX; p++) {                                \
                const int ix = (x0 + p) * stride + kx - pad;                   \
                m[p] = ix >= 0 && ix < w;                                      \
                s[p] = row + (size_t)(ix < 0 ? 0 : ix >= w ? w - 1 : ix) * cin; \
            }                                                                  \
            const __global char *wp = wt + (size_t)(ky * k + kx) * cin * cout8 + o0; \
            for (int i = 0; i < cin; i++) {                                    \
                const WVEC wv = CONVERT_W(vload8(0, wp + (size_t)i * cout8));  \
                for (int p = 0; p < CONV_PX; p++)                              \
                    acc[p] += convert_int8(wv * (TMUL)((int)s[p][i] * m[p]));  \
            }                                                                  \
        }                                                                      \
    }                                                                          \
    conv_store(acc, dst, x0, y, o0, wo, cout, bias, has_bias, mult, shift, lo, hi, out_type);

__kernel void nl_conv_u8_cl(const __global uchar *src, int h, int w, int cin,
                            const __global char *wt, const __global int *bias, int has_bias,
                            const __global int *mult, const __global uchar *shift,
                            int k, int stride, int cout, int lo, int hi, int out_type,
                            __global uchar *dst, int ho, int wo)
{
    CONV_BODY(uchar, short8, convert_short8, short)
}

__kernel void nl_conv_s8_cl(const __global char *src, int h, int w, int cin,
                            const __global char *wt, const __global int *bias, int has_bias,
                            const __global int *mult, const __global uchar *shift,
                            int k, int stride, int cout, int lo, int hi, int out_type,
                            __global uchar *dst, int ho, int wo)
{
    CONV_BODY(char, short8, convert_short8, short)
}

__kernel void nl_conv_s16_cl(const __global short *src, int h, int w, int cin,
                             const __global char *wt, const __global int *bias, int has_bias,
                             const __global int *mult, const __global uchar *shift,
                             int k, int stride, int cout, int lo, int hi, int out_type,
                             __global uchar *dst, int ho, int wo)
{
    CONV_BODY(short, int8, convert_int8, int)
}

/* ------------------------------------------------------- element-wise
 * One work item per element of a dense h x w x c tensor (n elements). */

/* dst = clamp(requant(src + bias[c], mult[c], shift[c]), lo, hi); dst may
 * be src (same type): every element is read before it is written by the
 * same work item only. */
__kernel void nl_requant_cl(const __global uchar *src, int src_type, __global uchar *dst,
                            int dst_type, int n, int c, const __global int *bias, int has_bias,
                            const __global int *mult, const __global uchar *shift, int lo, int hi)
{
    const int i = (int)get_global_id(0);
    if (i >= n)
        return;
    const int ch = i % c;
    const long x = (long)ld(src, src_type, i) + (has_bias ? bias[ch] : 0);
    st(dst, dst_type, i, requant(x, mult[ch], shift[ch], lo, hi));
}

/* dst = clamp(requant(a * ma[c] + b * mb[c], 1, shift[c]), lo, hi) */
__kernel void nl_add_cl(const __global uchar *a, int a_type, const __global uchar *b, int b_type,
                        __global uchar *dst, int dst_type, int n, int c,
                        const __global int *ma, const __global int *mb,
                        const __global uchar *shift, int lo, int hi)
{
    const int i = (int)get_global_id(0);
    if (i >= n)
        return;
    const int ch = i % c;
    const long sum = (long)ld(a, a_type, i) * ma[ch] + (long)ld(b, b_type, i) * mb[ch];
    st(dst, dst_type, i, requant(sum, 1, shift[ch], lo, hi));
}

/* dst = min(max(src, lo), hi), src and dst of one type (dst may be src). */
__kernel void nl_clamp_cl(const __global uchar *src, __global uchar *dst, int type, int n,
                          int lo, int hi)
{
    const int i = (int)get_global_id(0);
    if (i >= n)
        return;
    const int v = ld(src, type, i);
    st(dst, type, i, v < lo ? lo : v > hi ? hi : v);
}

/* Element copy of esize (1, 2 or 4) bytes: dst[di] = src[si]. */
static void copy_elem(const __global uchar *src, size_t si, __global uchar *dst, size_t di,
                      int esize)
{
    if (esize == 1)
        dst[di] = src[si];
    else if (esize == 2)
        ((__global ushort *)dst)[di] = ((const __global ushort *)src)[si];
    else
        ((__global uint *)dst)[di] = ((const __global uint *)src)[si];
}

/* Space-to-depth, PyTorch's pixel_unshuffle order: dst (dh, dw, sc*r*r),
 * dst[y][x][c*r*r + i*r + j] = src[y*r + i][x*r + j][c]; one work item
 * per dst element. */
__kernel void nl_s2d_cl(const __global uchar *src, int sw, int sc, __global uchar *dst, int dw,
                        int r, int esize, int n)
{
    const int e = (int)get_global_id(0);
    if (e >= n)
        return;
    const int dc = sc * r * r;
    const int ch = e % dc, pos = e / dc;
    const int x = pos % dw, y = pos / dw;
    const int c = ch / (r * r), i = ch % (r * r) / r, j = ch % r;
    copy_elem(src, ((size_t)(y * r + i) * sw + (x * r + j)) * sc + c, dst, e, esize);
}

/* Depth-to-space (pixel_shuffle): dst (dh, dw, dc) with dc = sc / (r*r),
 * dst[y*r + i][x*r + j][c] = src[y][x][c*r*r + i*r + j]. */
__kernel void nl_d2s_cl(const __global uchar *src, int sw, int sc, __global uchar *dst, int dw,
                        int r, int esize, int n)
{
    const int e = (int)get_global_id(0);
    if (e >= n)
        return;
    const int dc = sc / (r * r);
    const int c = e % dc, pos = e / dc;
    const int xo = pos % dw, yo = pos / dw;
    const int y = yo / r, i = yo % r, x = xo / r, j = xo % r;
    copy_elem(src, ((size_t)y * sw + x) * sc + (c * r + i) * r + j, dst, e, esize);
}

/* Channel concatenation: dst[p][0 .. ca) = a[p], dst[p][ca .. ca + cb) = b[p]. */
__kernel void nl_concat_cl(const __global uchar *a, int ca, const __global uchar *b, int cb,
                           __global uchar *dst, int esize, int n)
{
    const int e = (int)get_global_id(0);
    if (e >= n)
        return;
    const int dc = ca + cb;
    const int ch = e % dc, pos = e / dc;
    if (ch < ca)
        copy_elem(a, (size_t)pos * ca + ch, dst, e, esize);
    else
        copy_elem(b, (size_t)pos * cb + (ch - ca), dst, e, esize);
}

/* ----------------------------------------------------- OBMC (motion.md)
 * Per output sample, the formulas of common/mc.c: the dual cell (c, r)
 * holding (x, y), its four vectors (field indices clamped), each one's
 * interpolated prediction at (x, y), and the weighted sum with weights
 * 2n - 1 - 2u, 2u + 1 (and v).  Where all four vectors are equal the
 * weighted sum equals the single prediction (mc.c's proof), so no special
 * case is needed for bit-exactness. */

__constant char mc_taps[8][4] = {
    { 0, 64, 0, 0 },
    { -2, 58, 10, -2 },
    { -4, 54, 16, -2 },
    { -6, 46, 28, -4 },
    { -4, 36, 36, -4 },
    { -4, 28, 46, -6 },
    { -2, 16, 54, -4 },
    { -2, 10, 58, -2 },
};

static int refpx(const __global uchar *ref, int stride, int w, int h, int x, int y)
{
    x = x < 0 ? 0 : x > w - 1 ? w - 1 : x;
    y = y < 0 ? 0 : y > h - 1 ? h - 1 : y;
    return ref[(size_t)y * stride + x];
}

static int clip_u8(int v)
{
    return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* nv_mc_pred_block's sample at (x, y) with vector (mvx, mvy). */
static int mc_pred(const __global uchar *ref, int stride, int w, int h, int x, int y, int mvx,
                   int mvy, int chroma)
{
    const int sh = chroma ? 3 : 2;
    const int px = chroma ? (mvx & 7) : (mvx & 3) << 1;
    const int py = chroma ? (mvy & 7) : (mvy & 3) << 1;
    const int ix = x + (mvx >> sh), iy = y + (mvy >> sh);
    if (!px && !py)
        return refpx(ref, stride, w, h, ix, iy);
    if (!py) {
        int v = 0;
        for (int t = 0; t < 4; t++)
            v += mc_taps[px][t] * refpx(ref, stride, w, h, ix - 1 + t, iy);
        return clip_u8((v + 32) >> 6);
    }
    if (!px) {
        int v = 0;
        for (int t = 0; t < 4; t++)
            v += mc_taps[py][t] * refpx(ref, stride, w, h, ix, iy - 1 + t);
        return clip_u8((v + 32) >> 6);
    }
    int v = 0;
    for (int j = 0; j < 4; j++) {
        int hs = 0;                              /* in [-2550, 18870] */
        for (int t = 0; t < 4; t++)
            hs += mc_taps[px][t] * refpx(ref, stride, w, h, ix - 1 + t, iy - 1 + j);
        v += mc_taps[py][j] * hs;                /* |v| < 2^21 */
    }
    return clip_u8((v + 2048) >> 12);
}

/* The OBMC sample (x, y) of a w x h plane (multiples of n). */
static int obmc(const __global uchar *ref, int stride, int w, int h, const __global short *mvs,
                int mv_stride, int x, int y, int chroma)
{
    const int n = chroma ? 8 : 16, hn = n / 2, shift = chroma ? 8 : 10;
    const int wb = w / n, hb = h / n;
    const int c = (x + hn) / n - 1, r = (y + hn) / n - 1;
    const int u = x - (c * n + hn), v = y - (r * n + hn);
    const int bl = c > 0 ? c : 0, br = c + 1 < wb ? c + 1 : wb - 1;
    const int rt = r > 0 ? r : 0, rb = r + 1 < hb ? r + 1 : hb - 1;
    const __global short *ta = mvs + 2 * ((size_t)rt * mv_stride + bl);
    const __global short *tb = mvs + 2 * ((size_t)rt * mv_stride + br);
    const __global short *tc = mvs + 2 * ((size_t)rb * mv_stride + bl);
    const __global short *td = mvs + 2 * ((size_t)rb * mv_stride + br);
    const int p0 = mc_pred(ref, stride, w, h, x, y, ta[0], ta[1], chroma);
    const int p1 = mc_pred(ref, stride, w, h, x, y, tb[0], tb[1], chroma);
    const int p2 = mc_pred(ref, stride, w, h, x, y, tc[0], tc[1], chroma);
    const int p3 = mc_pred(ref, stride, w, h, x, y, td[0], td[1], chroma);
    const int wl = 2 * n - 1 - 2 * u, wr = 2 * u + 1;
    const int wt = 2 * n - 1 - 2 * v, wbt = 2 * v + 1;
    return (wt * (wl * p0 + wr * p1) + wbt * (wl * p2 + wr * p3) + (1 << (shift - 1))) >> shift;
}

/* OBMC of the three planes of a picture of luma size w x h (multiples of
 * 16), written packed as x6 (nv_x6_pack): one work item per x6 sample
 * (x, y), global size (w / 2, h / 2).  mvs: (x, y) int16 pairs, the
 * (w / 16) x (h / 16) field, mv_stride vectors per row. */
__kernel void nl_mc_obmc_x6_cl(const __global uchar *ry, int ys, const __global uchar *ru,
                               const __global uchar *rv, int cs, int w, int h,
                               const __global short *mvs, int mv_stride, __global uchar *x6)
{
    const int x = (int)get_global_id(0), y = (int)get_global_id(1);
    const int cw = w / 2, ch = h / 2;
    if (x >= cw || y >= ch)
        return;
    __global uchar *o = x6 + ((size_t)y * cw + x) * 6;
    o[0] = (uchar)obmc(ry, ys, w, h, mvs, mv_stride, 2 * x, 2 * y, 0);
    o[1] = (uchar)obmc(ry, ys, w, h, mvs, mv_stride, 2 * x + 1, 2 * y, 0);
    o[2] = (uchar)obmc(ry, ys, w, h, mvs, mv_stride, 2 * x, 2 * y + 1, 0);
    o[3] = (uchar)obmc(ry, ys, w, h, mvs, mv_stride, 2 * x + 1, 2 * y + 1, 0);
    o[4] = (uchar)obmc(ru, cs, cw, ch, mvs, mv_stride, x, y, 1);
    o[5] = (uchar)obmc(rv, cs, cw, ch, mvs, mv_stride, x, y, 1);
}
