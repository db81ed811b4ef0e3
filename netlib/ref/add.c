/*
 * Reference element-wise addition with per-channel multipliers:
 *
 *   dst[y][x][c] = clamp(requant(a[y][x][c] * ma[c] + b[y][x][c] * mb[c],
 *                                1, shift[c]), lo, hi)
 *
 * a and b are u8, s8 or s16 (|a|, |b| <= 2^15) of equal h, w, c; dst of
 * any type with the same h, w, c; dst may be a or b itself (same data,
 * stride and type).  The sum is formed in int64_t: |a * ma| < 2^15 * 2^31,
 * so |sum| < 2^47, inside the range of the rounding rule with m = 1.
 */
#include <assert.h>

#include "netlib/netlib.h"
#include "netlib/ref/elem.h"
#include "netlib/ref/rounding.h"

void nl_add_ref(const nl_add_desc *d, const nl_tensor *a, const nl_tensor *b,
                nl_tensor *dst, int y0, int y1)
{
    assert(nl_tensor_ok(a) && nl_tensor_ok(b) && nl_tensor_ok(dst));
    assert(a->type != NL_S32 && b->type != NL_S32);
    assert(nl_same_shape(a, b) && nl_same_shape(a, dst));
    assert(nl_add_check(d, a->c, dst->type) == 0);
    assert(0 <= y0 && y0 <= y1 && y1 <= a->h);
    const int c = a->c;

    for (int y = y0; y < y1; y++) {
        for (int x = 0; x < a->w; x++) {
            for (int ch = 0; ch < c; ch++) {
                ptrdiff_t i = (ptrdiff_t)x * c + ch;
                int64_t va = nl_elem_load(nl_elem_ptr(a, y, i), a->type);
                int64_t vb = nl_elem_load(nl_elem_ptr(b, y, i), b->type);
                int64_t sum = va * d->ma[ch] + vb * d->mb[ch];
                int32_t q = nl_round_requant(sum, 1, d->shift[ch], d->lo, d->hi);
                nl_elem_store(nl_elem_ptr(dst, y, i), dst->type, q);
            }
        }
    }
}
