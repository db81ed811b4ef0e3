/*
 * netlib: the INT8 neural-network runtime of neuvc.
 *
 * Tensors are HWC (channels interleaved, row-major) with a row stride given
 * in elements (>= w * c).  Element types: u8 (pixels, post-ReLU
 * activations), s8 (signed activations), s16 (latent-domain values), s32
 * (accumulators, rarely stored).  Quantization is symmetric: no zero
 * points anywhere, so a stored integer q means q * scale with a scale that
 * is known only to the exporter and folded into weights and multipliers.
 *
 * THE ROUNDING RULE (the only one in neuvc; every backend reproduces it):
 *
 *     requant(x, m, s) = (x * m + 2^(s-1)) >> s       (s >= 1)
 *                      =  x * m                        (s == 0)
 *
 * evaluated in 64-bit signed arithmetic, ">>" an arithmetic (flooring)
 * shift, i.e. round-half-up (towards +infinity) of x * m / 2^s, followed by
 * a clamp to [lo, hi].  Ranges: x is an int32 accumulator plus an int32
 * bias, computed in int64 (|x| < 2^32); 0 <= m < 2^31; 0 <= s <= 62.  So
 * |x * m| < 2^63 and no step overflows.
 *
 * Accumulator bound (why int32 cannot overflow in a convolution): one
 * product of an input sample and a weight is at most 255 * 128 = 32640
 * (u8/s8 input) or 4096 * 128 = 2^19 (s16 input, bounded to
 * [-4096, 4096] by NL_S16_MAX, clamped by every producer).  A convolution
 * sums k*k*cin products, and nl_conv_check() refuses descriptors where
 * k*k*cin * max_product >= 2^31 - 2^30 (the margin leaves room for the
 * bias, |bias| < 2^30): for u8/s8 that allows k*k*cin up to 32896
 * (3x3 with 3655 input channels), for s16 up to 2047 (3x3 with 227 input
 * channels, 1x1 with 2047).
 *
 * Padding: 3x3 convolutions read zero outside the picture (pad 1).  Stride
 * 2: output size (n + 1) / 2.  space-to-depth and depth-to-space use
 * PyTorch's pixel_unshuffle / pixel_shuffle channel order:
 *     channel c * r * r + i * r + j  <->  channel c at offset (i, j).
 */
#ifndef NEUVC_NETLIB_NETLIB_H
#define NEUVC_NETLIB_NETLIB_H

#include <stddef.h>
#include <stdint.h>

typedef enum nl_type {
    NL_U8 = 0,
    NL_S8 = 1,
    NL_S16 = 2,
    NL_S32 = 3,
    NL_NTYPES
} nl_type;

#define NL_S16_MAX 4096          /* |s16 activation| <= NL_S16_MAX */
#define NL_SHIFT_MAX 62
#define NL_BIAS_MAX ((1 << 30) - 1)

/* Size in bytes of one element. */
size_t nl_type_size(nl_type t);
/* Natural clamp range of a type (u8: 0..255, s8: -128..127,
 * s16: -NL_S16_MAX..NL_S16_MAX, s32: INT32_MIN..INT32_MAX). */
void nl_type_range(nl_type t, int32_t *lo, int32_t *hi);

/* A view of a tensor: data points at (0, 0, channel 0). */
typedef struct nl_tensor {
    void *data;
    int h, w, c;
    ptrdiff_t stride;            /* elements between rows, >= w * c */
    nl_type type;
} nl_tensor;

/* Per-output-channel requantization: out = clamp(requant(acc + bias[o],
 * mult[o], shift[o]), lo, hi).  bias may be NULL (zero). */
typedef struct nl_requant {
    const int32_t *bias;
    const int32_t *mult;
    const uint8_t *shift;
    int32_t lo, hi;
} nl_requant;

/* Convolution: k in {1, 3}, stride in {1, 2}, zero padding k / 2.
 * weight layout [cout][k][k][cin] (OHWI), int8 in [-127, 127]. */
typedef struct nl_conv_desc {
    int k, stride;
    int cin, cout;
    nl_type in_type, out_type;
    const int8_t *weight;
    nl_requant rq;
} nl_conv_desc;

/* Output size of a convolution along one axis. */
static inline int nl_conv_out_size(int n, int stride)
{
    return stride == 1 ? n : (n + 1) / 2;
}

/* 0 if the descriptor is valid and its accumulator provably fits int32,
 * a negative errno otherwise: NEUVC_ERR(EINVAL) for a field out of its
 * range (k, stride, cin, cout in [1, NL_CHANNELS_MAX], types, NULL arrays,
 * weights outside [-127, 127], the requantization per nl_requant_check()),
 * NEUVC_ERR(ERANGE) when every field is valid but k*k*cin * max_product >=
 * 2^30 (the accumulator bound above). */
int nl_conv_check(const nl_conv_desc *d);

/* Largest channel count of a descriptor (keeps every index in ptrdiff_t
 * and every per-channel array small). */
#define NL_CHANNELS_MAX 65536

/* 0 if the first c entries of rq are valid for an output of type out_type:
 * mult and shift non-NULL, 0 <= mult < 2^31, shift <= NL_SHIFT_MAX,
 * |bias| <= NL_BIAS_MAX (bias may be NULL), lo <= hi, both within
 * nl_type_range(out_type); NEUVC_ERR(EINVAL) otherwise. */
int nl_requant_check(const nl_requant *rq, int c, nl_type out_type);

/* Statistics: multiply-accumulates executed (for the kMAC/px counter). */
typedef struct nl_stats {
    uint64_t macs;
} nl_stats;

/* ------------------------------------------------------------------ ops
 * Reference implementations (netlib/ref).  Row-range forms compute output
 * rows [y0, y1) only, so callers may split a layer over threads; every
 * output element is a pure function of the inputs (no shared state except
 * the optional stats counter, which callers give per thread). */

/* dst (h_out x w_out x cout, type d->out_type) = conv(src) */
void nl_conv_ref(const nl_conv_desc *d, const nl_tensor *src, nl_tensor *dst,
                 int y0, int y1, nl_stats *st);

/* dst[y][x][c] = clamp(requant(src[y][x][c], mult[c], shift[c]), lo, hi)
 * (bias added before the multiply when non-NULL).  Types from the tensors. */
void nl_requant_ref(const nl_requant *rq, const nl_tensor *src, nl_tensor *dst,
                    int y0, int y1);

/* dst = clamp(requant(a * ma[c] + b * mb[c], 1, shift[c]), lo, hi):
 * element-wise sum of two tensors of equal h, w, c with per-channel
 * multipliers (0 <= ma, mb < 2^31; |a|,|b| <= 2^15 so the int64 sum cannot
 * overflow), then the rounding rule with the shared shift. */
typedef struct nl_add_desc {
    const int32_t *ma, *mb;
    const uint8_t *shift;
    int32_t lo, hi;
} nl_add_desc;
void nl_add_ref(const nl_add_desc *d, const nl_tensor *a, const nl_tensor *b,
                nl_tensor *dst, int y0, int y1);
/* 0 if the first c entries of d are valid for an output of type out_type:
 * arrays non-NULL, 0 <= ma, mb < 2^31, shift <= NL_SHIFT_MAX, lo <= hi
 * within nl_type_range(out_type); NEUVC_ERR(EINVAL) otherwise. */
int nl_add_check(const nl_add_desc *d, int c, nl_type out_type);

/* In-place clamp of every element to [lo, hi] (ReLU is lo = 0). */
void nl_clamp_ref(nl_tensor *t, int32_t lo, int32_t hi, int y0, int y1);

/* Space-to-depth by r (h, w multiples of r): dst is (h/r, w/r, c*r*r).
 * Output rows [y0, y1). */
void nl_s2d_ref(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1);
/* Depth-to-space by r (c multiple of r*r): dst is (h*r, w*r, c/(r*r)).
 * Output rows [y0, y1). */
void nl_d2s_ref(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1);
/* Channel concatenation: dst[..][0..a.c) = a, dst[..][a.c..a.c+b.c) = b;
 * a, b, dst of one type.  Output rows [y0, y1). */
void nl_concat_ref(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst, int y0, int y1);

#endif
