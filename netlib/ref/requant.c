/*
 * Reference requantization of a tensor, per channel c:
 *
 *   dst[y][x][c] = clamp(requant(src[y][x][c] + bias[c], mult[c], shift[c]), lo, hi)
 *
 * src and dst of any types and equal h, w, c; dst may be src itself (same
 * data, stride and type).  src + bias is formed in int64_t: |src| <= 2^31
 * and |bias| <= NL_BIAS_MAX give |x| < 3 * 2^30, the range the rounding rule
 * is proven for (netlib/ref/rounding.h).
 */
#include <assert.h>

#include "netlib/netlib.h"
#include "netlib/ref/elem.h"
#include "netlib/ref/rounding.h"

void nl_requant_ref(const nl_requant *rq, const nl_tensor *src, nl_tensor *dst,
                    int y0, int y1)
{
    assert(nl_tensor_ok(src) && nl_tensor_ok(dst));
    assert(nl_same_shape(src, dst));
    assert(nl_requant_check(rq, src->c, dst->type) == 0);
    assert(0 <= y0 && y0 <= y1 && y1 <= src->h);
    const int c = src->c;

    for (int y = y0; y < y1; y++) {
        for (int x = 0; x < src->w; x++) {
            for (int ch = 0; ch < c; ch++) {
                ptrdiff_t i = (ptrdiff_t)x * c + ch;
                int64_t v = (int64_t)nl_elem_load(nl_elem_ptr(src, y, i), src->type) +
                            (rq->bias ? rq->bias[ch] : 0);
                int32_t q = nl_round_requant(v, rq->mult[ch], rq->shift[ch], rq->lo, rq->hi);
                nl_elem_store(nl_elem_ptr(dst, y, i), dst->type, q);
            }
        }
    }
}
