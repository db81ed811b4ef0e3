/*
 * Reference channel concatenation:
 *
 *   dst[y][x][0 .. a.c)         = a[y][x][0 .. a.c)
 *   dst[y][x][a.c .. a.c + b.c) = b[y][x][0 .. b.c)
 *
 * a, b, dst of one type and equal h, w; no overlap.  Pure copy.
 */
#include <assert.h>
#include <string.h>

#include "netlib/netlib.h"
#include "netlib/ref/elem.h"

void nl_concat_ref(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst, int y0, int y1)
{
    assert(nl_tensor_ok(a) && nl_tensor_ok(b) && nl_tensor_ok(dst));
    assert(a->type == dst->type && b->type == dst->type);
    assert(a->h == dst->h && b->h == dst->h && a->w == dst->w && b->w == dst->w);
    assert(dst->c == a->c + b->c);
    assert(0 <= y0 && y0 <= y1 && y1 <= dst->h);
    const size_t es = (size_t)nl_elem_size(dst->type);

    for (int y = y0; y < y1; y++) {
        for (int x = 0; x < dst->w; x++) {
            memcpy(nl_elem_ptr(dst, y, (ptrdiff_t)x * dst->c),
                   nl_elem_ptr(a, y, (ptrdiff_t)x * a->c), (size_t)a->c * es);
            memcpy(nl_elem_ptr(dst, y, (ptrdiff_t)x * dst->c + a->c),
                   nl_elem_ptr(b, y, (ptrdiff_t)x * b->c), (size_t)b->c * es);
        }
    }
}
