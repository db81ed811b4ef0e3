/*
 * Reference convolution: the definition of nl_conv's result.
 *
 *   out[y][x][o] = clamp(requant(acc + bias[o], mult[o], shift[o]), lo, hi)
 *   acc = sum over ky, kx in [0, k), i in [0, cin) of
 *         in[y * stride + ky - k/2][x * stride + kx - k/2][i]
 *         * weight[o][ky][kx][i]
 *
 * where in[][][] is zero outside the picture (pad k/2 = 0 or 1).  This is
 * cross-correlation (no kernel flip), as PyTorch's conv2d with
 * padding = k/2.  For stride 2 the output size (n + 1) / 2 is exactly
 * PyTorch's floor((n + 2*pad - k) / 2) + 1 for k = 1 and k = 3.
 *
 * Accumulator: a descriptor accepted by nl_conv_check() has
 * k*k*cin * max|sample * weight| < 2^30, so every partial sum of acc, in
 * any order, has |acc| < 2^30 and int32_t cannot overflow; acc + bias is
 * formed in int64_t (|acc + bias| < 2^31) and handed to the rounding rule.
 * s16 samples must lie in [-NL_S16_MAX, NL_S16_MAX] (every producer clamps
 * to it); the bound does not hold for samples outside it.
 *
 * MAC count: st->macs grows by the nominal count, k*k*cin per output
 * element of the computed rows, i.e. (y1 - y0) * w_out * cout * k*k*cin,
 * whether or not a tap falls on the zero padding (the figure the kMAC/px
 * budget of DESIGN.md counts, and what a SIMD kernel that multiplies the
 * padding also executes).
 */
#include <assert.h>

#include "netlib/netlib.h"
#include "netlib/ref/elem.h"
#include "netlib/ref/rounding.h"

/* Dot products of n samples with n weights; |result| < 2^30 by the bound. */
static int32_t dot_u8(const uint8_t *in, const int8_t *w, int n)
{
    int32_t acc = 0;
    for (int i = 0; i < n; i++)
        acc += (int32_t)in[i] * w[i];
    return acc;
}

static int32_t dot_s8(const int8_t *in, const int8_t *w, int n)
{
    int32_t acc = 0;
    for (int i = 0; i < n; i++)
        acc += (int32_t)in[i] * w[i];
    return acc;
}

static int32_t dot_s16(const int16_t *in, const int8_t *w, int n)
{
    int32_t acc = 0;
    for (int i = 0; i < n; i++)
        acc += (int32_t)in[i] * w[i];
    return acc;
}

/* Sample (iy, ix, 0) of src: its cin channels are contiguous. */
static int32_t dot_at(const nl_tensor *src, int iy, int ix, const int8_t *w, int cin)
{
    const void *p = nl_elem_ptr(src, iy, (ptrdiff_t)ix * cin);
    switch (src->type) {
    case NL_U8: return dot_u8(p, w, cin);
    case NL_S8: return dot_s8(p, w, cin);
    default: return dot_s16(p, w, cin);
    }
}

void nl_conv_ref(const nl_conv_desc *d, const nl_tensor *src, nl_tensor *dst,
                 int y0, int y1, nl_stats *st)
{
    assert(nl_conv_check(d) == 0);
    assert(nl_tensor_ok(src) && nl_tensor_ok(dst));
    assert(src->type == d->in_type && src->c == d->cin);
    const int k = d->k, stride = d->stride, pad = d->k / 2;
    const int cin = d->cin, cout = d->cout;
    const int h_out = nl_conv_out_size(src->h, stride);
    const int w_out = nl_conv_out_size(src->w, stride);
    assert(dst->type == d->out_type && dst->c == cout);
    assert(dst->h == h_out && dst->w == w_out);
    assert(0 <= y0 && y0 <= y1 && y1 <= h_out);
    (void)h_out;

    for (int y = y0; y < y1; y++) {
        for (int x = 0; x < w_out; x++) {
            for (int o = 0; o < cout; o++) {
                int32_t acc = 0;
                for (int ky = 0; ky < k; ky++) {
                    int iy = y * stride + ky - pad;
                    if (iy < 0 || iy >= src->h)
                        continue; /* zero padding contributes 0 */
                    for (int kx = 0; kx < k; kx++) {
                        int ix = x * stride + kx - pad;
                        if (ix < 0 || ix >= src->w)
                            continue;
                        const int8_t *w = d->weight +
                            (((ptrdiff_t)o * k + ky) * k + kx) * cin;
                        acc += dot_at(src, iy, ix, w, cin);
                    }
                }
                int64_t v = (int64_t)acc + (d->rq.bias ? d->rq.bias[o] : 0);
                int32_t q = nl_round_requant(v, d->rq.mult[o], d->rq.shift[o],
                                             d->rq.lo, d->rq.hi);
                nl_elem_store(nl_elem_ptr(dst, y, (ptrdiff_t)x * cout + o), dst->type, q);
            }
        }
    }
    if (st)
        st->macs += (uint64_t)(y1 - y0) * (uint64_t)w_out * (uint64_t)cout *
                    (uint64_t)(k * k) * (uint64_t)cin;
}
